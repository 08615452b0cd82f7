import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/principal';
import { ListQuery } from '../common/pagination';
import { OptionalEnum } from '../common/query-params';
import { CYCLE_STATUSES, CycleStatus } from '../disbursements/cycles.rules';
import { CyclesService } from '../disbursements/cycles.service';

export class ProgramCyclesQuery extends ListQuery {
  @OptionalEnum(CYCLE_STATUSES)
  status?: CycleStatus;
}

/**
 * Read endpoints the console needs and the contract does not list (API.md allows more endpoints).
 * Under /v1/console so they can never collide with a route another module adds later.
 */
@ApiTags('console')
@ApiBearerAuth()
@Controller('v1/console')
export class ConsoleCyclesController {
  constructor(private readonly cycles: CyclesService) {}

  /** The program's disbursement cycles, latest period first (then newest), each as GET /v1/cycles/{id} shows it. */
  @Get('programs/:id/cycles')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  programCycles(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: ProgramCyclesQuery) {
    return this.cycles.listForProgram(programId, query);
  }
}
