import { Controller, Get, Headers, Param, ParseUUIDPipe, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Roles } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { problems } from '../common/problem';
import { AuditLogService } from './audit-log.service';
import { csvLine, parseLimit, parseTimeBound, wantsCsv } from './audit.rules';
import { BalancesService } from './balances.service';
import { IndicatorsService } from './indicators.service';
import { IntegrityService } from './integrity.service';
import { ReconciliationService } from './reconciliation.service';
import { SealsService } from './seals.service';

function csvResponse(reply: FastifyReply, filename: string, rows: AsyncIterable<unknown[]> | Iterable<unknown[]>): StreamableFile {
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${filename}"`);
  async function* lines() {
    for await (const r of rows as AsyncIterable<unknown[]>) yield csvLine(r);
  }
  return new StreamableFile(Readable.from(lines()), { type: 'text/csv; charset=utf-8' });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  @ApiQuery({ name: 'asOf', required: false, description: 'YYYY-MM-DD (end of that day, service time zone) or an ISO 8601 instant; default now' })
  @ApiQuery({ name: 'category', required: false })
  @ApiQuery({ name: 'programId', required: false })
  async trialBalance(
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
    @Query('asOf') asOf?: string,
    @Query('category') category?: string,
    @Query('programId') programId?: string,
    @Query('format') format?: string,
  ) {
    if (programId !== undefined && !UUID.test(programId)) throw problems.validation('programId must be a UUID');
    const tb = await this.balances.trialBalance(parseTimeBound('asOf', asOf), this.clock.now(), { category, programId });
    if (!wantsCsv(accept, format)) return tb;
    const rows: unknown[][] = [['code', 'name', 'category', 'normal_side', 'debits', 'credits', 'balance']];
    for (const a of tb.accounts) rows.push([a.code, a.name, a.category, a.normalSide, a.debits, a.credits, a.balance]);
    rows.push(['TOTAL', '', '', '', tb.totals.debits, tb.totals.credits, tb.totals.difference]);
    return csvResponse(reply, 'trial-balance.csv', rows);
  }

  @Get('accounts/:id/statement')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'from', required: false, description: 'YYYY-MM-DD or ISO instant (inclusive)' })
  @ApiQuery({ name: 'to', required: false, description: 'YYYY-MM-DD (whole day included) or ISO instant (inclusive); default now' })
  @ApiQuery({ name: 'limit', required: false, description: 'lines per page (JSON), ≤ 5000, default 1000' })
  @ApiQuery({ name: 'cursor', required: false })
  async statement(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
    @Query('format') format?: string,
  ) {
    const range = { from: parseTimeBound('from', from), to: parseTimeBound('to', to) };
    if (!wantsCsv(accept, format)) return this.balances.statement(id, range, this.clock.now(), { limit: parseLimit(limit, 5000, 1000), cursor });
    await this.balances.account(id); // 404 before streaming
    return csvResponse(reply, `statement-${id}.csv`, this.balances.statementCsvRows(id, range, this.clock.now()));
  }

  @Get('audit/accounts/:id/balance')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  @ApiQuery({ name: 'asOf', required: false })
  balanceAsOf(@Param('id', new ParseUUIDPipe()) id: string, @Query('asOf') asOf?: string) {
    return this.balances.balanceAsOf(id, parseTimeBound('asOf', asOf), this.clock.now());
  }

  @Get('audit/integrity')
  @Roles('auditor')
  integrityCheck() {
    return this.integrity.check();
  }

  @Get('audit/seals')
  @Roles('auditor')
  listSeals(@Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    if (cursor !== undefined && !/^\d+$/.test(cursor)) throw problems.validation('cursor is not valid');
    return this.seals.listSeals(parseLimit(limit), cursor === undefined ? null : Number(cursor));
  }

  @Get('audit/events')
  @Roles('auditor')
  @ApiQuery({ name: 'actor', required: false, description: 'username, merchant:<id>, or the user/merchant id' })
  @ApiQuery({ name: 'action', required: false, description: 'e.g. "POST /v1/programs/:id/appropriations" (a prefix also matches)' })
  @ApiQuery({ name: 'kind', required: false, enum: ['request', 'login', 'login_failed'] })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'outcome', required: false, description: 'success, failure, or an HTTP status' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async listEvents(
    @Query('actor') actor?: string,
    @Query('action') action?: string,
    @Query('kind') kind?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('outcome') outcome?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    if (kind !== undefined && !['request', 'login', 'login_failed'].includes(kind)) throw problems.validation('kind must be request, login or login_failed');
    if (outcome !== undefined && !/^(success|failure|[1-5]\d\d)$/.test(outcome)) throw problems.validation('outcome must be success, failure or an HTTP status');
    const fromBound = parseTimeBound('from', from);
    const toBound = parseTimeBound('to', to);
    return this.events.list(
      {
        actor,
        action,
        kind,
        from: fromBound ? await this.balances.instant(fromBound, 'start') : undefined,
        to: toBound ? await this.balances.instant(toBound, 'end') : undefined,
        outcome: outcome === 'success' || outcome === 'failure' ? outcome : undefined,
        status: outcome && /^\d+$/.test(outcome) ? Number(outcome) : undefined,
      },
      parseLimit(limit),
      cursor,
    );
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
    @Headers('accept') accept?: string,
    @Query('format') format?: string,
  ) {
    const r = await this.indicators.program(id, this.clock.now());
    if (!wantsCsv(accept, format)) return r;
    return csvResponse(reply, `indicators-${r.code}.csv`, IndicatorsService.csvRows(r));
  }
}

