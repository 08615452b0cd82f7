import type { Queryable } from '../database/queryable';
import type { BatchKind, PayeeKind } from './payouts.rules';

/**
 * Persistence of the payouts module: the set-based statements of drafts and views. The money
 * moves in src/payouts/sql/ (payout_batch_send, payout_apply_results, payout_reintegrate_lines).
 */

export const BATCH_STATUSES = ['draft', 'sent', 'completed', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const LINE_STATUSES = ['draft', 'exception', 'cancelled', 'sent', 'paid', 'rejected'] as const;

export const BATCH_COLUMNS = `b.id, b.number, b.program_id AS "programId", b.kind, b.status, b.currency,
  b.control_count AS "controlCount", b.control_total::text AS "controlTotal", b.sent_count AS "sentCount", b.sent_total::text AS "sentTotal",
  b.exception_count AS "exceptionCount", b.exception_total::text AS "exceptionTotal", b.paid_count AS "paidCount", b.paid_total::text AS "paidTotal",
  b.rejected_count AS "rejectedCount", b.rejected_total::text AS "rejectedTotal", b.reintegrated_count AS "reintegratedCount",
  b.reintegrated_total::text AS "reintegratedTotal", b.exclusions, b.max_attempts AS "maxAttempts",
  b.transit_account_id AS "transitAccountId", b.bank_account_id AS "bankAccountId", b.send_entry_id AS "sendEntryId",
  b.results_applied AS "resultsApplied", b.prepared_by AS "preparedBy", b.prepared_by_user_id AS "preparedByUserId",
  b.approved_by AS "approvedBy", b.approved_at AS "approvedAt", b.cancelled_by AS "cancelledBy", b.cancelled_at AS "cancelledAt", b.cancel_reason AS "cancelReason",
  b.completed_at AS "completedAt", b.created_at AS "createdAt",
  f.sha256 AS "fileSha256", f.byte_count AS "fileBytes"`;

export interface BatchRow {
  id: string;
  number: string;
  programId: string;
  kind: BatchKind;
  status: BatchStatus;
  currency: string;
  controlCount: number;
  controlTotal: string;
  sentCount: number;
  sentTotal: string;
  exceptionCount: number;
  exceptionTotal: string;
  paidCount: number;
  paidTotal: string;
  rejectedCount: number;
  rejectedTotal: string;
  reintegratedCount: number;
  reintegratedTotal: string;
  exclusions: Record<string, number>;
  maxAttempts: number;
  transitAccountId: string;
  bankAccountId: string;
  sendEntryId: string | null;
  resultsApplied: number;
  preparedBy: string;
  preparedByUserId: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  completedAt: Date | null;
  createdAt: Date;
  fileSha256: string | null;
  fileBytes: number | null;
}

export async function findBatch(q: Queryable, id: string, lock = false): Promise<BatchRow | null> {
  if (lock) await q.query(`SELECT 1 FROM payout_batches WHERE id = $1 FOR UPDATE`, [id]);
  const rows = await q.query(`SELECT ${BATCH_COLUMNS} FROM payout_batches b LEFT JOIN payout_batch_files f ON f.batch_id = b.id WHERE b.id = $1`, [id]);
  return rows[0] ?? null;
}

/**
 * Who a draft pays, into the session's temp table payout_draft_work: every source of the
 * program holding money for a payee of the batch's kind — the payee payables of that kind and,
 * for kind grants, the grant accounts (tranches released to grantees) — with the amount
 * available now, the bank details to pay it to, the attempt number, and why it is left out:
 *   missing_bank_account   no bank details for the payee
 *   bank_account_rejected  the bank rejected a transfer to these details and they were not changed since
 *   baja_reintegro         a beneficiary whose baja sends the money to reintegro (rules.onBaja)
 */
export async function stageDraftCandidates(
  q: Queryable,
  input: { programId: string; payeeKind: PayeeKind; includeGrantAccounts: boolean; reintegroCauses: string[] },
): Promise<void> {
  await q.query(`DROP TABLE IF EXISTS payout_draft_work`);
  await q.query(
    `CREATE TEMP TABLE payout_draft_work ON COMMIT DROP AS
     WITH src AS (
       SELECT pp.account_id AS source_account_id, pp.kind AS payee_kind, pp.payee_id, NULL::uuid AS grant_id
         FROM payout_payables pp WHERE pp.program_id = $1 AND pp.kind = $2
       UNION ALL
       SELECT g.account_id, 'grantee', g.beneficiary_id, g.id FROM grants g WHERE $3 AND g.program_id = $1)
     SELECT s.source_account_id, s.payee_kind, s.payee_id, s.grant_id,
            CASE s.payee_kind WHEN 'insurer' THEN 'insurer' WHEN 'supplier' THEN 'supplier' ELSE 'beneficiary' END AS bank_owner_kind,
            bal.posted - bal.pending AS amount, ba.clabe, ba.holder_name, ba.version AS bank_version,
            coalesce(lastrej.attempt, 0) + 1 AS attempt,
            CASE
              WHEN ba.owner_id IS NULL THEN 'missing_bank_account'
              WHEN lastrej.bank_version IS NOT NULL AND ba.version <= lastrej.bank_version THEN 'bank_account_rejected'
              WHEN b.status = 'inactive' AND b.deactivation_cause = ANY ($4::text[]) THEN 'baja_reintegro'
            END AS reason
       FROM src s
       JOIN ledger_balances bal ON bal.account_id = s.source_account_id
       LEFT JOIN payee_bank_accounts ba
              ON ba.owner_kind = CASE s.payee_kind WHEN 'insurer' THEN 'insurer' WHEN 'supplier' THEN 'supplier' ELSE 'beneficiary' END
             AND ba.owner_id = s.payee_id
       LEFT JOIN beneficiaries b ON b.id = s.payee_id AND s.payee_kind = 'beneficiary'
       LEFT JOIN LATERAL (
         SELECT max(o.attempt) AS attempt, max(o.bank_version) AS bank_version FROM payout_lines o
          WHERE o.source_account_id = s.source_account_id AND o.status = 'rejected' AND o.followup IS NULL) lastrej ON true
      WHERE bal.posted - bal.pending > 0`,
    [input.programId, input.payeeKind, input.includeGrantAccounts, input.reintegroCauses],
  );
  await q.query(`ANALYZE payout_draft_work`);
}

export async function draftTotals(q: Queryable): Promise<{ count: number; total: string; exclusions: Record<string, number> }> {
  const rows = await q.query(
    `SELECT count(*) FILTER (WHERE reason IS NULL)::int AS count, coalesce(sum(amount) FILTER (WHERE reason IS NULL), 0)::text AS total,
            coalesce((SELECT jsonb_object_agg(reason, n) FROM (SELECT reason, count(*)::int AS n FROM payout_draft_work WHERE reason IS NOT NULL GROUP BY reason) r), '{}') AS exclusions
       FROM payout_draft_work`,
  );
  return rows[0];
}

/** The batch row, its lines (in payee order, numbered) and its exclusions, from payout_draft_work. */
export async function insertDraft(
  q: Queryable,
  b: {
    id: string;
    programId: string;
    kind: BatchKind;
    currency: string;
    count: number;
    total: string;
    exclusions: Record<string, number>;
    maxAttempts: number;
    transitAccountId: string;
    bankAccountId: string;
    preparedBy: string;
    preparedByUserId: string | null;
    now: Date;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO payout_batches (id, number, program_id, kind, currency, control_count, control_total, exclusions, max_attempts,
                                 transit_account_id, bank_account_id, prepared_by, prepared_by_user_id, created_at)
     VALUES ($1, 'PB-' || lpad(nextval('payout_batch_number_seq')::text, 8, '0'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [b.id, b.programId, b.kind, b.currency, b.count, b.total, b.exclusions, b.maxAttempts, b.transitAccountId, b.bankAccountId, b.preparedBy, b.preparedByUserId, b.now],
  );
  await q.query(
    `INSERT INTO payout_lines (id, batch_id, line_no, source_account_id, payee_kind, payee_id, grant_id, bank_owner_kind, bank_owner_id,
                               bank_version, clabe, holder_name, amount, attempt)
     SELECT gen_random_uuid(), $1, row_number() OVER (ORDER BY w.payee_kind, w.payee_id, w.source_account_id), w.source_account_id, w.payee_kind,
            w.payee_id, w.grant_id, w.bank_owner_kind, w.payee_id, w.bank_version, w.clabe, w.holder_name, w.amount, w.attempt
       FROM payout_draft_work w WHERE w.reason IS NULL`,
    [b.id],
  );
  await q.query(
    `INSERT INTO payout_exclusions (batch_id, source_account_id, payee_kind, payee_id, grant_id, reason, amount)
     SELECT $1, w.source_account_id, w.payee_kind, w.payee_id, w.grant_id, w.reason, w.amount FROM payout_draft_work w WHERE w.reason IS NOT NULL`,
    [b.id],
  );
}

/** The transfers of a sent batch in line order, for the bank file. */
export async function sentLines(q: Queryable, batchId: string): Promise<Array<{ id: string; lineNo: number; clabe: string; holderName: string; amount: string }>> {
  return q.query(
    `SELECT id, line_no AS "lineNo", clabe, holder_name AS "holderName", amount::text AS amount
       FROM payout_lines WHERE batch_id = $1 AND status IN ('sent', 'paid', 'rejected') ORDER BY line_no`,
    [batchId],
  );
}
