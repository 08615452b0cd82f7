import { Module } from '@nestjs/common';
import { BeneficiariesModule } from '../beneficiaries/beneficiaries.module';
import { ProgramsModule } from '../programs/programs.module';
import { SweepsService } from './sweeps.service';
import { TreasuryController } from './treasury.controller';
import { TreasuryService } from './treasury.service';

/** Reintegros, remittances, card-collection records and the treasury sweeps (issue 6, docs/treasury.md). */
@Module({
  imports: [ProgramsModule, BeneficiariesModule],
  controllers: [TreasuryController],
  providers: [TreasuryService, SweepsService],
  exports: [TreasuryService, SweepsService],
})
export class TreasuryModule {}
