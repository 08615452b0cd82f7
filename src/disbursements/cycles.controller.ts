import { Body, Controller, Get, Headers, HttpCode, Param, ParseIntPipe, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { ListQuery } from '../common/pagination';
import { Actor, CyclesService, cycleView } from './cycles.service';
import { GrantsService } from './grants.service';
import { ArrearsService } from './arrears.service';
import { ArrearsQuery, CounterpartContributionRequest, CreateCycleRequest, CreateGrantRequest, ExtensionAuthorizationRequest, ReviewProofRequest, SubmitProofRequest } from './cycles.dto';

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
  async cancel(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return cycleView(await this.cycles.cancel(id, actor(staff)));
  }

  @Get('cycles/:id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    return cycleView(await this.cycles.find(id));
  }

  @Get('cycles/:id/lines')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  lines(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: ListQuery) {
    return this.cycles.lines(id, query.limit, query.cursor);
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
