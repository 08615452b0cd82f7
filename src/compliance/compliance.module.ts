import { Module } from '@nestjs/common';
import { BeneficiariesModule } from '../beneficiaries/beneficiaries.module';
import { PayoutsModule } from '../payouts/payouts.module';
import { ProgramsModule } from '../programs/programs.module';
import { ComplianceController } from './compliance.controller';
import { ComplianceService } from './compliance.service';

/** Payments once a fiscal year per compliant recipient, against an invoice (issue 18, docs/compliance.md). */
@Module({
  imports: [ProgramsModule, BeneficiariesModule, PayoutsModule],
  controllers: [ComplianceController],
  providers: [ComplianceService],
})
export class ComplianceModule {}
