import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { CompliancePaymentRequest, ComplianceRequest } from './compliance.dto';
import { ComplianceService } from './compliance.service';

/** Once a fiscal year per compliant recipient, against an invoice (docs/compliance.md; Comedores Comunitarios). */
@ApiTags('payments on compliance')
@ApiBearerAuth()
@Controller('v1/beneficiaries')
export class ComplianceController {
  constructor(private readonly compliance: ComplianceService) {}

  /** The recipient complied with the rules this fiscal year (CC1); 409 record_exists for a second record. */
  @Post(':id/compliance')
  @Roles('program_officer')
  record(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ComplianceRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.compliance.recordCompliance(id, body, staff);
  }

  /** The payment against the invoice, in the window; 422 compliance_not_recorded / outside_payment_window, 409 already_paid. */
  @Post(':id/compliance-payment')
  @HttpCode(200)
  @Roles('finance_operator')
  @Idempotent()
  pay(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CompliancePaymentRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.compliance.pay(id, body, staff);
  }

  /** The compliance and payment of the fiscal year, with the payment window. */
  @Get(':id/compliance')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.compliance.get(id, staff);
  }
}
