import type { Queryable } from '../database/queryable';
import { returnedRows } from '../database/returning';

/**
 * Persistence of loans: rows, views and the set-based statements of the daily delinquency job and
 * the portfolio. The money moves through the ledger's primitive (LedgerService), never here.
 */

export const LOAN_STATUSES = ['applied', 'approved', 'disbursed', 'delinquent', 'repaid', 'written_off'] as const;
export type LoanStatus = (typeof LOAN_STATUSES)[number];

export interface LoanRow {
  id: string;
  number: string;
  programId: string;
  beneficiaryId: string;
  line: string | null;
  principal: string;
  status: LoanStatus;
  appliedOn: string;
  appliedBy: string;
  appliedAt: Date;
  approvedBy: string | null;
  approvedByUserId: string | null;
  approvedAt: Date | null;
  acceptedAt: Date | null;
  acceptanceDocumentRef: string | null;
  acceptanceRecordedBy: string | null;
  disbursedBy: string | null;
  disbursedAt: Date | null;
  disbursedOn: string | null;
  disbursementEntryId: string | null;
  payableAccountId: string | null;
  graceMonths: number | null;
  instalmentCount: number | null;
  repaid: string;
  writtenOff: string;
  pastDueSince: string | null;
  writeOffReason: string | null;
  writeOffRequestedBy: string | null;
  writeOffRequestedByUserId: string | null;
  writeOffRequestedAt: Date | null;
  writtenOffBy: string | null;
  writtenOffAt: Date | null;
  writeOffEntryId: string | null;
  timeZone: string;
  currency: string;
}

const LOAN_COLUMNS = `l.id, l.number, l.program_id AS "programId", l.beneficiary_id AS "beneficiaryId", l.line, l.principal::text AS principal, l.status,
  to_char(l.applied_on, 'YYYY-MM-DD') AS "appliedOn", l.applied_by AS "appliedBy", l.applied_at AS "appliedAt",
  l.approved_by AS "approvedBy", l.approved_by_user_id AS "approvedByUserId", l.approved_at AS "approvedAt",
  l.accepted_at AS "acceptedAt", l.acceptance_document_ref AS "acceptanceDocumentRef", l.acceptance_recorded_by AS "acceptanceRecordedBy",
  l.disbursed_by AS "disbursedBy", l.disbursed_at AS "disbursedAt", to_char(l.disbursed_on, 'YYYY-MM-DD') AS "disbursedOn",
  l.disbursement_entry_id AS "disbursementEntryId", l.payable_account_id AS "payableAccountId", l.grace_months AS "graceMonths",
  l.instalment_count AS "instalmentCount", l.repaid::text AS repaid, l.written_off::text AS "writtenOff",
  to_char(l.past_due_since, 'YYYY-MM-DD') AS "pastDueSince", l.write_off_reason AS "writeOffReason", l.write_off_requested_by AS "writeOffRequestedBy",
  l.write_off_requested_by_user_id AS "writeOffRequestedByUserId", l.write_off_requested_at AS "writeOffRequestedAt",
  l.written_off_by AS "writtenOffBy", l.written_off_at AS "writtenOffAt", l.write_off_entry_id AS "writeOffEntryId",
  p.time_zone AS "timeZone", p.currency`;

export async function findLoan(q: Queryable, id: string, lock = false): Promise<LoanRow | null> {
  if (lock) await q.query(`SELECT 1 FROM loans WHERE id = $1 FOR UPDATE`, [id]);
  const rows = await q.query(`SELECT ${LOAN_COLUMNS} FROM loans l JOIN programs p ON p.id = l.program_id WHERE l.id = $1`, [id]);
  return rows[0] ?? null;
}

export async function findLoanByNumber(q: Queryable, programId: string, number: string): Promise<string | null> {
  const rows = await q.query(`SELECT id FROM loans WHERE program_id = $1 AND number = $2`, [programId, number]);
  return rows[0]?.id ?? null;
}

export interface InstalmentRow {
  number: number;
  dueOn: string;
  amount: string;
  paid: string;
  status: 'due' | 'late' | 'paid' | 'written_off';
}

export async function instalments(q: Queryable, loanId: string, lock = false): Promise<InstalmentRow[]> {
  return q.query(
    `SELECT number, to_char(due_on, 'YYYY-MM-DD') AS "dueOn", amount::text AS amount, paid::text AS paid, status
       FROM loan_instalments WHERE loan_id = $1 ORDER BY number ${lock ? 'FOR UPDATE' : ''}`,
    [loanId],
  );
}

/**
 * The status after a repayment or at the daily job: repaid when nothing is owed, delinquent while
 * an unpaid instalment is past due (due before today), else disbursed (current); and the oldest
 * past-due date. Marks the loan's past-due instalments late.
 */
export async function refreshLoanStanding(q: Queryable, loanId: string, today: string): Promise<void> {
  await q.query(`UPDATE loan_instalments SET status = 'late' WHERE loan_id = $1 AND status = 'due' AND due_on < $2`, [loanId, today]);
  await q.query(
    `UPDATE loans l
        SET past_due_since = s.since,
            status = CASE WHEN l.repaid + l.written_off = l.principal THEN 'repaid' WHEN s.since IS NOT NULL THEN 'delinquent' ELSE 'disbursed' END
       FROM (SELECT min(due_on) FILTER (WHERE status = 'late') AS since FROM loan_instalments WHERE loan_id = $1) s
      WHERE l.id = $1 AND l.status IN ('disbursed', 'delinquent')`,
    [loanId],
  );
}

/**
 * The daily delinquency job for one program, set-based: every unpaid instalment due before
 * `today` becomes late, and every loan with one becomes delinquent with the due date of its
 * oldest (its ageing counts from there). Loans already marked change nothing.
 */
export async function markLate(q: Queryable, programId: string, today: string): Promise<{ instalments: number; loans: number }> {
  const marked = returnedRows<{ loanId: string }>(await q.query(
    `UPDATE loan_instalments i SET status = 'late'
       FROM loans l
      WHERE i.status = 'due' AND i.due_on < $2 AND l.id = i.loan_id AND l.program_id = $1 AND l.status IN ('disbursed', 'delinquent')
     RETURNING i.loan_id AS "loanId"`,
    [programId, today],
  ));
  if (!marked.length) return { instalments: 0, loans: 0 };
  const ids = [...new Set(marked.map((m) => m.loanId))];
  const loans = returnedRows(await q.query(
    `UPDATE loans l SET status = 'delinquent', past_due_since = s.since
       FROM (SELECT loan_id, min(due_on) AS since FROM loan_instalments
              WHERE loan_id = ANY ($1::uuid[]) AND status = 'late' GROUP BY loan_id) s
      WHERE l.id = s.loan_id AND (l.status <> 'delinquent' OR l.past_due_since IS DISTINCT FROM s.since)
     RETURNING l.id`,
    [ids],
  ));
  return { instalments: marked.length, loans: loans.length };
}
