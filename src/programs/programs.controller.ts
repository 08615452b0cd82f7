import { Body, Controller, Get, Headers, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { AppropriationRequest, CreateProgramRequest, ProgramsQuery, RolloverRequest } from './programs.dto';
import { RolloverService } from './rollover.service';
import { formatBudget, Program, ProgramsService } from './programs.service';

@ApiTags('programs')
@ApiBearerAuth()
@Controller('v1/programs')
export class ProgramsController {
  constructor(
    private readonly programs: ProgramsService,
    private readonly rollovers: RolloverService,
  ) {}

  @Post()
  async create(@Body() body: CreateProgramRequest, @CurrentStaff() staff: StaffPrincipal) {
    const program = await this.programs.create(body, actorOf(staff));
    return this.view(program);
  }

  /** The next fiscal year's program with the padrón and instruments carried; no money moves (docs/programs-padron.md "Fiscal years"). */
  @Post(':id/rollover')
  @Roles('admin')
  async rollover(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: RolloverRequest, @CurrentStaff() staff: StaffPrincipal) {
    const { carried, ...program } = await this.rollovers.rollover(id, body, actorOf(staff));
    return { ...(await this.view(program)), carried };
  }

  @Get()
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  async list(@Query() query: ProgramsQuery) {
    if (query.code !== undefined) {
      const program = await this.programs.findByCode(query.code);
      return { data: program ? [await this.view(program)] : [], nextCursor: null };
    }
    const page = await this.programs.list(query.limit, query.cursor);
    return { data: await Promise.all(page.data.map((p) => this.view(p))), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.view(await this.programs.getById(id));
  }

  /** The envelopes of the budget (docs/grants.md "Envelopes"): target, allocated, awarded, available. */
  @Get(':id/envelopes')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  async envelopes(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.programs.envelopes(await this.programs.getById(id));
  }

  @Post(':id/appropriations')
  @Roles('finance_operator')
  @Idempotent()
  async appropriate(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: AppropriationRequest,
    @Headers('idempotency-key') key: string,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    // The ledger key derives from the request (caller + Idempotency-Key), so a retry never posts twice.
    return this.programs.appropriate(id, { ...body, ledgerKey: `appropriation:${id}:${staff.userId}:${key}` }, actorOf(staff));
  }

  private async view(p: Program) {
    return {
      id: p.id,
      code: p.code,
      name: p.name,
      fiscalYear: p.fiscalYear,
      instrumentType: p.instrumentType,
      currency: p.currency,
      timeZone: p.timeZone,
      confidential: p.confidential,
      rules: p.rules,
      budgetAccountId: p.budgetAccountId,
      reintegroAccountId: p.reintegroAccountId,
      createdAt: new Date(p.createdAt).toISOString(),
      budget: formatBudget(await this.programs.budget(p)),
    };
  }
}
