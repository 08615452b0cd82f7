import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/principal';
import { RunSettlementRequest, SettlementsQuery } from './merchants.dto';
import { SettlementService } from './settlement.service';

/** Settlement runs and payout files for finance (the daily job does the same on its own). */
@ApiTags('settlements')
@ApiBearerAuth()
@Controller('v1/settlements')
export class SettlementsController {
  constructor(private readonly settlement: SettlementService) {}

  @Post('run')
  @HttpCode(200)
  @Roles('finance_operator')
  run(@Body() body: RunSettlementRequest) {
    return this.settlement.settle(body?.businessDate);
  }

  @Get()
  @Roles('finance_operator', 'finance_approver', 'auditor')
  list(@Query() query: SettlementsQuery) {
    return this.settlement.list(query);
  }

  /** The payout CSV the bank receives for one business date. */
  @Get('payout-files/:date')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @Header('content-type', 'text/csv; charset=utf-8')
  payoutFile(@Param('date') date: string) {
    return this.settlement.payoutFile(date);
  }
}
