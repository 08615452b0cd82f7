import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { DeliveryRequest, DeliverySummaryQuery } from './deliveries.dto';
import { DeliveriesService } from './deliveries.service';

/** Deliveries in kind of the in-kind programs (docs/in-kind.md). */
@ApiTags('in-kind deliveries')
@ApiBearerAuth()
@Controller('v1/programs')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  /** A delivery: rations at a comedor, a family's package, services; count and value. */
  @Post(':id/deliveries')
  @Roles('program_officer')
  record(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: DeliveryRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.deliveries.record(programId, body, staff);
  }

  /** Units and value delivered per kind against the meta física (CP14, CA1). */
  @Get(':id/deliveries/summary')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  summary(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: DeliverySummaryQuery) {
    return this.deliveries.summary(programId, query);
  }
}
