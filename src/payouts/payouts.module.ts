import { Module } from '@nestjs/common';
import { ProgramsModule } from '../programs/programs.module';
import { BankAccountsService } from './bank-accounts.service';
import { BankAccountsController, PayoutsController } from './payouts.controller';
import { PayoutsService } from './payouts.service';

/** Bank details of payees, payables, payout batches, bank files and results (issue 15, docs/payouts.md). */
@Module({
  imports: [ProgramsModule],
  controllers: [BankAccountsController, PayoutsController],
  providers: [BankAccountsService, PayoutsService],
  exports: [BankAccountsService, PayoutsService],
})
export class PayoutsModule {}
