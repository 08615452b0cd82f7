import { Controller, Get, Headers, Param, ParseUUIDPipe, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { csvStream, CsvRow } from '../common/csv';
import { ListQuery } from '../common/pagination';
import { ReadDatabase, readSourceHeaders } from '../database/read-database';
import { AuditLogService } from './audit-log.service';
import { AuditEventsQuery, BalanceAsOfQuery, ExecutionQuery, IndicatorsQuery, StatementQuery, TrialBalanceQuery } from './audit.dto';
import { EXECUTION_COLUMNS } from './execution.rules';
import { ExecutionService } from './execution.service';
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

/**
 * Audit reports (API.md "Audit"): read-only, for auditors (and admins). They read the streaming
 * replica when one is configured (DATABASE_READ_URL; docs/scaling.md) and say so in
 * `X-Read-Source` and `X-Replica-Lag-Ms`; `X-Read-Consistency: current` asks for everything
 * committed before the request (a lagging replica is then refused and the primary answers).
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Read-Consistency', required: false, enum: ['current'], description: 'current: never read a replica that is behind the primary' })
@Controller('v1')
export class AuditController {
  constructor(
    private readonly balances: BalancesService,
    private readonly integrity: IntegrityService,
    private readonly seals: SealsService,
    private readonly events: AuditLogService,
    private readonly reconciliation: ReconciliationService,
    private readonly indicators: IndicatorsService,
    private readonly execution: ExecutionService,
    private readonly reads: ReadDatabase,
    private readonly clock: Clock,
  ) {}

  /** Where this request reads (replica or primary), announced in the response headers. */
  private async readFor(reply: FastifyReply, consistency: string | undefined) {
    const read = consistency === 'current' ? await this.reads.current() : await this.reads.replica();
    reply.headers(readSourceHeaders(read));
    return read.db;
  }

  @Get('audit/trial-balance')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async trialBalance(
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: TrialBalanceQuery,
    @Headers('accept') accept?: string,
    @Headers('x-read-consistency') consistency?: string,
  ) {
    const db = await this.readFor(reply, consistency);
    const tb = await this.balances.trialBalance(query.asOf ?? null, this.clock.now(), { category: query.category, programId: query.programId }, db);
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
    @Headers('x-read-consistency') consistency?: string,
  ) {
    const range = { from: query.from ?? null, to: query.to ?? null };
    const db = await this.readFor(reply, consistency);
    if (!wantsCsv(accept, query.format)) return this.balances.statement(id, range, this.clock.now(), { limit: query.limit, cursor: query.cursor }, db);
    await this.balances.account(id, db); // 404 before streaming
    return csvResponse(reply, `statement-${id}.csv`, this.balances.statementCsvRows(id, range, this.clock.now(), db));
  }

  @Get('audit/accounts/:id/balance')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  async balanceAsOf(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: BalanceAsOfQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('x-read-consistency') consistency?: string,
  ) {
    return this.balances.balanceAsOf(id, query.asOf ?? null, this.clock.now(), await this.readFor(reply, consistency));
  }

  @Get('audit/integrity')
  @Roles('auditor')
  async integrityCheck(@Res({ passthrough: true }) reply: FastifyReply, @Headers('x-read-consistency') consistency?: string) {
    return this.integrity.check(await this.readFor(reply, consistency));
  }

  @Get('audit/seals')
  @Roles('auditor')
  listSeals(@Query() query: ListQuery) {
    return this.seals.listSeals(query.limit, query.cursor);
  }

  /** The staff action log, newest first. */
  @Get('audit/events')
  @Roles('auditor')
  async listEvents(@Query() query: AuditEventsQuery, @Res({ passthrough: true }) reply: FastifyReply, @Headers('x-read-consistency') consistency?: string) {
    return this.events.list(query, await this.readFor(reply, consistency));
  }

  @Get('audit/programs/:id/reconciliation')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  /** Always on the primary: it stages the program's accounts in a temporary table, which a hot standby cannot create. */
  reconcile(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.reconciliation.program(id);
  }

  @Get('audit/programs/:id/indicators')
  @Roles('auditor', 'program_officer', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async programIndicators(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: IndicatorsQuery,
    @Headers('accept') accept?: string,
  ) {
    const r = await this.indicators.program(id, this.clock.now(), { asOf: query.asOf, quarter: query.quarter });
    if (!wantsCsv(accept, query.format)) return r;
    return csvResponse(reply, `indicators-${r.code}.csv`, IndicatorsService.csvRows(r));
  }

  /** Budget execution by month, component or zone; every total against the sum of its parts (JSON or CSV). */
  @Get('audit/programs/:id/execution')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  async programExecution(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: ExecutionQuery,
    @Headers('accept') accept?: string,
  ) {
    const r = await this.execution.program(id, this.clock.now(), { from: query.from, to: query.to, by: query.by });
    if (!wantsCsv(accept, query.format)) return r;
    const rows: CsvRow[] = [['section', 'key', ...EXECUTION_COLUMNS, 'planned']];
    for (const row of r.rows) rows.push(['row', row.key, ...EXECUTION_COLUMNS.map((c) => row[c]), 'planned' in row ? row.planned : '']);
    rows.push(['total', 'total', ...EXECUTION_COLUMNS.map((c) => r.totals[c]), '']);
    rows.push(['check', 'what', 'total', 'sum_of_parts', 'difference', '', '', '']);
    for (const c of r.checks) rows.push(['check', c.what, c.total, c.sumOfParts, c.difference, '', '', '']);
    return csvResponse(reply, `execution-${r.code}-${r.by}.csv`, rows);
  }
}
