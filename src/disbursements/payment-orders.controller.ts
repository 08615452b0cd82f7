import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { CreatePaymentOrderRequest } from './cycles.dto';
import { PaymentOrdersService } from './payment-orders.service';

/** Payment orders: maker-checker payments for corrections and resolutions (docs/disbursements.md). */
@ApiTags('payment orders')
@ApiBearerAuth()
@Controller('v1/payment-orders')
export class PaymentOrdersController {
  constructor(private readonly orders: PaymentOrdersService) {}

  @Post()
  @Roles('finance_operator')
  @Idempotent()
  create(@Body() body: CreatePaymentOrderRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.orders.create(body, { userId: staff.userId, name: actorOf(staff) });
  }

  @Get(':id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.orders.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approve(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.orders.approve(id, { userId: staff.userId, name: actorOf(staff) });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('finance_operator', 'finance_approver')
  cancel(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.orders.cancel(id, { userId: staff.userId, name: actorOf(staff) });
  }
}
