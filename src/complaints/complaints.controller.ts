import { Body, Controller, Get, Headers, HttpCode, Param, ParseIntPipe, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { AnswerComplaintRequest, ComplaintsQuery, ComplaintsReportListQuery, ComplaintsReportQuery, CreateComplaintRequest, EscalateComplaintRequest, ReceiptRequest } from './complaints.dto';
import type { Outcome, ReceiptSigner } from './complaints.rules';
import { ComplaintsService } from './complaints.service';

/**
 * Complaints (API.md "Auditors: execution, complaints"; docs/complaints.md). Program officers
 * handle them (the assigned ones for a confidential program); auditors read and change nothing.
 */
@ApiTags('complaints')
@ApiBearerAuth()
@Controller('v1')
export class ComplaintsController {
  constructor(private readonly complaints: ComplaintsService) {}

  @Post('complaints')
  @Roles('program_officer')
  // API.md names no key for an intake (it moves no money): one is honoured when sent, never required.
  @Idempotent({ optional: true })
  create(@Body() body: CreateComplaintRequest, @Headers('idempotency-key') key: string | undefined, @CurrentStaff() staff: StaffPrincipal) {
    // The complaint's intake key derives from the request (caller + Idempotency-Key), so a retry never files twice.
    return this.complaints.create(body, staff, key === undefined ? null : `${staff.userId}:${key}`);
  }

  @Get('complaints')
  @Roles('program_officer', 'auditor')
  list(@Query() query: ComplaintsQuery, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.list(query, staff);
  }

  /** Overdue complaints, the share by area and the open commitments, as of today. */
  @Get('complaints/report')
  @Roles('program_officer', 'auditor')
  report(@Query() query: ComplaintsReportQuery) {
    return this.complaints.report(query.programId);
  }

  /** Every overdue complaint, keyset-paged, with their total (the report gives the first page). */
  @Get('complaints/report/overdue')
  @Roles('program_officer', 'auditor')
  overdue(@Query() query: ComplaintsReportListQuery) {
    return this.complaints.overdue(query);
  }

  /** Every commitment not yet fulfilled, keyset-paged, with their total (the report gives the first page). */
  @Get('complaints/report/open-commitments')
  @Roles('program_officer', 'auditor')
  openCommitments(@Query() query: ComplaintsReportListQuery) {
    return this.complaints.openCommitments(query);
  }

  @Get('complaints/:id')
  @Roles('program_officer', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.get(id, staff);
  }

  @Post('complaints/:id/answer')
  @HttpCode(200)
  @Roles('program_officer')
  answer(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: AnswerComplaintRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.answer(id, { answer: body.answer, outcome: body.outcome as Outcome, commitments: body.commitments }, staff);
  }

  @Post('complaints/:id/receipt')
  @HttpCode(200)
  @Roles('program_officer')
  receipt(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReceiptRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.receipt(id, body.signedBy as ReceiptSigner, staff);
  }

  @Post('complaints/:id/escalate')
  @HttpCode(200)
  @Roles('program_officer')
  escalate(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: EscalateComplaintRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.escalate(id, body.to, staff);
  }

  @Post('complaints/:id/commitments/:no/fulfil')
  @HttpCode(200)
  @Roles('program_officer')
  fulfil(@Param('id', new ParseUUIDPipe()) id: string, @Param('no', new ParseIntPipe()) no: number, @CurrentStaff() staff: StaffPrincipal) {
    return this.complaints.fulfil(id, no, staff);
  }
}
