import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { ApiProblem, problems } from '../common/problem';
import { ApplyLoanRequest, InstalmentView, LoanAcceptanceRequest, LoanBatchRequest, LoanRepaymentRequest, WriteOffRequest } from './loans.dto';
import { LoansService } from './loans.service';

const READERS = ['program_officer', 'finance_operator', 'finance_approver', 'auditor'] as const;

/** Loans and revolving funds (API.md "Loans and revolving funds"; docs/loans.md). */
@ApiTags('loans')
@ApiBearerAuth()
@Controller('v1')
export class LoansController {
  constructor(private readonly loans: LoansService) {}

  @Post('programs/:id/loans')
  @Roles('program_officer')
  apply(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: ApplyLoanRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.apply(programId, body, staff);
  }

  /** Many applied loans approved at once, all or none, against the same caps (FONDESOC volumes). */
  @Post('programs/:id/loans/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approveBatch(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: LoanBatchRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.approveBatch(programId, body.loanIds, staff);
  }

  /** Many approved and accepted loans disbursed at once, all or none. */
  @Post('programs/:id/loans/disburse')
  @HttpCode(200)
  @Roles('finance_operator')
  @Idempotent()
  disburseBatch(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: LoanBatchRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.disburseBatch(programId, body.loanIds, staff);
  }

  @Get('loans/:id')
  @Roles(...READERS)
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.loans.view(id);
  }

  @Get('loans/:id/schedule')
  @Roles(...READERS)
  @ApiOkResponse({ type: [InstalmentView] })
  schedule(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.loans.schedule(id);
  }

  /** Maker-checker: the count cap and the money cap are checked atomically (422 loan_cap_reached / insufficient_budget). */
  @Post('loans/:id/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approve(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.approve(id, staff);
  }

  /** The borrower's online legal acceptance (R000-05), needed before the disbursement. */
  @Post('loans/:id/acceptance')
  @HttpCode(200)
  @Roles('program_officer')
  accept(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: LoanAcceptanceRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.accept(id, body, staff);
  }

  /** To the borrower's payable, paid by the next `loans` payout batch (422 acceptance_required, missing_bank_account). */
  @Post('loans/:id/disburse')
  @HttpCode(200)
  @Roles('finance_operator')
  @Idempotent()
  disburse(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.disburse(id, staff);
  }

  @Post('loans/:id/repayments')
  @Roles('finance_operator')
  @Idempotent()
  repay(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: LoanRepaymentRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.repay(id, body, staff);
  }

  /** The bank's repayment file: text/csv with reference, amount, paidOn; per-line results; a line imported before changes nothing. */
  @Post('programs/:id/loan-repayments/import')
  @HttpCode(200)
  @Roles('finance_operator')
  @Idempotent()
  @ApiConsumes('text/csv')
  @ApiBody({ schema: { type: 'string', example: 'reference,amount,paidOn\r\nLN-00000012/OP-778812,833.33,2020-09-15\r\n' } })
  importRepayments(
    @Param('id', new ParseUUIDPipe()) programId: string,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentStaff() staff: StaffPrincipal,
  ) {
    if (!/^text\/csv\b/i.test(contentType ?? '')) throw new ApiProblem(415, 'unsupported_media_type', 'the repayment file is text/csv');
    if (typeof body !== 'string') throw problems.validation('the CSV body could not be read');
    return this.loans.importRepayments(programId, body, createHash('sha256').update(body).digest('hex'), staff);
  }

  /** Maker: asks to write the outstanding principal off. */
  @Post('loans/:id/write-off')
  @HttpCode(200)
  @Roles('finance_operator')
  requestWriteOff(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: WriteOffRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.requestWriteOff(id, body, staff);
  }

  /** Checker: another user approves the write-off (403 same_user_cannot_approve). */
  @Post('loans/:id/write-off/approve')
  @HttpCode(200)
  @Roles('finance_approver')
  @Idempotent()
  approveWriteOff(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.loans.approveWriteOff(id, staff);
  }

  /** Runs the daily delinquency job now (it also runs every morning). */
  @Post('loans/delinquency/run')
  @HttpCode(200)
  @Roles('finance_operator', 'admin')
  runDelinquency() {
    return this.loans.runDelinquency();
  }

  @Get('programs/:id/loan-portfolio')
  @Roles(...READERS)
  portfolio(@Param('id', new ParseUUIDPipe()) programId: string) {
    return this.loans.portfolio(programId);
  }
}
