/**
 * What waits for a second person's approval, kind by kind. The console's inbox
 * (GET /v1/console/approvals) is the UNION ALL of these sources: a new kind of maker-checker
 * object (payment orders, loans, write-offs …) joins the inbox by adding one entry here.
 *
 * Each `sql` selects the drafts of its kind with exactly these columns, in this order:
 * kind, id, program_id, reference, detail, control_count, control_total, prepared_by,
 * prepared_by_user_id, created_at, scheduled_for.
 */
export interface ApprovalSource {
  kind: string;
  sql: string;
}

export const APPROVAL_SOURCES: readonly ApprovalSource[] = [
  {
    kind: 'cycle',
    sql: `SELECT 'cycle'::text, c.id, c.program_id, c.period || coalesce(' #' || c.load_number, ''), c.kind, c.control_count, c.control_total,
                 c.prepared_by, c.prepared_by_user_id, c.created_at, c.scheduled_for
            FROM disbursement_cycles c WHERE c.status = 'draft'`,
  },
  {
    kind: 'remittance',
    sql: `SELECT 'remittance'::text, m.id, m.program_id, m.number, NULL::text, m.item_count, m.total,
                 m.prepared_by, m.prepared_by_user_id, m.created_at, NULL::timestamptz
            FROM remittances m WHERE m.status = 'draft'`,
  },
  {
    kind: 'payout_batch',
    sql: `SELECT 'payout_batch'::text, b.id, b.program_id, b.number, b.kind, b.control_count, b.control_total,
                 b.prepared_by, b.prepared_by_user_id, b.created_at, NULL::timestamptz
            FROM payout_batches b WHERE b.status = 'draft'`,
  },
  {
    // One payment to one beneficiary: the reference is the folio, with the period it pays.
    kind: 'payment_order',
    sql: `SELECT 'payment_order'::text, o.id, o.program_id, b.folio || coalesce(' · ' || o.period, ''), NULL::text, 1, o.amount,
                 o.prepared_by, o.prepared_by_user_id, o.created_at, NULL::timestamptz
            FROM payment_orders o JOIN beneficiaries b ON b.id = o.beneficiary_id WHERE o.status = 'draft'`,
  },
  {
    // A loan application (made by a program officer, approved by a finance approver). loans keeps
    // who applied by name only; the user id is found from it, so the applicant never sees it "to approve".
    kind: 'loan',
    sql: `SELECT 'loan'::text, l.id, l.program_id, l.number, l.line, 1, l.principal,
                 l.applied_by, (SELECT u.id FROM staff_users u WHERE 'user:' || u.username = l.applied_by), l.applied_at, NULL::timestamptz
            FROM loans l WHERE l.status = 'applied'`,
  },
  {
    // A write-off asked for and not yet approved: the principal still outstanding.
    kind: 'write_off',
    sql: `SELECT 'write_off'::text, l.id, l.program_id, l.number, NULL::text, 1, l.principal - l.repaid - l.written_off,
                 l.write_off_requested_by, l.write_off_requested_by_user_id, l.write_off_requested_at, NULL::timestamptz
            FROM loans l WHERE l.write_off_requested_at IS NOT NULL AND l.written_off_at IS NULL AND l.status IN ('disbursed', 'delinquent')`,
  },
];

export const APPROVAL_KINDS = APPROVAL_SOURCES.map((s) => s.kind);

/** `to_approve`: drafts someone else prepared (what an approver may approve); `sent`: drafts I prepared, awaiting someone else. */
export const APPROVAL_SCOPES = ['to_approve', 'sent', 'all'] as const;
export type ApprovalScope = (typeof APPROVAL_SCOPES)[number];

/** The UNION ALL of every source, with stable column names. */
export function approvalsUnionSql(sources: readonly ApprovalSource[] = APPROVAL_SOURCES): string {
  const union = sources.map((s) => `(${s.sql})`).join('\n UNION ALL\n');
  return `SELECT * FROM (${union}) AS a(kind, id, program_id, reference, detail, control_count, control_total, prepared_by, prepared_by_user_id, created_at, scheduled_for)`;
}
