import { Module } from '@nestjs/common';
import { PayoutsModule } from '../payouts/payouts.module';
import { BeneficiariesModule } from '../beneficiaries/beneficiaries.module';
import { DisbursementsModule } from '../disbursements/disbursements.module';
import { ProgramsModule } from '../programs/programs.module';
import { SweepsService } from './sweeps.service';
import { TreasuryController } from './treasury.controller';
import { TreasuryService } from './treasury.service';

/** Reintegros, remittances, card-collection records and the treasury sweeps (issue 6, docs/treasury.md). */
@Module({
  imports: [ProgramsModule, BeneficiariesModule, DisbursementsModule, PayoutsModule],
  controllers: [TreasuryController],
  providers: [TreasuryService, SweepsService],
  exports: [TreasuryService, SweepsService],
})
export class TreasuryModule {}
