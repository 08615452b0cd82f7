import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/principal';
import { RunSettlementRequest } from './merchants.dto';
import { parseLimit } from './merchants.rules';
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
  list(@Query('businessDate') businessDate?: string, @Query('merchantId') merchantId?: string, @Query('limit') limit?: string) {
    return this.settlement.list({ businessDate, merchantId, limit: parseLimit(limit) });
  }

  /** The payout CSV the bank receives for one business date. */
  @Get('payout-files/:date')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @Header('content-type', 'text/csv; charset=utf-8')
  payoutFile(@Param('date') date: string) {
    return this.settlement.payoutFile(date);
  }
}
