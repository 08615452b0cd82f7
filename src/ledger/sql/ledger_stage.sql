-- The staging tables of ledger_post_staged: created once per database session, emptied at every
-- commit (ON COMMIT DELETE ROWS) and by ledger_post_staged itself. A caller calls this, inserts
-- the entries, postings and hold changes it wants posted, then calls ledger_post_staged(), with no
-- other ledger function in between: one that staged something of its own there would post the
-- caller's half-staged set with it, so a set left pending is refused here (MN006).
--   ledger_staged_entries   one row per journal entry (the caller picks its id, e.g. ledger_uuid_v7)
--   ledger_staged_postings  one row per posting, naming its staged entry
--   ledger_staged_holds     op 'authorize' (a new hold on account_id) or 'release' (hold_id becomes
--                           status voided | expired | captured; a capture names its staged entry)
CREATE OR REPLACE FUNCTION ledger_stage() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('pg_temp.ledger_staged_entries') IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM ledger_staged_entries) OR EXISTS (SELECT 1 FROM ledger_staged_postings)
       OR EXISTS (SELECT 1 FROM ledger_staged_holds) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a staged ledger set is pending: post it with ledger_post_staged() before staging another';
    END IF;
    RETURN;
  END IF;
  CREATE TEMP TABLE ledger_staged_entries (
    id                uuid NOT NULL,
    kind              text NOT NULL,
    idempotency_key   text,
    effective_at      timestamptz NOT NULL,
    description       text,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_by        text,
    reverses_entry_id uuid
  ) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE ledger_staged_postings (
    entry_id   uuid NOT NULL,
    account_id uuid NOT NULL,
    side       text NOT NULL,
    amount     numeric NOT NULL
  ) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE ledger_staged_holds (
    op               text NOT NULL,
    hold_id          uuid NOT NULL,
    account_id       uuid,
    amount           numeric,
    expires_at       timestamptz,
    idempotency_key  text,
    metadata         jsonb,
    status           text,
    captured_amount  numeric,
    capture_entry_id uuid,
    at               timestamptz NOT NULL,
    applied_account  uuid,
    applied_change   numeric
  ) ON COMMIT DELETE ROWS;
END $$;
