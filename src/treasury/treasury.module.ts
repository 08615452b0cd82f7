import { Module } from '@nestjs/common';
import { PayoutsModule } from '../payouts/payouts.module';
import { BeneficiariesModule } from '../beneficiaries/beneficiaries.module';
import { DisbursementsModule } from '../disbursements/disbursements.module';
import { ProgramsModule } from '../programs/programs.module';
import { GrantRecoveryController } from './grant-recovery.controller';
import { GrantRecoveryService } from './grant-recovery.service';
import { SweepsService } from './sweeps.service';
import { TreasuryController } from './treasury.controller';
import { TreasuryService } from './treasury.service';

/** Reintegros, remittances, card-collection records, the recovery of grant money and the treasury sweeps (docs/treasury.md, docs/grants.md). */
@Module({
  imports: [ProgramsModule, BeneficiariesModule, DisbursementsModule, PayoutsModule],
  controllers: [TreasuryController, GrantRecoveryController],
  providers: [TreasuryService, SweepsService, GrantRecoveryService],
  exports: [TreasuryService, SweepsService],
})
export class TreasuryModule {}
