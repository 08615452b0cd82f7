-- A journal entry to post (ledger_post_set). The caller picks its id (e.g. ledger_uuid_v7).
CREATE TYPE ledger_entry_in AS (
  id uuid, kind text, idempotency_key text, effective_at timestamptz, description text, metadata jsonb,
  created_by text, reverses_entry_id uuid
);
