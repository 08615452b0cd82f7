-- The ledger's one posting primitive: every money path (ledger_post, holds, cycle chunks,
-- redemption batches, voucher sweeps, …) posts through it. The caller calls ledger_stage(),
-- inserts the journal entries, postings and hold changes it wants into the staging tables, and
-- calls this, which posts the whole set with a fixed group of set-based statements, however many
-- entries there are:
--  1. checks: every posting on side debit or credit with a positive amount of at most two
--     decimals (NUMERIC(18,2) would round a third one silently); new holds on credit-normal,
--     non-deferred accounts, expiring later (SQLSTATE MN006);
--  2. entries, idempotent on their key: one whose key is taken (posted before, or by a concurrent
--     transaction that committed first) is skipped with its postings and reported, not posted;
--  3. postings, all in ONE statement: the postings_balanced trigger refuses an entry that does not
--     balance or lacks a debit or a credit (MN002), a posting to an unknown account (23503) and an
--     append to an existing entry, for every entry at once; an entry without postings is refused;
--  4. every guarded (non-deferred) account touched is locked in id order, the order every writer
--     uses, so two writers never deadlock on accounts; hot (deferred) accounts are never locked;
--  5. hold changes: new holds inserted (idempotent on their key), released holds resolved when
--     still authorized (locked after their account: accounts before holds, everywhere);
--  6. account totals, once per account: posted debits and credits and the pending change, where
--     the no-negative CHECK refuses an overdraft in the same statement; hot accounts take an
--     appended delta instead (ledger_rollup folds them in). The same statement reads the
--     accounts' currencies, and every entry's accounts must share one (MN006).
-- Locks are taken late (step 4) so that a hot guarded row, such as a cycle's commitment debited
-- by every chunk, stays locked only from there to commit. Any refusal raises, and the caller's
-- transaction writes nothing.
-- Returns a row for each staged entry or new hold that was not applied because its key was
-- already taken: (kind 'entry' | 'hold', the staged id, the existing id). Normally none.
CREATE OR REPLACE FUNCTION ledger_post_staged()
RETURNS TABLE (o_kind text, o_staged uuid, o_existing uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_entries integer;
  v_inserted integer;
  v_problem text;
  v_moved integer;
  v_updated integer;
  v_currency_min text;
  v_currency_max text;
  v_with_postings integer;
  v_kinds text[] := '{}';
  v_staged uuid[] := '{}';
  v_existing uuid[] := '{}';
BEGIN
  SELECT count(*) INTO v_entries FROM ledger_staged_entries;

  -- 1. Checks.
  SELECT format('journal entry %s: postings need a side (debit or credit) and a positive amount with at most two decimals', p.entry_id)
    INTO v_problem
    FROM ledger_staged_postings p
   WHERE p.amount <= 0 OR p.amount <> round(p.amount, 2) OR p.side NOT IN ('debit', 'credit')
   LIMIT 1;
  IF v_problem IS NULL AND EXISTS (SELECT 1 FROM ledger_staged_holds) THEN
    UPDATE ledger_staged_holds s SET account_id = h.account_id
      FROM ledger_holds h WHERE s.op = 'release' AND s.account_id IS NULL AND h.id = s.hold_id;
    SELECT format('hold %s: %s', g.hold_id, g.reason) INTO v_problem
      FROM (SELECT s.hold_id, CASE
                     WHEN s.op NOT IN ('authorize', 'release') THEN 'a hold change is authorize or release'
                     WHEN s.op = 'release' AND s.account_id IS NULL THEN 'no such hold'
                     WHEN s.op = 'release' AND (s.status IS NULL OR s.status NOT IN ('voided', 'expired', 'captured')
                                                OR (s.status = 'captured') <> (s.capture_entry_id IS NOT NULL))
                       THEN 'a hold is released as voided, expired, or captured into an entry'
                     WHEN s.op = 'release' THEN NULL
                     WHEN a.id IS NULL OR a.normal_side <> 'credit' OR a.deferred_totals
                       THEN 'holds are placed on existing credit-normal, non-deferred accounts'
                     WHEN s.amount IS NULL OR s.amount <= 0 OR s.amount <> round(s.amount, 2)
                       THEN 'hold amount must be positive with at most two decimals'
                     WHEN s.expires_at IS NULL OR s.expires_at <= s.at THEN 'a hold must expire in the future'
                   END AS reason
              FROM ledger_staged_holds s LEFT JOIN ledger_accounts a ON a.id = s.account_id) g
     WHERE g.reason IS NOT NULL
     LIMIT 1;
  END IF;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = v_problem;
  END IF;

  -- 2. Entries, idempotent on their key.
  IF v_entries > 0 THEN
    WITH ins AS (
      INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by, reverses_entry_id)
      SELECT id, kind, idempotency_key, effective_at, description, metadata, created_by, reverses_entry_id
        FROM ledger_staged_entries
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING 1)
    SELECT count(*) INTO v_inserted FROM ins;
    IF v_inserted < v_entries THEN
      SELECT coalesce(array_agg('entry'::text ORDER BY s.id), '{}'), coalesce(array_agg(s.id ORDER BY s.id), '{}'),
             coalesce(array_agg(j.id ORDER BY s.id), '{}')
        INTO v_kinds, v_staged, v_existing
        FROM ledger_staged_entries s JOIN journal_entries j ON j.idempotency_key = s.idempotency_key AND j.id <> s.id;
      DELETE FROM ledger_staged_postings p WHERE p.entry_id = ANY (v_staged);
      DELETE FROM ledger_staged_holds h WHERE h.capture_entry_id = ANY (v_staged);
    END IF;

    -- 3. Postings, in one statement. The trigger has seen every posting's entry exist and take
    --    no posting from an earlier statement, so each entry posted has postings iff the postings
    --    name as many entries as were posted.
    WITH ins AS (
      INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
      SELECT p.entry_id, p.account_id, p.side, p.amount, e.effective_at
        FROM ledger_staged_postings p JOIN ledger_staged_entries e ON e.id = p.entry_id
      RETURNING entry_id)
    SELECT count(DISTINCT entry_id) INTO v_with_postings FROM ins;
    IF v_with_postings < v_inserted THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('%s journal entries have no postings', v_inserted - v_with_postings);
    END IF;
  END IF;

  -- 4. Guarded accounts locked in id order.
  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT p.account_id FROM ledger_staged_postings p UNION SELECT h.account_id FROM ledger_staged_holds h)
      AND NOT a.deferred_totals
    ORDER BY a.id FOR UPDATE;

  -- 5. Hold changes.
  IF EXISTS (SELECT 1 FROM ledger_staged_holds) THEN
    WITH ins AS (
      INSERT INTO ledger_holds (id, account_id, amount, expires_at, idempotency_key, metadata, created_at)
      SELECT hold_id, account_id, amount, expires_at, idempotency_key, coalesce(metadata, '{}'), at
        FROM ledger_staged_holds WHERE op = 'authorize'
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id, account_id, amount AS change),
    rel AS (
      UPDATE ledger_holds h
         SET status = s.status, resolved_at = s.at, captured_amount = s.captured_amount, capture_entry_id = s.capture_entry_id
        FROM ledger_staged_holds s
       WHERE s.op = 'release' AND h.id = s.hold_id AND h.status = 'authorized'
      RETURNING h.id, h.account_id, -h.amount AS change)
    UPDATE ledger_staged_holds s SET applied_account = x.account_id, applied_change = x.change
      FROM (SELECT * FROM ins UNION ALL SELECT * FROM rel) x
     WHERE s.hold_id = x.id;
    SELECT v_kinds || coalesce(array_agg('hold'::text), '{}'), v_staged || coalesce(array_agg(s.hold_id), '{}'),
           v_existing || coalesce(array_agg(h.id), '{}')
      INTO v_kinds, v_staged, v_existing
      FROM ledger_staged_holds s JOIN ledger_holds h ON h.idempotency_key = s.idempotency_key AND h.id <> s.hold_id
     WHERE s.op = 'authorize' AND s.applied_change IS NULL;
  END IF;

  -- 6. Account totals, once per account, reading every account's currency on the way (when the
  --    whole set has one, so has every entry). Hot accounts, the ones left out, take a delta.
  WITH moves AS (
    SELECT x.account_id, sum(x.debits) AS debits, sum(x.credits) AS credits, sum(x.pending) AS pending
      FROM (SELECT p.account_id, CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END AS debits,
                   CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END AS credits, 0 AS pending
              FROM ledger_staged_postings p
            UNION ALL
            SELECT h.applied_account, 0, 0, h.applied_change FROM ledger_staged_holds h WHERE h.applied_change IS NOT NULL) x
     GROUP BY x.account_id),
  upd AS (
    UPDATE ledger_accounts a
       SET posted_debits = a.posted_debits + m.debits, posted_credits = a.posted_credits + m.credits,
           pending_debits = a.pending_debits + m.pending
      FROM moves m
     WHERE a.id = m.account_id AND NOT a.deferred_totals
    RETURNING a.currency)
  SELECT (SELECT count(*) FROM moves), count(*), min(currency), max(currency)
    INTO v_moved, v_updated, v_currency_min, v_currency_max
    FROM upd;
  IF v_updated < v_moved THEN
    WITH hot AS (
      SELECT p.account_id, sum(CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END) AS debits,
             sum(CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END) AS credits, min(a.currency) AS currency
        FROM ledger_staged_postings p JOIN ledger_accounts a ON a.id = p.account_id AND a.deferred_totals
       GROUP BY p.account_id),
    ins AS (INSERT INTO ledger_account_deltas (account_id, debits, credits) SELECT account_id, debits, credits FROM hot)
    SELECT least(v_currency_min, min(currency)), greatest(v_currency_max, max(currency)) INTO v_currency_min, v_currency_max FROM hot;
  END IF;
  IF v_currency_min <> v_currency_max THEN
    SELECT format('journal entry %s: its accounts have different currencies', p.entry_id) INTO v_problem
      FROM ledger_staged_postings p JOIN ledger_accounts a ON a.id = p.account_id
     GROUP BY p.entry_id HAVING min(a.currency) <> max(a.currency) LIMIT 1;
    IF v_problem IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = v_problem;
    END IF;
  END IF;

  -- Emptied for the next call in this transaction (a big set is truncated: cheaper than deleting its rows).
  IF v_entries > 1000 THEN
    TRUNCATE ledger_staged_postings, ledger_staged_holds, ledger_staged_entries;
  ELSE
    DELETE FROM ledger_staged_postings;
    DELETE FROM ledger_staged_holds;
    DELETE FROM ledger_staged_entries;
  END IF;
  RETURN QUERY SELECT * FROM unnest(v_kinds, v_staged, v_existing);
END $$;
