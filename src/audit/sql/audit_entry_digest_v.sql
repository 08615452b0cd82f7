CREATE OR REPLACE VIEW audit_entry_digest_v AS
SELECT e.id AS entry_id, e.seq, e.txid,
       sha256(convert_to(json_build_array(
         'monedero-entry-v1', e.id, e.seq, e.txid::text, e.kind, e.idempotency_key,
         to_char(e.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         e.description, e.metadata, e.reverses_entry_id, e.created_by,
         to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         coalesce(pj.postings, '[]'::json))::text, 'UTF8')) AS digest
  FROM journal_entries e
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_array(p.id, p.account_id, p.side, p.amount::text,
                    to_char(p.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) ORDER BY p.id) AS postings
      FROM postings p WHERE p.entry_id = e.id AND p.effective_at = e.effective_at) pj ON true;
