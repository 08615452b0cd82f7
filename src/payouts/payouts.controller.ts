import { CancelRequest } from '../common/cancel.dto';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { ApiProblem, problems } from '../common/problem';
import { ListQuery } from '../common/pagination';
import { BankAccountsService } from './bank-accounts.service';
import { BankAccountRequest, BankAccountView, CreatePayoutBatchRequest, PayoutBatchesQuery, PayoutBatchLinesQuery, PayoutResultLineDoc } from './payouts.dto';
import type { BatchStatus } from './payouts.repository';
import { BatchKind, parseResultsCsv, parseResultsJson } from './payouts.rules';
import { PayoutsService } from './payouts.service';

/** Bank details of payees (API.md "Payouts to banks"). */
@ApiTags('payouts')
@ApiBearerAuth()
@Controller('v1')
export class BankAccountsController {
  constructor(private readonly bankAccounts: BankAccountsService) {}

  @Put('beneficiaries/:id/bank-account')
  @Roles('program_officer')
  @ApiOkResponse({ type: BankAccountView })
  async setBeneficiary(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: BankAccountRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.set(await this.bankAccounts.beneficiaryOwner(id, staff, true), body, staff);
  }

  @Get('beneficiaries/:id/bank-account')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  @ApiOkResponse({ type: BankAccountView })
  async getBeneficiary(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.get(await this.bankAccounts.beneficiaryOwner(id, staff, false), staff);
  }

  @Get('beneficiaries/:id/bank-account/history')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  async beneficiaryHistory(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.history(await this.bankAccounts.beneficiaryOwner(id, staff, false), staff);
  }

  /** The insurer paid the Seguro premiums: starts as rules.insurer says; the operator replaces the placeholder here. */
  @Put('programs/:id/insurer/bank-account')
  @Roles('finance_operator', 'program_officer')
  @ApiOkResponse({ type: BankAccountView })
  async setInsurer(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: BankAccountRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.set(await this.bankAccounts.insurerOwner(id), body, staff);
  }

  @Get('programs/:id/insurer/bank-account')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  @ApiOkResponse({ type: BankAccountView })
  async getInsurer(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.get(await this.bankAccounts.insurerOwner(id), staff);
  }

  @Get('programs/:id/insurer/bank-account/history')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  async insurerHistory(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.bankAccounts.history(await this.bankAccounts.insurerOwner(id), staff);
  }
}

/** Payout batches: draft, approval with the bank file, results (API.md "Payouts to banks"). */
@ApiTags('payouts')
@ApiBearerAuth()
@Controller('v1/payout-batches')
export class PayoutsController {
  constructor(private readonly payouts: PayoutsService) {}

  @Post()
  @Roles('finance_operator')
  @Idempotent()
  create(@Body() body: CreatePayoutBatchRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.payouts.createBatch(body, staff);
  }

  @Get()
  @Roles('finance_operator', 'finance_approver', 'auditor')
  list(@Query() query: PayoutBatchesQuery) {
    return this.payouts.list({ ...query, status: query.status as BatchStatus | undefined, kind: query.kind as BatchKind | undefined });
  }

  @Get(':id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: PayoutBatchLinesQuery) {
    return this.payouts.get(id, query);
  }

  @Get(':id/exclusions')
  @Roles('finance_operator', 'finance_approver', 'auditor', 'program_officer')
  exclusions(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: ListQuery) {
    return this.payouts.exclusions(id, query);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approve(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.payouts.approve(id, staff);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('finance_operator', 'finance_approver')
  cancel(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CancelRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.payouts.cancel(id, staff, body?.reason ?? null);
  }

  /** The bank file: the bytes written at approval (CLABEs whole: it is for the bank, and auditors check it). */
  @Get(':id/file')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @ApiProduces('text/csv')
  async file(@Param('id', new ParseUUIDPipe()) id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const f = await this.payouts.file(id);
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="${f.number}.csv"`);
    reply.header('etag', `"${f.sha256}"`);
    return f.content;
  }

  /** The bank's answer: text/csv (line_id,status[,reason][,amount]) or JSON [{ lineId, status, reason?, amount? }]. */
  @Post(':id/results')
  @HttpCode(200)
  @Roles('finance_operator', 'finance_approver')
  @Idempotent()
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ type: [PayoutResultLineDoc] })
  results(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    const csv = /^text\/csv\b/i.test(contentType ?? '');
    if (csv && typeof body !== 'string') throw problems.validation('the CSV body could not be read');
    if (!csv && !/^application\/json\b/i.test(contentType ?? '')) {
      throw new ApiProblem(415, 'unsupported_media_type', 'results are text/csv or application/json');
    }
    const lines = csv ? parseResultsCsv(body as string) : parseResultsJson(body);
    const sha256 = createHash('sha256').update(csv ? (body as string) : JSON.stringify(body)).digest('hex');
    return this.payouts.importResults(id, lines, { format: csv ? 'csv' : 'json', sha256 }, staff);
  }
}
