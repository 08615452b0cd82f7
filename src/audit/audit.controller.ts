import { Controller, Get, Headers, Param, ParseUUIDPipe, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { csvStream, CsvRow } from '../common/csv';
import { ListQuery } from '../common/pagination';
import { CsvFormatQuery } from '../common/query-params';
import { AuditLogService } from './audit-log.service';
import { AuditEventsQuery, BalanceAsOfQuery, StatementQuery, TrialBalanceQuery } from './audit.dto';
import { wantsCsv } from './audit.rules';
import { BalancesService } from './balances.service';
import { IndicatorsService } from './indicators.service';
import { IntegrityService } from './integrity.service';
import { ReconciliationService } from './reconciliation.service';
import { SealsService } from './seals.service';

function csvResponse(reply: FastifyReply, filename: string, rows: AsyncIterable<CsvRow> | Iterable<CsvRow>): StreamableFile {
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${filename}"`);
  return new StreamableFile(csvStream(rows), { type: 'text/csv; charset=utf-8' });
}

/** Audit reports (API.md "Audit"): read-only, for auditors (and admins). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
export class AuditController {
  constructor(
    private readonly balances: BalancesService,
    private readonly integrity: IntegrityService,
    private readonly seals: SealsService,
    private readonly events: AuditLogService,
    private readonly reconciliation: ReconciliationService,
    private readonly indicators: IndicatorsService,
    private readonly clock: Clock,
  ) {}

  @Get('audit/trial-balance')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async trialBalance(@Res({ passthrough: true }) reply: FastifyReply, @Query() query: TrialBalanceQuery, @Headers('accept') accept?: string) {
    const tb = await this.balances.trialBalance(query.asOf ?? null, this.clock.now(), { category: query.category, programId: query.programId });
    if (!wantsCsv(accept, query.format)) return tb;
    const rows: CsvRow[] = [['code', 'name', 'category', 'normal_side', 'debits', 'credits', 'balance']];
    for (const a of tb.accounts) rows.push([a.code, a.name, a.category, a.normalSide, a.debits, a.credits, a.balance]);
    rows.push(['TOTAL', '', '', '', tb.totals.debits, tb.totals.credits, tb.totals.difference]);
    return csvResponse(reply, 'trial-balance.csv', rows);
  }

  /** JSON pages its lines like every list (`limit` ≤ 500, default 50); CSV streams the whole statement. */
  @Get('accounts/:id/statement')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async statement(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: StatementQuery,
    @Headers('accept') accept?: string,
  ) {
    const range = { from: query.from ?? null, to: query.to ?? null };
    if (!wantsCsv(accept, query.format)) return this.balances.statement(id, range, this.clock.now(), { limit: query.limit, cursor: query.cursor });
    await this.balances.account(id); // 404 before streaming
    return csvResponse(reply, `statement-${id}.csv`, this.balances.statementCsvRows(id, range, this.clock.now()));
  }

  @Get('audit/accounts/:id/balance')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  balanceAsOf(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: BalanceAsOfQuery) {
    return this.balances.balanceAsOf(id, query.asOf ?? null, this.clock.now());
  }

  @Get('audit/integrity')
  @Roles('auditor')
  integrityCheck() {
    return this.integrity.check();
  }

  @Get('audit/seals')
  @Roles('auditor')
  listSeals(@Query() query: ListQuery) {
    return this.seals.listSeals(query.limit, query.cursor);
  }

  /** The staff action log, newest first. */
  @Get('audit/events')
  @Roles('auditor')
  listEvents(@Query() query: AuditEventsQuery) {
    return this.events.list(query);
  }

  @Get('audit/programs/:id/reconciliation')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  reconcile(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.reconciliation.program(id);
  }

  @Get('audit/programs/:id/indicators')
  @Roles('auditor', 'program_officer', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async programIndicators(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: CsvFormatQuery,
    @Headers('accept') accept?: string,
  ) {
    const r = await this.indicators.program(id, this.clock.now());
    if (!wantsCsv(accept, query.format)) return r;
    return csvResponse(reply, `indicators-${r.code}.csv`, IndicatorsService.csvRows(r));
  }
}

