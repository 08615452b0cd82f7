import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { AttendanceRequest, EventRequest, ObligationRequest } from './conditional.dto';
import { ConditionalService } from './conditional.service';

/** Attendance, events and obligations of a beneficiary (docs/conditional.md); they feed the next cycle. */
@ApiTags('conditional benefits')
@ApiBearerAuth()
@Controller('v1/beneficiaries')
export class ConditionalController {
  constructor(private readonly conditional: ConditionalService) {}

  /** Days attended in a period (per_attendance programs); 409 record_exists for a second record of the period. */
  @Post(':id/attendance')
  @Roles('program_officer')
  attendance(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: AttendanceRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.conditional.recordAttendance(id, body, staff);
  }

  /** An event that pays (event programs); 422 record_not_allowed when the rules refuse it (kind, subprogram, count, timing). */
  @Post(':id/events')
  @Roles('program_officer')
  event(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: EventRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.conditional.recordEvent(id, body, staff);
  }

  /** An obligation met (signature, cartilla); answers with the standing it leaves: active or suspended. */
  @Post(':id/obligations')
  @Roles('program_officer')
  obligation(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ObligationRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.conditional.recordObligation(id, body, staff);
  }

  /** The standing today against the program's obligations, period by period. */
  @Get(':id/obligations')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  standing(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.conditional.standing(id, staff);
  }
}
