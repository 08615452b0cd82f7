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
