-- A hold change (ledger_post_set): op 'authorize' (a new hold on account_id) or 'release' (hold_id
-- becomes status voided | expired | captured; a capture names its entry in capture_entry_id).
CREATE TYPE ledger_hold_in AS (
  op text, hold_id uuid, account_id uuid, amount numeric, expires_at timestamptz, idempotency_key text, metadata jsonb,
  status text, captured_amount numeric, capture_entry_id uuid, at timestamptz
);
