import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { actorOf } from '../common/auth/principal';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { isNoNegativeViolation, sqlState, SQLSTATE } from '../common/db-errors';
import { formatMoney, money, ZERO } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { returnedRows } from '../database/returning';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import type { AccountCategory } from '../ledger/ledger.types';
import { PayoutsService } from '../payouts/payouts.service';
import type { LoanRule } from '../programs/program-rules';
import { Program, ProgramsService } from '../programs/programs.service';
import {
  AGEING_BUCKETS,
  ageingBucket,
  allocateRepayment,
  assertEnrolmentOpen,
  buildSchedule,
  checkApplication,
  daysPastDue,
  parseRepaymentCsv,
} from './loans.rules';
import { findLoan, findLoanByNumber, instalments, LoanRow, markLate, refreshLoanStanding } from './loans.repository';

/** Ledger accounts of a loan program (docs/loans.md "Money path"). */
export const loanAccountCodes = (programId: string) => ({
  /** Budget reserved by approved loans not yet disbursed (program money). */
  commitment: `program:${programId}:loans:approved`,
  /** Repayments received (program money); a revolving fund passes them on to its budget, the lendable pool. */
  recoveries: `program:${programId}:loans:recoveries`,
  /** Memo accounts of no program: what borrowers owe (debit-normal) = principal lent, not repaid (credit) − written off (debit). */
  receivable: `loans:${programId}:receivable`,
  principal: `loans:${programId}:principal`,
  writtenOff: `loans:${programId}:written-off`,
});
export const collectionsBankCode = (currency: string) => `bank:loan-collections:${currency}`;

type LoanAccounts = Record<keyof ReturnType<typeof loanAccountCodes>, string>;
type LoanProgram = Program & { rules: { loan: LoanRule } };

/**
 * Loans and revolving funds (API.md "Loans and revolving funds"; docs/loans.md): application,
 * maker-checker approval against both caps, legal acceptance, disbursement through the borrower's
 * payable and the payout batches, the schedule, repayments and their bank files, the daily
 * delinquency job, write-offs and the portfolio.
 */
@Injectable()
export class LoansService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly programs: ProgramsService,
    private readonly payouts: PayoutsService,
    private readonly clock: Clock,
  ) {}

  private readonly accountIds = new Map<string, Promise<LoanAccounts>>();

  private async loanProgram(programId: string, q: Queryable = this.db): Promise<LoanProgram> {
    const program = await this.programs.getById(programId, q);
    if (program.instrumentType !== 'loan' || !program.rules.loan) throw new ApiProblem(422, 'not_a_loan_program', `${program.code} does not lend`);
    return program as LoanProgram;
  }

  /** A loan's program and its accounts, read before the use case's transaction opens (404 for an unknown loan). */
  private async context(loanId: string): Promise<{ program: LoanProgram; accounts: LoanAccounts }> {
    const program = await this.loanProgram((await this.loan(loanId)).programId);
    return { program, accounts: await this.accounts(program) };
  }

  private today(timeZone: string): string {
    return businessDate(this.clock.now(), timeZone);
  }

  // ---------------------------------------------------------------- life cycle

  /**
   * POST /v1/programs/{id}/loans: inside the enrolment window (R001-02), a principal (and line)
   * of the product, an active beneficiary of the program with no other loan open in it.
   */
  async apply(programId: string, input: { beneficiaryId: string; principal: string; line?: string }, staff: StaffPrincipal) {
    const program = await this.loanProgram(programId);
    const today = this.today(program.timeZone);
    assertEnrolmentOpen(program.rules.enrolment, today);
    const principal = money(input.principal);
    const line = checkApplication(program.rules.loan, principal, input.line);
    const id = randomUUID();
    await withTransaction(this.db, async (tx) => {
      const [b] = await tx.query(`SELECT id FROM beneficiaries WHERE id = $1 AND program_id = $2 AND status = 'active' FOR UPDATE`, [input.beneficiaryId, programId]);
      if (!b) throw new ApiProblem(422, 'beneficiary_not_active', 'the borrower must be an active beneficiary of this program');
      const [open] = await tx.query(
        `SELECT id FROM loans WHERE program_id = $1 AND beneficiary_id = $2 AND status NOT IN ('repaid', 'written_off')`,
        [programId, input.beneficiaryId],
      );
      if (open) throw new ApiProblem(409, 'loan_exists', 'this borrower already has a loan open in the program', { loanId: open.id });
      await tx.query(
        `INSERT INTO loans (id, number, program_id, beneficiary_id, line, principal, status, applied_on, applied_by, applied_at)
         VALUES ($1, 'LN-' || lpad(nextval('loan_number_seq')::text, 8, '0'), $2, $3, $4, $5, 'applied', $6, $7, $8)`,
        [id, programId, input.beneficiaryId, line, principal.toFixed(2), today, actorOf(staff), this.clock.now()],
      );
    });
    return this.view(id);
  }

  /**
   * POST /v1/loans/{id}/approve (finance_approver: a role the applicant, a program officer, does
   * not have, so the checker is never the maker): the count cap (the
   * program's counter row, incremented only below rules.loan.maxLoans) and the money cap (the
   * principal moves budget → the loans' commitment; the budget's no-negative CHECK refuses an
   * overdraft) in ONE transaction: both hold or neither is taken. For a revolving fund the budget
   * is the lendable pool, refilled by repayments. Lock order: the loan, the counter, then ledger
   * accounts (in the posting).
   */
  async approve(id: string, staff: StaffPrincipal) {
    const { program, accounts } = await this.context(id);
    await withTransaction(this.db, async (tx) => {
      const loan = await this.loan(id, tx, true);
      if (loan.status !== 'applied') throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}; only an applied loan can be approved`);
      await tx.query(`INSERT INTO loan_program_counters (program_id) VALUES ($1) ON CONFLICT DO NOTHING`, [program.id]);
      const counted = returnedRows(await tx.query(
        `UPDATE loan_program_counters SET approved = approved + 1 WHERE program_id = $1 AND ($2::int IS NULL OR approved < $2) RETURNING approved`,
        [program.id, program.rules.loan.maxLoans ?? null],
      ));
      if (!counted[0]) {
        throw new ApiProblem(422, 'loan_cap_reached', `${program.code} has approved its ${program.rules.loan.maxLoans} loans`, { maxLoans: program.rules.loan.maxLoans });
      }
      const principal = money(loan.principal);
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'loan_approval',
              idempotencyKey: `loan:${id}:approval`,
              effectiveAt: this.clock.now(),
              description: `Loan ${loan.number} approved: principal reserved from the ${program.rules.loan.revolving ? 'lendable pool' : 'budget'} of ${program.code}`,
              metadata: { loanId: id, programId: program.id, beneficiaryId: loan.beneficiaryId },
              createdBy: actorOf(staff),
              postings: [
                { accountId: program.budgetAccountId, side: 'debit', amount: principal },
                { accountId: accounts.commitment, side: 'credit', amount: principal },
              ],
            },
            tx,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) {
          throw new ApiProblem(422, 'insufficient_budget', `the principal ${formatMoney(principal)} exceeds what ${program.code} can still lend`);
        }
        throw error;
      }
      await tx.query(
        `UPDATE loans SET status = 'approved', approved_by = $2, approved_by_user_id = $3, approved_at = $4, approval_entry_id = $5 WHERE id = $1`,
        [id, actorOf(staff), staff.userId, this.clock.now(), entryId],
      );
    });
    return this.view(id);
  }

  /** POST /v1/loans/{id}/acceptance: the borrower's online legal acceptance (R000-05), recorded once, before disbursement. */
  async accept(id: string, input: { acceptedAt: string; documentRef: string }, staff: StaffPrincipal) {
    const acceptedAt = new Date(input.acceptedAt);
    if (Number.isNaN(acceptedAt.getTime())) throw problems.validation('acceptedAt is not a real instant');
    if (acceptedAt > this.clock.now()) throw problems.validation('acceptedAt cannot be in the future');
    await withTransaction(this.db, async (tx) => {
      const loan = await this.loan(id, tx, true);
      if (!['applied', 'approved'].includes(loan.status)) throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}: acceptance is recorded before disbursement`);
      if (loan.acceptedAt) throw new ApiProblem(409, 'acceptance_recorded', 'the legal acceptance of this loan is already recorded');
      await tx.query(
        `UPDATE loans SET accepted_at = $2, acceptance_document_ref = $3, acceptance_recorded_by = $4, acceptance_recorded_at = $5 WHERE id = $1`,
        [id, acceptedAt, input.documentRef, actorOf(staff), this.clock.now()],
      );
    });
    return this.view(id);
  }

  /**
   * POST /v1/loans/{id}/disburse (finance_operator): only an approved loan with its legal
   * acceptance recorded (R000-05, else 422 acceptance_required) and a borrower with bank details
   * (else 422 missing_bank_account). The principal moves from the commitment to the borrower's
   * payable, which the next `loans` payout batch sends to the bank; the receivable (memo) grows by
   * it; the schedule is fixed from today's business date.
   */
  async disburse(id: string, staff: StaffPrincipal) {
    const { program, accounts } = await this.context(id);
    await withTransaction(this.db, async (tx) => {
      const loan = await this.loan(id, tx, true);
      if (loan.status !== 'approved') throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}; only an approved loan can be disbursed`);
      if (!loan.acceptedAt) throw new ApiProblem(422, 'acceptance_required', 'R000-05: the borrower\'s online legal acceptance must be recorded before the disbursement');
      const [bank] = await tx.query(`SELECT 1 FROM payee_bank_accounts WHERE owner_kind = 'beneficiary' AND owner_id = $1`, [loan.beneficiaryId]);
      if (!bank) throw new ApiProblem(422, 'missing_bank_account', 'the borrower has no bank details (PUT /v1/beneficiaries/{id}/bank-account)');
      const payable = await this.payouts.payableAccount(program.id, 'borrower', loan.beneficiaryId, tx);
      const principal = money(loan.principal);
      const disbursedOn = this.today(program.timeZone);
      const { graceMonths, instalments: count } = program.rules.loan;
      const schedule = buildSchedule(principal, graceMonths, count, disbursedOn);
      const posted = await this.ledger.post(
        {
          kind: 'loan_disbursement',
          idempotencyKey: `loan:${id}:disbursement`,
          effectiveAt: this.clock.now(),
          description: `Loan ${loan.number} disbursed to the borrower's payable`,
          metadata: { loanId: id, programId: program.id, beneficiaryId: loan.beneficiaryId },
          createdBy: actorOf(staff),
          postings: [
            { accountId: accounts.commitment, side: 'debit', amount: principal },
            { accountId: payable, side: 'credit', amount: principal },
            { accountId: accounts.receivable, side: 'debit', amount: principal },
            { accountId: accounts.principal, side: 'credit', amount: principal },
          ],
        },
        tx,
      );
      await tx.query(
        `INSERT INTO loan_instalments (loan_id, number, due_on, amount)
         SELECT $1, t.n, t.d, t.a FROM unnest($2::int[], $3::date[], $4::numeric[]) AS t(n, d, a)`,
        [id, schedule.map((s) => s.number), schedule.map((s) => s.dueOn), schedule.map((s) => s.amount.toFixed(2))],
      );
      await tx.query(
        `UPDATE loans SET status = 'disbursed', disbursed_by = $2, disbursed_at = $3, disbursed_on = $4, disbursement_entry_id = $5,
                          payable_account_id = $6, grace_months = $7, instalment_count = $8
          WHERE id = $1`,
        [id, actorOf(staff), this.clock.now(), disbursedOn, posted.entryId, payable, graceMonths, count],
      );
    });
    return this.view(id);
  }

  // ---------------------------------------------------------------- batches (many loans, one transaction)

  /** The loans of a batch, locked in id order, all of this program and in `status` (else 404 / 409 with their ids). */
  private async lockBatch(tx: Queryable, programId: string, loanIds: string[], status: 'applied' | 'approved') {
    const ids = [...new Set(loanIds)].sort();
    const rows: Array<{ id: string; beneficiaryId: string; principal: string; status: string; accepted: boolean; bank: boolean }> = await tx.query(
      `SELECT l.id, l.beneficiary_id AS "beneficiaryId", l.principal::text AS principal, l.status, l.accepted_at IS NOT NULL AS accepted,
              EXISTS (SELECT 1 FROM payee_bank_accounts ba WHERE ba.owner_kind = 'beneficiary' AND ba.owner_id = l.beneficiary_id) AS bank
         FROM loans l WHERE l.id = ANY ($1::uuid[]) AND l.program_id = $2 ORDER BY l.id FOR UPDATE OF l`,
      [ids, programId],
    );
    if (rows.length < ids.length) {
      const found = new Set(rows.map((r) => r.id));
      throw new ApiProblem(404, 'not_found', 'some loans are not loans of this program', { loanIds: ids.filter((i) => !found.has(i)).slice(0, 100) });
    }
    const wrong = rows.filter((r) => r.status !== status);
    if (wrong.length) throw new ApiProblem(409, 'invalid_loan_state', `every loan of the batch must be ${status}`, { loanIds: wrong.map((r) => r.id).slice(0, 100) });
    return rows;
  }

  /**
   * POST /v1/programs/{id}/loans/approve {loanIds} (finance_approver): many applied loans approved
   * in ONE transaction, all or none: the counter moves by the batch's count only if it stays within
   * maxLoans (else 422 loan_cap_reached), and one entry moves the batch's total from the budget to
   * the commitment (else 422 insufficient_budget). The same caps, checked the same way, as one
   * approval; for the volumes of FONDESOC (50,000 loans), where one commit per loan is the cost.
   */
  async approveBatch(programId: string, loanIds: string[], staff: StaffPrincipal) {
    const program = await this.loanProgram(programId);
    const accounts = await this.accounts(program);
    const batchId = randomUUID();
    return withTransaction(this.db, async (tx) => {
      const rows = await this.lockBatch(tx, programId, loanIds, 'applied');
      await tx.query(`INSERT INTO loan_program_counters (program_id) VALUES ($1) ON CONFLICT DO NOTHING`, [program.id]);
      const counted = returnedRows(await tx.query(
        `UPDATE loan_program_counters SET approved = approved + $3 WHERE program_id = $1 AND ($2::int IS NULL OR approved + $3 <= $2) RETURNING approved`,
        [program.id, program.rules.loan.maxLoans ?? null, rows.length],
      ));
      if (!counted[0]) {
        throw new ApiProblem(422, 'loan_cap_reached', `approving ${rows.length} loans would pass the ${program.rules.loan.maxLoans} loans of ${program.code}`, { maxLoans: program.rules.loan.maxLoans });
      }
      const total = rows.reduce((sum, r) => sum.plus(money(r.principal)), ZERO);
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'loan_approval',
              idempotencyKey: `loan-batch:${batchId}:approval`,
              effectiveAt: this.clock.now(),
              description: `${rows.length} loans approved: principal reserved from the ${program.rules.loan.revolving ? 'lendable pool' : 'budget'} of ${program.code}`,
              metadata: { programId: program.id, loanBatchId: batchId, loans: rows.length },
              createdBy: actorOf(staff),
              postings: [
                { accountId: program.budgetAccountId, side: 'debit', amount: total },
                { accountId: accounts.commitment, side: 'credit', amount: total },
              ],
            },
            tx,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) throw new ApiProblem(422, 'insufficient_budget', `the batch's principal ${formatMoney(total)} exceeds what ${program.code} can still lend`);
        throw error;
      }
      await tx.query(
        `UPDATE loans SET status = 'approved', approved_by = $2, approved_by_user_id = $3, approved_at = $4, approval_entry_id = $5 WHERE id = ANY ($1::uuid[])`,
        [rows.map((r) => r.id), actorOf(staff), staff.userId, this.clock.now(), entryId],
      );
      return { batchId, approved: rows.length, total: formatMoney(total), journalEntryId: entryId };
    });
  }

  /**
   * POST /v1/programs/{id}/loans/disburse {loanIds} (finance_operator): many approved loans
   * disbursed in ONE transaction, all or none, with the checks of one disbursement (422
   * acceptance_required, missing_bank_account with the loans' ids): one entry credits every
   * borrower's payable from the commitment (and the receivable memo by the total), the schedules
   * are fixed from today's business date.
   */
  async disburseBatch(programId: string, loanIds: string[], staff: StaffPrincipal) {
    const program = await this.loanProgram(programId);
    const accounts = await this.accounts(program);
    const batchId = randomUUID();
    return withTransaction(this.db, async (tx) => {
      const rows = await this.lockBatch(tx, programId, loanIds, 'approved');
      const unaccepted = rows.filter((r) => !r.accepted);
      if (unaccepted.length) {
        throw new ApiProblem(422, 'acceptance_required', "R000-05: the borrower's online legal acceptance must be recorded before the disbursement", { loanIds: unaccepted.map((r) => r.id).slice(0, 100) });
      }
      const noBank = rows.filter((r) => !r.bank);
      if (noBank.length) throw new ApiProblem(422, 'missing_bank_account', 'some borrowers have no bank details', { loanIds: noBank.map((r) => r.id).slice(0, 100) });
      const payables = await this.payouts.payableAccounts(program.id, 'borrower', rows.map((r) => r.beneficiaryId), tx);
      const disbursedOn = this.today(program.timeZone);
      const { graceMonths, instalments: count } = program.rules.loan;
      const total = rows.reduce((sum, r) => sum.plus(money(r.principal)), ZERO);
      const posted = await this.ledger.post(
        {
          kind: 'loan_disbursement',
          idempotencyKey: `loan-batch:${batchId}:disbursement`,
          effectiveAt: this.clock.now(),
          description: `${rows.length} loans disbursed to their borrowers' payables`,
          metadata: { programId: program.id, loanBatchId: batchId, loans: rows.length },
          createdBy: actorOf(staff),
          postings: [
            { accountId: accounts.commitment, side: 'debit', amount: total },
            ...rows.map((r, i) => ({ accountId: payables[i], side: 'credit' as const, amount: money(r.principal) })),
            { accountId: accounts.receivable, side: 'debit', amount: total },
            { accountId: accounts.principal, side: 'credit', amount: total },
          ],
        },
        tx,
      );
      const loanCol: string[] = [];
      const numberCol: number[] = [];
      const dueCol: string[] = [];
      const amountCol: string[] = [];
      for (const r of rows) {
        for (const i of buildSchedule(money(r.principal), graceMonths, count, disbursedOn)) {
          loanCol.push(r.id);
          numberCol.push(i.number);
          dueCol.push(i.dueOn);
          amountCol.push(i.amount.toFixed(2));
        }
      }
      await tx.query(
        `INSERT INTO loan_instalments (loan_id, number, due_on, amount) SELECT * FROM unnest($1::uuid[], $2::int[], $3::date[], $4::numeric[])`,
        [loanCol, numberCol, dueCol, amountCol],
      );
      await tx.query(
        `UPDATE loans l SET status = 'disbursed', disbursed_by = $3, disbursed_at = $4, disbursed_on = $5, disbursement_entry_id = $6,
                            payable_account_id = t.payable, grace_months = $7, instalment_count = $8
           FROM unnest($1::uuid[], $2::uuid[]) AS t(id, payable) WHERE l.id = t.id`,
        [rows.map((r) => r.id), payables, actorOf(staff), this.clock.now(), disbursedOn, posted.entryId, graceMonths, count],
      );
      return { batchId, disbursed: rows.length, total: formatMoney(total), disbursedOn, journalEntryId: posted.entryId };
    });
  }

  // ---------------------------------------------------------------- repayments

  /** POST /v1/loans/{id}/repayments: one payment, oldest instalment first; 409 duplicate_repayment for a reference already recorded. */
  async repay(id: string, input: { amount: string; paidOn: string; reference: string }, staff: StaffPrincipal) {
    const { program, accounts } = await this.context(id);
    const outcome = await withTransaction(this.db, (tx) => this.applyRepayment(tx, { program, accounts }, id, input, actorOf(staff), null));
    if (outcome.status === 'unchanged' || outcome.status === 'conflict') {
      throw new ApiProblem(409, 'duplicate_repayment', `a repayment with the reference ${input.reference} is already recorded in this program`, { repaymentId: outcome.repaymentId });
    }
    return { ...outcome.repayment, loan: await this.view(id) };
  }

  /**
   * One repayment under the loan's row lock: `unchanged` when the same reference was recorded with
   * the same loan and amount (an import read twice), `conflict` when the reference was recorded
   * differently. The money arrives at the collections bank and goes to the program's recoveries
   * account, and on to the budget (the lendable pool) when the fund revolves (R001-01); the
   * receivable (memo) shrinks by it.
   */
  private async applyRepayment(
    tx: Queryable,
    { program, accounts }: { program: LoanProgram; accounts: LoanAccounts },
    loanId: string,
    input: { amount: string; paidOn: string; reference: string },
    actor: string,
    importId: string | null,
  ): Promise<{ status: 'applied' | 'unchanged' | 'conflict'; repaymentId: string; repayment?: Record<string, unknown> }> {
    const loan = await this.loan(loanId, tx, true);
    const [prior] = await tx.query(`SELECT id, loan_id AS "loanId", amount::text AS amount FROM loan_repayments WHERE program_id = $1 AND reference = $2`, [
      loan.programId,
      input.reference,
    ]);
    if (prior) {
      const same = prior.loanId === loanId && money(prior.amount).eq(money(input.amount));
      return { status: same ? 'unchanged' : 'conflict', repaymentId: prior.id };
    }
    if (!['disbursed', 'delinquent', 'repaid'].includes(loan.status)) {
      throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}: repayments are taken on disbursed loans`);
    }
    if (!isDate(input.paidOn)) throw problems.validation('paidOn is not a real date');
    const today = this.today(loan.timeZone);
    if (input.paidOn > today) throw problems.validation('paidOn cannot be in the future');
    if (input.paidOn < loan.disbursedOn!) throw problems.validation('paidOn is before the disbursement');
    const amount = money(input.amount);
    const rows = await instalments(tx, loanId, true);
    const allocation = allocateRepayment(
      rows.map((r) => ({ number: r.number, amount: money(r.amount), paid: money(r.paid) })),
      amount,
    );
    if (loan.programId !== program.id) throw new ApiProblem(422, 'unknown_loan', 'the loan is not of this program');
    const bank = await this.ledger.ensureAccount(
      { code: collectionsBankCode(program.currency), name: `Loan repayments received (${program.currency})`, category: 'bank', normalSide: 'debit', currency: program.currency },
      tx,
    );
    const id = randomUUID();
    const meta = { loanId, programId: program.id, beneficiaryId: loan.beneficiaryId, repaymentId: id, reference: input.reference, paidOn: input.paidOn };
    const receipt = await this.ledger.post(
      {
        kind: 'loan_repayment',
        idempotencyKey: `loan-repayment:${program.id}:${input.reference}`,
        effectiveAt: this.clock.now(),
        description: `Repayment of loan ${loan.number}: ${input.reference}`,
        metadata: meta,
        createdBy: actor,
        postings: [
          { accountId: bank.id, side: 'debit', amount },
          { accountId: accounts.recoveries, side: 'credit', amount },
          { accountId: accounts.principal, side: 'debit', amount },
          { accountId: accounts.receivable, side: 'credit', amount },
        ],
      },
      tx,
    );
    if (program.rules.loan.revolving) {
      await this.ledger.post(
        {
          kind: 'loan_pool_return',
          idempotencyKey: `loan-repayment:${program.id}:${input.reference}:pool`,
          effectiveAt: this.clock.now(),
          description: `Repayment of loan ${loan.number} back to the lendable pool of ${program.code}`,
          metadata: meta,
          createdBy: actor,
          postings: [
            { accountId: accounts.recoveries, side: 'debit', amount },
            { accountId: program.budgetAccountId, side: 'credit', amount },
          ],
        },
        tx,
      );
    }
    await tx.query(
      `UPDATE loan_instalments i SET paid = i.paid + t.applied, status = CASE WHEN i.paid + t.applied = i.amount THEN 'paid' ELSE i.status END,
              paid_on = CASE WHEN i.paid + t.applied = i.amount THEN $4::date ELSE i.paid_on END
         FROM unnest($2::int[], $3::numeric[]) AS t(number, applied)
        WHERE i.loan_id = $1 AND i.number = t.number`,
      [loanId, allocation.map((a) => a.number), allocation.map((a) => a.applied.toFixed(2)), input.paidOn],
    );
    await tx.query(`UPDATE loans SET repaid = repaid + $2 WHERE id = $1`, [loanId, amount.toFixed(2)]);
    await refreshLoanStanding(tx, loanId, today);
    const allocated = allocation.map((a) => ({ number: a.number, amount: formatMoney(a.applied) }));
    try {
      await tx.query(
        `INSERT INTO loan_repayments (id, loan_id, program_id, amount, paid_on, reference, allocation, entry_id, import_id, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [id, loanId, program.id, amount.toFixed(2), input.paidOn, input.reference, JSON.stringify(allocated), receipt.entryId, importId, actor, this.clock.now()],
      );
    } catch (error) {
      if (sqlState(error) === SQLSTATE.uniqueViolation) throw new ApiProblem(409, 'duplicate_repayment', `a repayment with the reference ${input.reference} is already recorded`);
      throw error;
    }
    return {
      status: 'applied',
      repaymentId: id,
      repayment: { id, loanId, amount: formatMoney(amount), paidOn: input.paidOn, reference: input.reference, allocation: allocated, journalEntryId: receipt.entryId },
    };
  }

  /**
   * POST /v1/programs/{id}/loan-repayments/import: the bank's repayment file (CSV: reference,
   * amount, paidOn). Each line is applied in its own transaction and answered: applied,
   * unchanged (already imported: nothing moves), or refused with its reason. Idempotent.
   */
  async importRepayments(programId: string, text: string, sha256: string, staff: StaffPrincipal) {
    const program = await this.loanProgram(programId);
    const context = { program, accounts: await this.accounts(program) };
    const parsed = parseRepaymentCsv(text);
    const importId = randomUUID();
    await this.db.query(
      `INSERT INTO loan_repayment_imports (id, program_id, sha256, line_count, applied, unchanged, refused, imported_by, created_at) VALUES ($1, $2, $3, $4, 0, 0, 0, $5, $6)`,
      [importId, program.id, sha256, parsed.lines.length + parsed.refused.length, actorOf(staff), this.clock.now()],
    );
    const results: Array<{ line: number; reference: string | null; status: 'applied' | 'unchanged' | 'refused'; reason?: string; repaymentId?: string; loanId?: string }> =
      parsed.refused.map((r) => ({ ...r, status: 'refused' as const }));
    for (const l of parsed.lines) {
      const loanId = await findLoanByNumber(this.db, program.id, l.loanNumber);
      if (!loanId) {
        results.push({ line: l.line, reference: l.reference, status: 'refused', reason: 'unknown_loan' });
        continue;
      }
      try {
        const r = await withTransaction(this.db, (tx) => this.applyRepayment(tx, context, loanId, l, actorOf(staff), importId));
        if (r.status === 'conflict') results.push({ line: l.line, reference: l.reference, status: 'refused', reason: 'reference_conflict', repaymentId: r.repaymentId, loanId });
        else results.push({ line: l.line, reference: l.reference, status: r.status, repaymentId: r.repaymentId, loanId });
      } catch (error) {
        if (!(error instanceof ApiProblem) || error.status >= 500) throw error;
        results.push({ line: l.line, reference: l.reference, status: 'refused', reason: error.code, loanId });
      }
    }
    results.sort((a, b) => a.line - b.line);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    await this.db.query(`UPDATE loan_repayment_imports SET applied = $2, unchanged = $3, refused = $4 WHERE id = $1`, [importId, count('applied'), count('unchanged'), count('refused')]);
    return { importId, lines: results.length, applied: count('applied'), unchanged: count('unchanged'), refused: count('refused'), results };
  }

  // ---------------------------------------------------------------- delinquency and write-off

  /**
   * The daily job (queue `loans`, and POST /v1/loans/delinquency/run): in each loan program, at
   * the business date of the clock in the program's time zone, unpaid instalments due before it
   * become late and their loans delinquent. Idempotent: a second run the same day changes nothing.
   */
  async runDelinquency(programId?: string) {
    const programs: Array<{ id: string; timeZone: string }> = await this.db.query(
      `SELECT id, time_zone AS "timeZone" FROM programs WHERE instrument_type = 'loan' AND ($1::uuid IS NULL OR id = $1) ORDER BY id`,
      [programId ?? null],
    );
    const out: Array<{ programId: string; date: string; instalmentsLate: number; loansDelinquent: number }> = [];
    for (const p of programs) {
      const date = this.today(p.timeZone);
      const r = await withTransaction(this.db, (tx) => markLate(tx, p.id, date));
      out.push({ programId: p.id, date, instalmentsLate: r.instalments, loansDelinquent: r.loans });
    }
    return { programs: out };
  }

  /** POST /v1/loans/{id}/write-off (finance_operator): asks to write the outstanding principal off; a finance_approver decides. */
  async requestWriteOff(id: string, input: { reason: string }, staff: StaffPrincipal) {
    await withTransaction(this.db, async (tx) => {
      const loan = await this.loan(id, tx, true);
      if (!['disbursed', 'delinquent'].includes(loan.status)) throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}: only an outstanding loan can be written off`);
      if (loan.writeOffRequestedAt) throw new ApiProblem(409, 'write_off_requested', 'a write-off of this loan is already waiting for approval');
      await tx.query(
        `UPDATE loans SET write_off_reason = $2, write_off_requested_by = $3, write_off_requested_by_user_id = $4, write_off_requested_at = $5 WHERE id = $1`,
        [id, input.reason, actorOf(staff), staff.userId, this.clock.now()],
      );
    });
    return this.view(id);
  }

  /**
   * POST /v1/loans/{id}/write-off/approve (finance_approver, never the requester): the outstanding
   * principal leaves the receivable for the written-off memo account; no program money moves (it
   * left at disbursement). The open instalments are closed as written_off.
   */
  async approveWriteOff(id: string, staff: StaffPrincipal) {
    const { program, accounts } = await this.context(id);
    await withTransaction(this.db, async (tx) => {
      const loan = await this.loan(id, tx, true);
      if (!loan.writeOffRequestedAt || loan.writtenOffAt) throw new ApiProblem(409, 'invalid_loan_state', 'no write-off of this loan is waiting for approval');
      if (loan.writeOffRequestedByUserId === staff.userId) throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who asked for the write-off cannot approve it');
      if (!['disbursed', 'delinquent'].includes(loan.status)) throw new ApiProblem(409, 'invalid_loan_state', `the loan is ${loan.status}: nothing is outstanding to write off`);
      const outstanding = money(loan.principal).minus(money(loan.repaid)).minus(money(loan.writtenOff));
      const posted = await this.ledger.post(
        {
          kind: 'loan_write_off',
          idempotencyKey: `loan:${id}:write-off`,
          effectiveAt: this.clock.now(),
          description: `Loan ${loan.number} written off: ${loan.writeOffReason}`,
          metadata: { loanId: id, programId: program.id, beneficiaryId: loan.beneficiaryId },
          createdBy: actorOf(staff),
          postings: [
            { accountId: accounts.writtenOff, side: 'debit', amount: outstanding },
            { accountId: accounts.receivable, side: 'credit', amount: outstanding },
          ],
        },
        tx,
      );
      await tx.query(`UPDATE loan_instalments SET status = 'written_off' WHERE loan_id = $1 AND status IN ('due', 'late')`, [id]);
      await tx.query(
        `UPDATE loans SET status = 'written_off', written_off = $2, written_off_by = $3, written_off_at = $4, write_off_entry_id = $5, past_due_since = NULL WHERE id = $1`,
        [id, outstanding.toFixed(2), actorOf(staff), this.clock.now(), posted.entryId],
      );
    });
    return this.view(id);
  }

  // ---------------------------------------------------------------- accounts

  /**
   * The program's loan accounts, ensured once per process in their own autocommit statements
   * (never inside a use case's transaction, whose rollback would leave a cached id pointing at
   * nothing) and remembered: ledger accounts are never deleted.
   */
  private accounts(program: Program): Promise<LoanAccounts> {
    let known = this.accountIds.get(program.id);
    if (!known) {
      // Concurrent first requests share one ensure; a failed one is forgotten.
      known = this.ensureAccounts(program);
      this.accountIds.set(program.id, known);
      known.catch(() => this.accountIds.delete(program.id));
    }
    return known;
  }

  private async ensureAccounts(program: Program, q: Queryable = this.db): Promise<LoanAccounts> {
    const codes = loanAccountCodes(program.id);
    const ensure = (code: string, category: AccountCategory, name: string, own: boolean, normalSide: 'debit' | 'credit' = 'credit') =>
      this.ledger.ensureAccount(
        {
          code,
          name: `${program.code} ${name}`,
          category,
          normalSide,
          programId: own ? program.id : null,
          ownerType: 'program',
          ownerId: program.id,
          currency: program.currency,
          noNegativeBalance: true,
        },
        q,
      );
    // Another process creating the same account at the same moment: its row is invisible to this
    // statement's snapshot (nothing comes back), and visible to the next one.
    const spec = async (...a: Parameters<typeof ensure>) => (await ensure(...a)) ?? (await ensure(...a));
    return {
      commitment: (await spec(codes.commitment, 'loan_commitment', 'loans approved, not disbursed', true)).id,
      recoveries: (await spec(codes.recoveries, 'loan_recoveries', 'loan repayments recovered', true)).id,
      receivable: (await spec(codes.receivable, 'loan_receivable', 'principal owed by borrowers (memo)', false, 'debit')).id,
      principal: (await spec(codes.principal, 'loan_principal', 'principal lent, not repaid (memo)', false)).id,
      writtenOff: (await spec(codes.writtenOff, 'loan_written_off', 'principal written off (memo)', false, 'debit')).id,
    };
  }

  // ---------------------------------------------------------------- views and reports

  private async loan(id: string, q: Queryable = this.db, lock = false): Promise<LoanRow> {
    const loan = await findLoan(q, id, lock);
    if (!loan) throw problems.notFound('loan');
    return loan;
  }

  async view(id: string, q: Queryable = this.db) {
    const l = await this.loan(id, q);
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    const outstanding = l.disbursedAt ? money(l.principal).minus(money(l.repaid)).minus(money(l.writtenOff)) : ZERO;
    // Past due as of today's business date, from the instalments (right even before the day's job ran).
    const today = this.today(l.timeZone);
    const open = ['disbursed', 'delinquent'].includes(l.status);
    const [due] = open
      ? await q.query(`SELECT to_char(min(due_on), 'YYYY-MM-DD') AS since FROM loan_instalments WHERE loan_id = $1 AND status IN ('due', 'late') AND due_on < $2`, [id, today])
      : [{ since: null }];
    const pastDueSince: string | null = due.since;
    const days = open ? daysPastDue(pastDueSince, today) : 0;
    return {
      id: l.id,
      number: l.number,
      programId: l.programId,
      beneficiaryId: l.beneficiaryId,
      line: l.line,
      currency: l.currency,
      principal: formatMoney(l.principal),
      status: l.status,
      appliedOn: l.appliedOn,
      appliedBy: l.appliedBy,
      approvedBy: l.approvedBy,
      approvedAt: iso(l.approvedAt),
      acceptance: l.acceptedAt ? { acceptedAt: iso(l.acceptedAt), documentRef: l.acceptanceDocumentRef, recordedBy: l.acceptanceRecordedBy } : null,
      disbursedBy: l.disbursedBy,
      disbursedAt: iso(l.disbursedAt),
      disbursedOn: l.disbursedOn,
      graceMonths: l.graceMonths,
      instalments: l.instalmentCount,
      repaid: formatMoney(l.repaid),
      writtenOff: formatMoney(l.writtenOff),
      outstanding: formatMoney(outstanding),
      pastDueSince,
      daysPastDue: days,
      ageingBucket: l.disbursedAt ? ageingBucket(days) : null,
      payableAccountId: l.payableAccountId,
      disbursementEntryId: l.disbursementEntryId,
      writeOff: l.writeOffRequestedAt
        ? { reason: l.writeOffReason, requestedBy: l.writeOffRequestedBy, requestedAt: iso(l.writeOffRequestedAt), approvedBy: l.writtenOffBy, approvedAt: iso(l.writtenOffAt), journalEntryId: l.writeOffEntryId }
        : null,
    };
  }

  /** GET /v1/loans/{id}/schedule: the instalments fixed at disbursement (none before it). */
  async schedule(id: string) {
    await this.loan(id);
    return (await instalments(this.db, id)).map((i) => ({ number: i.number, dueOn: i.dueOn, amount: formatMoney(i.amount), paid: formatMoney(i.paid), status: i.status }));
  }

  /**
   * GET /v1/programs/{id}/loan-portfolio (docs/loans.md "Portfolio"): loans and outstanding by
   * status and by ageing bucket (at today's business date, from the oldest unpaid instalment
   * past due), both caps, collections expected per month, the repayment rate, execution by zone
   * (R001-05) and the fund's reconciliation.
   */
  async portfolio(programId: string) {
    const program = await this.loanProgram(programId);
    const today = this.today(program.timeZone);
    const byStatus: Array<{ status: string; loans: number; principal: string; outstanding: string }> = await this.db.query(
      `SELECT status, count(*)::int AS loans, sum(principal)::text AS principal,
              sum(CASE WHEN disbursed_at IS NULL THEN 0 ELSE principal - repaid - written_off END)::text AS outstanding
         FROM loans WHERE program_id = $1 GROUP BY status ORDER BY status`,
      [programId],
    );
    const ageing: Array<{ days: number; loans: number; outstanding: string }> = await this.db.query(
      `SELECT coalesce($2::date - s.since, 0) AS days, count(*)::int AS loans, sum(l.principal - l.repaid - l.written_off)::text AS outstanding
         FROM loans l
         LEFT JOIN LATERAL (SELECT min(i.due_on) AS since FROM loan_instalments i
                             WHERE i.loan_id = l.id AND i.status IN ('due', 'late') AND i.due_on < $2::date) s ON true
        WHERE l.program_id = $1 AND l.status IN ('disbursed', 'delinquent')
        GROUP BY 1`,
      [programId, today],
    );
    const buckets = Object.fromEntries(AGEING_BUCKETS.map((b) => [b, { loans: 0, outstanding: ZERO }]));
    for (const a of ageing) {
      const b = buckets[ageingBucket(a.days)];
      b.loans += a.loans;
      b.outstanding = b.outstanding.plus(money(a.outstanding));
    }
    const expected: Array<{ month: string; amount: string }> = await this.db.query(
      `SELECT to_char(i.due_on, 'YYYY-MM') AS month, sum(i.amount - i.paid)::text AS amount
         FROM loan_instalments i JOIN loans l ON l.id = i.loan_id
        WHERE l.program_id = $1 AND i.status IN ('due', 'late') GROUP BY 1 ORDER BY 1`,
      [programId],
    );
    const [due] = await this.db.query(
      `SELECT coalesce(sum(i.amount), 0)::text AS due, coalesce(sum(i.paid), 0)::text AS paid
         FROM loan_instalments i JOIN loans l ON l.id = i.loan_id WHERE l.program_id = $1 AND i.due_on < $2::date`,
      [programId, today],
    );
    const byZone: Array<{ zone: string | null; loans: number; disbursed: string; outstanding: string }> = await this.db.query(
      `SELECT nullif(b.address->>'municipality', '') AS zone, count(*)::int AS loans, sum(l.principal)::text AS disbursed,
              sum(l.principal - l.repaid - l.written_off)::text AS outstanding
         FROM loans l JOIN beneficiaries b ON b.id = l.beneficiary_id
        WHERE l.program_id = $1 AND l.disbursed_at IS NOT NULL GROUP BY 1 ORDER BY 1 NULLS LAST`,
      [programId],
    );
    const [counter] = await this.db.query(`SELECT approved FROM loan_program_counters WHERE program_id = $1`, [programId]);
    const fund = await this.fund(program);
    const dueAmount = money(due.due);
    return {
      programId,
      currency: program.currency,
      asOf: today,
      byStatus: byStatus.map((s) => ({ ...s, principal: formatMoney(s.principal), outstanding: formatMoney(s.outstanding) })),
      ageing: AGEING_BUCKETS.map((b) => ({ bucket: b, loans: buckets[b].loans, outstanding: formatMoney(buckets[b].outstanding) })),
      caps: {
        loans: { approved: counter?.approved ?? 0, max: program.rules.loan.maxLoans ?? null },
        money: {
          basis: program.rules.loan.revolving ? 'lendable_pool' : 'budget',
          capital: fund.capital,
          lent: fund.disbursed,
          committed: fund.committed,
          available: fund.lendable,
        },
      },
      expectedCollections: expected.map((e) => ({ month: e.month, amount: formatMoney(e.amount) })),
      repaymentRate: dueAmount.gt(0) ? money(due.paid).div(dueAmount).toDecimalPlaces(4).toFixed(4) : null,
      byZone: byZone.map((z) => ({ ...z, disbursed: formatMoney(z.disbursed), outstanding: formatMoney(z.outstanding) })),
      fund,
    };
  }

  /**
   * The fund's reconciliation (docs/loans.md "Reconciliation"), every figure from the ledger:
   * capital (appropriated) + repayments returned to the pool − disbursed − committed = lendable
   * (the budget's available balance), and disbursed − repaid − written off = the receivable.
   */
  private async fund(program: Program) {
    const codes = loanAccountCodes(program.id);
    const [r] = await this.db.query(
      `SELECT
         coalesce((SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                    WHERE p.account_id = $1 AND p.side = 'credit' AND e.kind = 'appropriation'), 0)::text AS capital,
         coalesce((SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                    WHERE p.account_id = $1 AND p.side = 'credit' AND e.kind = 'loan_pool_return'), 0)::text AS returned,
         coalesce((SELECT posted_credits FROM ledger_balances WHERE code = $2), 0)::text AS disbursed,
         coalesce((SELECT posted_debits FROM ledger_balances WHERE code = $2), 0)::text AS repaid,
         coalesce((SELECT posted FROM ledger_balances WHERE code = $3), 0)::text AS "writtenOff",
         coalesce((SELECT posted FROM ledger_balances WHERE code = $4), 0)::text AS receivable,
         coalesce((SELECT posted FROM ledger_balances WHERE code = $5), 0)::text AS committed,
         coalesce((SELECT posted FROM ledger_balances WHERE code = $6), 0)::text AS recovered,
         (SELECT posted - pending FROM ledger_balances WHERE account_id = $1)::text AS lendable`,
      [program.budgetAccountId, codes.principal, codes.writtenOff, codes.receivable, codes.commitment, codes.recoveries],
    );
    const f = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, money(v as string)])) as Record<string, ReturnType<typeof money>>;
    const lendableExpected = f.capital.plus(f.returned).minus(f.disbursed).minus(f.committed);
    const receivableExpected = f.disbursed.minus(f.repaid).minus(f.writtenOff);
    return {
      capital: formatMoney(f.capital),
      repaid: formatMoney(f.repaid),
      returnedToPool: formatMoney(f.returned),
      recoveredNotLendable: formatMoney(f.recovered),
      disbursed: formatMoney(f.disbursed),
      committed: formatMoney(f.committed),
      writtenOff: formatMoney(f.writtenOff),
      lendable: formatMoney(f.lendable),
      receivable: formatMoney(f.receivable),
      ok: f.lendable.eq(lendableExpected) && f.receivable.eq(receivableExpected),
    };
  }
}
