import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalUuid } from '../common/query-params';
import { CYCLE_STATUSES, CycleStatus } from '../disbursements/cycles.rules';
import { CyclesService } from '../disbursements/cycles.service';
import { NAME_READERS } from '../disbursements/cycle-lines.rules';
import { LOAN_STATUSES } from '../loans/loans.rules';
import { APPROVAL_KINDS, APPROVAL_SCOPES, ApprovalScope } from './approval-sources';
import { ConsoleService } from './console.service';

export class ProgramCyclesQuery extends ListQuery {
  @OptionalEnum(CYCLE_STATUSES)
  status?: CycleStatus;
}

export class ApprovalsQuery extends ListQuery {
  @OptionalEnum(APPROVAL_SCOPES, "to_approve: drafts someone else prepared; sent: drafts I prepared; all (default)")
  scope?: ApprovalScope;

  @OptionalEnum(APPROVAL_KINDS)
  kind?: string;

  @OptionalUuid()
  programId?: string;
}

export class ProgramLoansQuery extends ListQuery {
  @OptionalEnum(LOAN_STATUSES)
  status?: string;
}

/**
 * Read endpoints the console needs and the contract does not list (API.md allows more endpoints).
 * Under /v1/console so they can never collide with a route another module adds later.
 */
@ApiTags('console')
@ApiBearerAuth()
@Controller('v1/console')
export class ConsoleCyclesController {
  constructor(
    private readonly cycles: CyclesService,
    private readonly console: ConsoleService,
  ) {}

  /** The program's disbursement cycles, latest period first (then newest), each as GET /v1/cycles/{id} shows it. */
  @Get('programs/:id/cycles')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  programCycles(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: ProgramCyclesQuery) {
    return this.cycles.listForProgram(programId, query);
  }

  /**
   * The approvals inbox: every draft awaiting a second person (cycles, remittances, payout
   * batches, payment orders, loans, write-offs), oldest first, with `total`; `preparedByMe` marks what the caller sent for approval.
   */
  @Get('approvals')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  approvals(@Query() query: ApprovalsQuery, @CurrentStaff() staff: StaffPrincipal) {
    return this.console.list(query, staff);
  }

  /** The program's reintegros counted and summed by status (the totals over the paged list). */
  @Get('programs/:id/reintegro-totals')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  reintegroTotals(@Param('id', new ParseUUIDPipe()) programId: string) {
    return this.console.reintegroTotals(programId);
  }

  /** The program's loans by number, filtered by status, with `total`; the borrower by folio (and name for name readers). */
  @Get('programs/:id/loans')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  programLoans(@Param('id', new ParseUUIDPipe()) programId: string, @Query() query: ProgramLoansQuery, @CurrentStaff() staff: StaffPrincipal) {
    return this.console.loans(programId, query, { withNames: NAME_READERS.has(staff.role) });
  }

  /** A beneficiary's folio (and name for name readers), for the loan and payment order pages that hold only the id. */
  @Get('beneficiaries/:id/label')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  beneficiaryLabel(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.console.beneficiaryLabel(id, { withNames: NAME_READERS.has(staff.role) });
  }
}
