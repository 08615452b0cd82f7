import { CancelRequest } from '../common/cancel.dto';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseIntPipe, ParseUUIDPipe, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { csvStream } from '../common/csv';
import { ListQuery } from '../common/pagination';
import { wantsCsv } from '../audit/audit.rules';
import { linesCsvFileName, NAME_READERS } from './cycle-lines.rules';
import type { FastifyReply } from 'fastify';
import { Actor, CyclesService, cycleView } from './cycles.service';
import { GrantsService } from './grants.service';
import { ArrearsService } from './arrears.service';
import { ArrearsQuery, CounterpartContributionRequest, CreateCycleRequest, CycleLinesQuery, CreateGrantRequest, ExtensionAuthorizationRequest, ReviewProofRequest, SubmitProofRequest } from './cycles.dto';

function actor(staff: StaffPrincipal): Actor {
  return { userId: staff.userId, name: actorOf(staff) };
}

@ApiTags('disbursement cycles')
@ApiBearerAuth()
@Controller('v1')
export class CyclesController {
  constructor(
    private readonly cycles: CyclesService,
    private readonly grants: GrantsService,
    private readonly arrears: ArrearsService,
  ) {}

  @Post('programs/:id/cycles')
  @Roles('finance_operator')
  @Idempotent()
  async create(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: CreateCycleRequest, @CurrentStaff() staff: StaffPrincipal) {
    return cycleView(await this.cycles.createDraft(programId, body, actor(staff)));
  }

  /** Who is owed which period, why and how much (docs/disbursements.md "Money owed"). */
  @Get('programs/:id/arrears')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  async arrearsOf(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: ArrearsQuery) {
    return this.arrears.list(await this.cycles.findProgram(programId), query);
  }

  @Post('cycles/:id/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  async approve(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return cycleView(await this.cycles.approve(id, actor(staff)));
  }

  @Post('cycles/:id/cancel')
  @HttpCode(200)
  @Roles('finance_operator', 'finance_approver')
  async cancel(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CancelRequest, @CurrentStaff() staff: StaffPrincipal) {
    return cycleView(await this.cycles.cancel(id, actor(staff), body?.reason ?? null));
  }

  @Get('cycles/:id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    return cycleView(await this.cycles.find(id));
  }

  /**
   * A page of the cycle's lines with `total` (the lines that match), filtered on the server by
   * outcome and by folio / CURP / name; `?format=csv` (or Accept: text/csv) streams every line
   * that matches, in Spanish with a BOM, under a readable file name.
   */
  @Get('cycles/:id/lines')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @ApiProduces('application/json', 'text/csv')
  async lines(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: CycleLinesQuery,
    @CurrentStaff() staff: StaffPrincipal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
  ) {
    const viewer = { withNames: NAME_READERS.has(staff.role) };
    const filter = { status: query.status, q: query.q };
    if (!wantsCsv(accept, query.format)) return this.cycles.lines(id, { ...filter, limit: query.limit, cursor: query.cursor }, viewer);
    const c = await this.cycles.find(id);
    const program = await this.cycles.findProgram(c.programId);
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="${linesCsvFileName(program.code, c.period, c.kind, query.status)}"`);
    return new StreamableFile(csvStream(this.cycles.linesCsv(id, filter, viewer), { bom: true }), { type: 'text/csv; charset=utf-8' });
  }

  /** Seguro: authorisation record for months beyond maxMonths.default (up to withAuthorization). */
  @Post('beneficiaries/:id/extension-authorizations')
  @Roles('program_officer')
  authorizeExtension(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ExtensionAuthorizationRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.cycles.authorizeExtension(id, body, actor(staff));
  }

  /** An award: checked against the program's rules, its amount reserved from its envelope (docs/grants.md). */
  @Post('programs/:id/grants')
  @Roles('program_officer', 'finance_operator')
  @Idempotent()
  createGrant(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: CreateGrantRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.grants.create(programId, body, actor(staff));
  }

  /** Per award, the public share and the counterpart's share, reported separately (M12). */
  @Get('programs/:id/grant-funding')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  funding(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: ListQuery) {
    return this.grants.funding(programId, query);
  }

  /** The counterpart's contribution to the award's project, in the grant's counterpart sub-account. */
  @Post('grants/:id/counterpart-contributions')
  @Roles('finance_operator')
  @Idempotent()
  contributeCounterpart(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: CounterpartContributionRequest,
    @Headers('idempotency-key') key: string,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    return this.grants.contributeCounterpart(id, { ...body, ledgerKey: `counterpart:${id}:${staff.userId}:${key}` }, actor(staff));
  }

  @Get('grants/:id')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  grant(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.grants.view(id);
  }

  @Post('grants/:id/tranches/:n/proofs')
  @Roles('program_officer', 'finance_operator')
  submitProof(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('n', new ParseIntPipe()) n: number,
    @Body() body: SubmitProofRequest,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    return this.grants.submitProof(id, n, body, actor(staff));
  }

  @Post('grant-proofs/:id/accept')
  @HttpCode(200)
  @Roles('finance_approver')
  accept(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReviewProofRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.grants.review(id, 'accepted', body?.note ?? null, actor(staff));
  }

  @Post('grant-proofs/:id/reject')
  @HttpCode(200)
  @Roles('finance_approver')
  reject(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReviewProofRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.grants.review(id, 'rejected', body?.note ?? null, actor(staff));
  }
}
