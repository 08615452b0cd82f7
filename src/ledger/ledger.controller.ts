import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/principal';
import { formatMoney } from '../common/money';
import { problems } from '../common/problem';
import { LedgerService } from './ledger.service';

@ApiTags('ledger')
@ApiBearerAuth()
@Controller('v1')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Get('accounts/:id')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  async account(@Param('id', new ParseUUIDPipe()) id: string) {
    const account = await this.ledger.findAccount(id);
    if (!account) throw problems.notFound('account');
    const b = await this.ledger.balance(id);
    return {
      ...account,
      balance: { posted: formatMoney(b.posted), pending: formatMoney(b.pending), available: formatMoney(b.available) },
    };
  }

  @Get('journal-entries/:id')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  async entry(@Param('id', new ParseUUIDPipe()) id: string) {
    const entry = await this.ledger.findEntry(id);
    if (!entry) throw problems.notFound('journal entry');
    return entry;
  }
}
