import { Module } from '@nestjs/common';
import { BeneficiariesModule } from '../beneficiaries/beneficiaries.module';
import { ProgramsModule } from '../programs/programs.module';
import { ConditionalController } from './conditional.controller';
import { ConditionalService } from './conditional.service';

/** Conditional and variable benefits (issue 18, docs/conditional.md): attendance, events, obligations. */
@Module({
  imports: [ProgramsModule, BeneficiariesModule],
  controllers: [ConditionalController],
  providers: [ConditionalService],
  exports: [ConditionalService],
})
export class ConditionalModule {}
