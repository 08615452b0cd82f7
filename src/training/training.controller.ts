import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { InvoiceRequest, SupplierRequest, TrainingSupportRequest } from './training.dto';
import { TrainingService } from './training.service';

/** Training paid per hour to suppliers (docs/training.md; PACTyFP). */
@ApiTags('training suppliers')
@ApiBearerAuth()
@Controller('v1')
export class TrainingController {
  constructor(private readonly training: TrainingService) {}

  /** A supplier (Oferente de Capacitación) with its bank details; 409 supplier_exists for a second one with the RFC. */
  @Post('programs/:id/suppliers')
  @Roles('program_officer')
  supplier(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: SupplierRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.training.createSupplier(programId, body, staff);
  }

  /** A training support for a firm: the program's share and the firm's co-payment; 422 support_not_allowed past the caps. */
  @Post('programs/:id/training-supports')
  @Roles('program_officer')
  support(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: TrainingSupportRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.training.approveSupport(programId, body, staff);
  }

  /** The supplier's invoice: posts the program's share from the budget to the supplier's payable. */
  @Post('training-supports/:id/invoice')
  @HttpCode(200)
  @Roles('finance_operator')
  @Idempotent()
  invoice(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: InvoiceRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.training.recordInvoice(id, body, staff);
  }

  /** OPOCC and the 45-business-day payment term of every invoice. */
  @Get('programs/:id/training-supports/payment-indicator')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  indicator(@Param('id', new ParseUUIDPipe()) programId: string) {
    return this.training.paymentIndicator(programId);
  }
}
