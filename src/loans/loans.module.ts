import { Module } from '@nestjs/common';
import { PayoutsModule } from '../payouts/payouts.module';
import { ProgramsModule } from '../programs/programs.module';
import { LoansController } from './loans.controller';
import { LoansService } from './loans.service';

/** Loans and revolving funds (issue 16, docs/loans.md). */
@Module({
  imports: [ProgramsModule, PayoutsModule],
  controllers: [LoansController],
  providers: [LoansService],
  exports: [LoansService],
})
export class LoansModule {}
