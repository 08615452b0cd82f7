-- The ledger's one posting primitive: every money path (ledger_post, holds, cycle chunks,
-- redemption batches, voucher sweeps, payouts, loans, grants, …) posts through it, directly with
-- arrays or through ledger_post_staged. It posts a whole set of journal entries, their postings
-- and hold changes with a fixed handful of set-based statements, however many entries there are:
--  1. checks: every posting on side debit or credit with a positive amount of at most two
--     decimals (NUMERIC(18,2) would round a third one silently); new holds on credit-normal,
--     non-deferred accounts, expiring later (SQLSTATE MN006);
--  2. entries and their postings in ONE statement: entries idempotent on their key (one whose key
--     is taken — posted before, or by a concurrent transaction that committed first — is skipped
--     with its postings and reported, not posted); the postings_balanced trigger refuses an entry
--     that does not balance or lacks a debit or a credit (MN002), a posting to an unknown account
--     (23503) and an append to an existing entry, for every entry at once; an entry without
--     postings is refused;
--  3. every guarded (non-deferred) account touched is locked in id order, the order every writer
--     uses, so two writers never deadlock on accounts; hot (deferred) accounts are never locked;
--  4. hold changes (new holds, idempotent on their key; releases of holds still authorized, locked
--     after their account) and account totals in ONE statement: posted debits and credits and the
--     pending change once per account, where the no-negative CHECK refuses an overdraft; hot
--     accounts take an appended delta instead (ledger_rollup folds them in). The rows updated give
--     the accounts' currencies: every entry's accounts must share one (MN006).
-- Locks are taken late (step 3) so that a hot guarded row, such as a cycle's commitment debited
-- by every chunk, stays locked only from there to commit. Rows of the big tables are reached
-- through id arrays (= ANY: an index lookup each), never by a join, and never by a scan of the
-- table (enable_seqscan off, for this function and the triggers it fires): whatever the planner
-- estimates, 10,000 ids out of millions of accounts are looked up, not found by reading them all.
-- Any refusal raises, and the caller's transaction writes nothing.
-- Returns a row for each entry or new hold not applied because its key was already taken:
-- (kind 'entry' | 'hold', the given id, the existing id). Normally none.
CREATE OR REPLACE FUNCTION ledger_post_set(
  p_entries ledger_entry_in[], p_postings ledger_posting_in[], p_holds ledger_hold_in[] DEFAULT '{}')
RETURNS TABLE (o_kind text, o_staged uuid, o_existing uuid)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_entries integer := coalesce(cardinality(p_entries), 0);
  v_postings ledger_posting_in[] := coalesce(p_postings, '{}');
  v_holds ledger_hold_in[] := coalesce(p_holds, '{}');
  v_inserted integer := 0;
  v_with_postings integer := 0;
  v_problem text;
  v_accounts uuid[];
  v_moved integer;
  v_updated integer;
  v_held integer;
  v_currency_min text;
  v_currency_max text;
  v_kinds text[] := '{}';
  v_given uuid[] := '{}';
  v_existing uuid[] := '{}';
BEGIN
  -- Releases name their hold; their account comes from it.
  IF EXISTS (SELECT 1 FROM unnest(v_holds) h WHERE h.op = 'release' AND h.account_id IS NULL) THEN
    SELECT array_agg(ROW(h.op, h.hold_id, coalesce(h.account_id, x.account_id), h.amount, h.expires_at, h.idempotency_key,
                         h.metadata, h.status, h.captured_amount, h.capture_entry_id, h.at)::ledger_hold_in)
      INTO v_holds
      FROM unnest(v_holds) h
      LEFT JOIN ledger_holds x ON x.id = h.hold_id AND h.op = 'release'
       AND x.id = ANY (ARRAY(SELECT r.hold_id FROM unnest(v_holds) r WHERE r.op = 'release'));
  END IF;
  v_accounts := ARRAY(SELECT p.account_id FROM unnest(v_postings) p UNION SELECT h.account_id FROM unnest(v_holds) h WHERE h.account_id IS NOT NULL);

  -- 1. Checks.
  SELECT format('journal entry %s: postings need a side (debit or credit) and a positive amount with at most two decimals', p.entry_id)
    INTO v_problem
    FROM unnest(v_postings) p
   WHERE p.amount IS NULL OR p.amount <= 0 OR p.amount <> round(p.amount, 2) OR p.side IS NULL OR p.side NOT IN ('debit', 'credit')
   LIMIT 1;
  IF v_problem IS NULL AND cardinality(v_holds) > 0 THEN
    SELECT format('hold %s: %s', g.hold_id, g.reason) INTO v_problem
      FROM (SELECT h.hold_id, CASE
                     WHEN h.op IS NULL OR h.op NOT IN ('authorize', 'release') THEN 'a hold change is authorize or release'
                     WHEN h.op = 'release' AND h.account_id IS NULL THEN 'no such hold'
                     WHEN h.op = 'release' AND (h.status IS NULL OR h.status NOT IN ('voided', 'expired', 'captured')
                                                OR (h.status = 'captured') <> (h.capture_entry_id IS NOT NULL))
                       THEN 'a hold is released as voided, expired, or captured into an entry'
                     WHEN h.op = 'release' THEN NULL
                     WHEN a.id IS NULL OR a.normal_side <> 'credit' OR a.deferred_totals
                       THEN 'holds are placed on existing credit-normal, non-deferred accounts'
                     WHEN h.amount IS NULL OR h.amount <= 0 OR h.amount <> round(h.amount, 2)
                       THEN 'hold amount must be positive with at most two decimals'
                     WHEN h.expires_at IS NULL OR h.expires_at <= h.at THEN 'a hold must expire in the future'
                   END AS reason
              FROM unnest(v_holds) h LEFT JOIN ledger_accounts a ON a.id = h.account_id AND a.id = ANY (v_accounts)) g
     WHERE g.reason IS NOT NULL
     LIMIT 1;
  END IF;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = v_problem;
  END IF;

  -- 2. Entries and their postings, in one statement.
  IF v_entries > 0 THEN
    WITH ins AS (
      INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by, reverses_entry_id)
      SELECT e.id, e.kind, e.idempotency_key, e.effective_at, e.description, coalesce(e.metadata, '{}'), e.created_by, e.reverses_entry_id
        FROM unnest(p_entries) e
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id, effective_at),
    posted AS (
      INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
      SELECT p.entry_id, p.account_id, p.side, p.amount, ins.effective_at FROM unnest(v_postings) p JOIN ins ON ins.id = p.entry_id
      RETURNING entry_id)
    SELECT (SELECT count(*) FROM ins), (SELECT count(DISTINCT entry_id) FROM posted) INTO v_inserted, v_with_postings;
    IF v_with_postings < v_inserted THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('%s journal entries have no postings', v_inserted - v_with_postings);
    END IF;
    IF v_inserted < v_entries THEN
      -- Keys already taken: those entries, their postings and the holds they capture are not applied.
      SELECT coalesce(array_agg('entry'::text ORDER BY e.id), '{}'), coalesce(array_agg(e.id ORDER BY e.id), '{}'), coalesce(array_agg(j.id ORDER BY e.id), '{}')
        INTO v_kinds, v_given, v_existing
        FROM unnest(p_entries) e JOIN journal_entries j ON j.idempotency_key = e.idempotency_key AND j.id <> e.id
       WHERE j.idempotency_key = ANY (ARRAY(SELECT x.idempotency_key FROM unnest(p_entries) x WHERE x.idempotency_key IS NOT NULL));
      v_postings := ARRAY(SELECT p FROM unnest(v_postings) p WHERE p.entry_id <> ALL (v_given));
      v_holds := ARRAY(SELECT h FROM unnest(v_holds) h WHERE h.capture_entry_id IS NULL OR h.capture_entry_id <> ALL (v_given));
    END IF;
  END IF;

  -- 3. Guarded accounts locked in id order.
  PERFORM 1 FROM ledger_accounts a WHERE a.id = ANY (v_accounts) AND NOT a.deferred_totals ORDER BY a.id FOR UPDATE;

  -- 4. Hold changes and account totals, once per account.
  WITH held AS (
    INSERT INTO ledger_holds (id, account_id, amount, expires_at, idempotency_key, metadata, created_at)
    SELECT h.hold_id, h.account_id, h.amount, h.expires_at, h.idempotency_key, coalesce(h.metadata, '{}'), h.at
      FROM unnest(v_holds) h WHERE h.op = 'authorize'
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING account_id, amount AS change),
  released AS (
    UPDATE ledger_holds x
       SET status = h.status, resolved_at = h.at, captured_amount = h.captured_amount, capture_entry_id = h.capture_entry_id
      FROM unnest(v_holds) h
     WHERE h.op = 'release' AND x.id = h.hold_id AND x.status = 'authorized'
       AND x.id = ANY (ARRAY(SELECT r.hold_id FROM unnest(v_holds) r WHERE r.op = 'release'))
    RETURNING x.account_id, -x.amount AS change),
  moves AS (
    SELECT m.account_id, sum(m.debits) AS debits, sum(m.credits) AS credits, sum(m.pending) AS pending
      FROM (SELECT p.account_id, CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END AS debits,
                   CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END AS credits, 0 AS pending
              FROM unnest(v_postings) p
            UNION ALL SELECT account_id, 0, 0, change FROM held
            UNION ALL SELECT account_id, 0, 0, change FROM released) m
     GROUP BY m.account_id),
  upd AS (
    UPDATE ledger_accounts a
       SET posted_debits = a.posted_debits + m.debits, posted_credits = a.posted_credits + m.credits,
           pending_debits = a.pending_debits + m.pending
      FROM moves m
     WHERE a.id = ANY (v_accounts) AND a.id = m.account_id AND NOT a.deferred_totals
    RETURNING a.currency)
  SELECT (SELECT count(*) FROM moves), count(*), min(currency), max(currency), (SELECT count(*) FROM held)
    INTO v_moved, v_updated, v_currency_min, v_currency_max, v_held
    FROM upd;
  IF v_updated < v_moved THEN
    WITH hot AS (
      SELECT p.account_id, sum(CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END) AS debits,
             sum(CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END) AS credits, min(a.currency) AS currency
        FROM unnest(v_postings) p JOIN ledger_accounts a ON a.id = p.account_id AND a.deferred_totals AND a.id = ANY (v_accounts)
       GROUP BY p.account_id),
    ins AS (INSERT INTO ledger_account_deltas (account_id, debits, credits) SELECT account_id, debits, credits FROM hot)
    SELECT least(v_currency_min, min(currency)), greatest(v_currency_max, max(currency)) INTO v_currency_min, v_currency_max FROM hot;
  END IF;
  IF v_currency_min <> v_currency_max THEN
    SELECT format('journal entry %s: its accounts have different currencies', p.entry_id) INTO v_problem
      FROM unnest(v_postings) p JOIN ledger_accounts a ON a.id = p.account_id AND a.id = ANY (v_accounts)
     GROUP BY p.entry_id HAVING min(a.currency) <> max(a.currency) LIMIT 1;
    IF v_problem IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = v_problem;
    END IF;
  END IF;

  -- New holds whose key was taken by a hold posted before.
  IF v_held < (SELECT count(*) FROM unnest(v_holds) h WHERE h.op = 'authorize') THEN
    SELECT v_kinds || coalesce(array_agg('hold'::text), '{}'), v_given || coalesce(array_agg(h.hold_id), '{}'), v_existing || coalesce(array_agg(x.id), '{}')
      INTO v_kinds, v_given, v_existing
      FROM unnest(v_holds) h JOIN ledger_holds x ON x.idempotency_key = h.idempotency_key AND x.id <> h.hold_id
     WHERE h.op = 'authorize'
       AND x.idempotency_key = ANY (ARRAY(SELECT a.idempotency_key FROM unnest(v_holds) a WHERE a.op = 'authorize' AND a.idempotency_key IS NOT NULL));
  END IF;
  RETURN QUERY SELECT * FROM unnest(v_kinds, v_given, v_existing);
END $$;
