import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { GrantRecoveryService } from './grant-recovery.service';
import { GrantReceivablesQuery, RescindGrantRequest, RestitutionRequest } from './treasury.dto';

/** Recovery of unproven grant money (API.md "Grants"; docs/grants.md "Recovery"). */
@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1')
export class GrantRecoveryController {
  constructor(private readonly recovery: GrantRecoveryService) {}

  /** Rescission (PROFACE C-3): the award ends; the unproven money at the notification becomes a receivable due in 20 business days. */
  @Post('grants/:id/rescind')
  @HttpCode(200)
  @Roles('program_officer', 'finance_approver')
  rescind(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: RescindGrantRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.recovery.rescind(id, body, { userId: staff.userId, name: actorOf(staff) });
  }

  /** Money the grantee paid back against its receivable: only this reaches the reintegro and the treasury. */
  @Post('grants/:id/restitutions')
  @Roles('finance_operator')
  @Idempotent()
  restitute(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: RestitutionRequest,
    @Headers('idempotency-key') key: string,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    return this.recovery.restitute(id, { ...body, ledgerKey: `grant-restitution:${id}:${staff.userId}:${key}` }, { userId: staff.userId, name: actorOf(staff) });
  }

  /** What grantees owe (demands and rescissions), oldest due first. */
  @Get('grant-receivables')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  receivables(@Query() query: GrantReceivablesQuery) {
    return this.recovery.receivables(query);
  }
}
