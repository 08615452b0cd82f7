import { CancelRequest } from '../common/cancel.dto';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { isValidIdempotencyKey } from '../common/idempotency/idempotency.rules';
import { csvStream } from '../common/csv';
import { ApiProblem } from '../common/problem';
import { BatchCardArrivalRequest, CardArrivalRequest, CreateRemittanceRequest, DeliveryVisitRequest, ReintegrosQuery, RemittanceDocumentQuery, RemittancesQuery } from './treasury.dto';
import { TreasuryService } from './treasury.service';

@ApiTags('treasury')
@ApiBearerAuth()
@Controller('v1')
export class TreasuryController {
  constructor(private readonly treasury: TreasuryService) {}

  @Get('reintegros')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  reintegros(@Query() query: ReintegrosQuery) {
    return this.treasury.listReintegros(query);
  }

  @Get('reintegros/:id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  reintegro(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.treasury.getReintegro(id);
  }

  /** Draft batch of the program's pending reintegros. Idempotency-Key optional: a retry returns the same draft. */
  @Post('remittances')
  @Roles('finance_operator')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async createRemittance(
    @Body() body: CreateRemittanceRequest,
    @CurrentStaff() staff: StaffPrincipal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') key?: string,
  ) {
    if (key !== undefined && !isValidIdempotencyKey(key)) throw new ApiProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
    const { replayed, ...remittance } = await this.treasury.createRemittance(body.programId, staff, key ?? null);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return remittance;
  }

  @Get('remittances')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  remittances(@Query() query: RemittancesQuery) {
    return this.treasury.listRemittances(query);
  }

  @Get('remittances/:id')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  remittance(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.treasury.getRemittance(id);
  }

  /** Approval posts reintegro payable → treasury: it moves money, so it takes an Idempotency-Key. */
  @Post('remittances/:id/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approve(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.approveRemittance(id, staff);
  }

  @Post('remittances/:id/cancel')
  @HttpCode(200)
  @Roles('finance_operator', 'finance_approver')
  cancel(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CancelRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.cancelRemittance(id, staff, body?.reason ?? null);
  }

  @Get('remittances/:id/document.csv')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @ApiProduces('text/csv')
  async document(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: RemittanceDocumentQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    const doc = await this.treasury.remittanceDocument(id, query.lang);
    reply.header('content-disposition', `attachment; filename="${doc.fileName}"`);
    return new StreamableFile(csvStream(doc.rows, { bom: doc.bom }), { type: 'text/csv; charset=utf-8' });
  }

  @Post('instruments/:id/arrival')
  @HttpCode(200)
  @Roles('program_officer')
  arrival(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CardArrivalRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.recordArrival([id], body.arrivedOn, body.batch ?? null, staff);
  }

  @Post('card-arrivals')
  @HttpCode(200)
  @Roles('program_officer')
  arrivals(@Body() body: BatchCardArrivalRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.recordArrival(body.instrumentIds, body.arrivedOn, body.batch ?? null, staff);
  }

  @Post('instruments/:id/delivery-visits')
  @Roles('program_officer')
  visit(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: DeliveryVisitRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.recordVisit(id, body, staff);
  }

  @Get('instruments/:id/delivery-visits')
  @Roles('program_officer', 'auditor')
  visits(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.treasury.deliveryRecord(id, staff);
  }
}
