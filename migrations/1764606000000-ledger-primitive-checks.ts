import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 *
 * ledger_post_staged leaves to the postings_balanced trigger the checks it already makes (balanced
 * entries with a debit and a credit, known accounts), checks the currency from the account rows
 * it updates instead of a join of every posting, looks for hot accounts only when some were left
 * out of the update, and empties big staged sets with TRUNCATE: the same guarantees for less work
 * per cycle chunk. merchant_redeem_batch refuses a card whose currency is not the merchant's
 * (merchant_not_allowed) instead of letting the primitive's currency check fail the whole batch.
 */
export class LedgerPrimitiveChecks1764606000000 implements MigrationInterface {
  name = 'LedgerPrimitiveChecks1764606000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('LedgerPrimitiveChecks1764606000000 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first. */
const before: string[] = [
  `DROP FUNCTION merchant_redeem_batch(text[], uuid[], uuid[], uuid[], text[], text[], numeric[], text[], timestamptz[], interval, text[], text[], text[], boolean)`,
  `DROP TYPE merchant_redeem_item`,
];

const frozen: string[] = [
  // src/merchants/sql/merchant_redeem_item.type.sql
  String.raw`-- One request of a redemption batch while merchant_redeem_batch decides it (in memory only).
CREATE TYPE merchant_redeem_item AS (
  ord integer, op text, merchant uuid, terminal uuid, api_key uuid, amount numeric, reference text, at timestamptz,
  idem_scope text, idem_key text, idem_hash text,
  id uuid, entry_id uuid, payable uuid, payable_deferred boolean,
  instrument uuid, account uuid, program uuid, last4 text, hold_expires timestamptz,
  instrument_status text, category text, card_currency text,
  outcome text, facts jsonb, replayed boolean, write_idem boolean
);`,
  // src/ledger/sql/ledger_post_staged.sql
  String.raw`-- The ledger's one posting primitive: every money path (ledger_post, holds, cycle chunks,
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
END $$;`,
  // src/merchants/sql/merchant_redeem_batch.sql
  String.raw`-- Redemptions (op 'redeem') and authorizations (op 'authorize') of many requests, one per
-- array position, in one transaction (group commit, src/merchants/redemption-batcher.ts).
-- Returns one row per request (o_ord is its 1-based position) with its domain outcome; the HTTP
-- status and body are chosen in TypeScript (src/merchants/redemption-outcomes.ts):
--   o_outcome 'captured' | 'authorized'   posted; o_facts is the result {id, amount, last4, reference, createdAt, expiresAt}
--   o_outcome <refusal code>              nothing posted; o_facts says why ({merchantStatus}, {category}, {currency},
--                                         {instrumentStatus}, {pinLockedNow})
--   o_outcome NULL                        the card was locked by another transaction: nothing written, send it again
--                                         (p_wait_for_locks waits for such locks)
--   o_replayed                            the outcome remembered for this Idempotency-Key (o_facts then holds the
--                                         record: {outcome, facts}, or {status, body} for a record written before 2026-12)
-- A refusal never raises: it writes its audit record (redemption_attempts) and a wrong-PIN count
-- while nothing is posted. Checks, in order, as the API documents them: Idempotency-Key, merchant
-- active, instrument known, PIN not locked, PIN, instrument active, not expired at the business
-- clock in the program's time zone, merchant category allowed, the merchant's currency is the
-- card's, available balance (holds count).
-- Locks, in the order every writer takes them: the Idempotency-Key (a transaction advisory lock,
-- before its record is read, so a request whose twin just committed replays it), instrument rows
-- (wrong-PIN counts), then ledger accounts in id order: the cards and any payable that is not a
-- hot deferred account. Postings, holds and totals go through ledger_post_staged.
CREATE OR REPLACE FUNCTION merchant_redeem_batch(
  p_ops text[], p_merchants uuid[], p_terminals uuid[], p_api_keys uuid[],
  p_number_hashes text[], p_pin_hashes text[], p_amounts numeric[], p_references text[],
  p_nows timestamptz[], p_hold_ttl interval,
  p_idem_scopes text[], p_idem_keys text[], p_idem_hashes text[], p_wait_for_locks boolean DEFAULT false)
RETURNS TABLE (o_ord integer, o_outcome text, o_facts jsonb, o_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ops, 1), 0);
  w merchant_redeem_item[];
  v_got boolean[];
  v_now_locked uuid[];
  v_candidates uuid[];
  v_accounts uuid[];
  v_available numeric[];
  k integer;
  j integer;
BEGIN
  IF n = 0 THEN RETURN; END IF;
  IF n IS DISTINCT FROM array_length(p_merchants, 1) OR n IS DISTINCT FROM array_length(p_terminals, 1)
     OR n IS DISTINCT FROM array_length(p_api_keys, 1) OR n IS DISTINCT FROM array_length(p_number_hashes, 1)
     OR n IS DISTINCT FROM array_length(p_pin_hashes, 1) OR n IS DISTINCT FROM array_length(p_amounts, 1)
     OR n IS DISTINCT FROM array_length(p_references, 1) OR n IS DISTINCT FROM array_length(p_nows, 1)
     OR n IS DISTINCT FROM array_length(p_idem_scopes, 1) OR n IS DISTINCT FROM array_length(p_idem_keys, 1)
     OR n IS DISTINCT FROM array_length(p_idem_hashes, 1) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'merchant_redeem_batch arrays differ in length';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_ops, p_amounts, p_nows) t(op, amount, at)
              WHERE op IS NULL OR op NOT IN ('redeem', 'authorize') OR at IS NULL
                 OR amount IS NULL OR amount <= 0 OR amount <> round(amount, 2)) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown merchant operation, or an amount that is not positive with at most two decimals';
  END IF;
  IF (SELECT count(DISTINCT h) FROM unnest(p_number_hashes) h) < n
     OR (SELECT count(DISTINCT (s, x)) FROM unnest(p_idem_scopes, p_idem_keys) t(s, x) WHERE x IS NOT NULL)
        < (SELECT count(*) FROM unnest(p_idem_keys) x WHERE x IS NOT NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a batch holds each card and each Idempotency-Key at most once';
  END IF;

  -- 1. "In flight" is a transaction-level advisory lock on the key, taken before the record is read.
  SELECT array_agg(CASE WHEN t.x IS NULL THEN true
                        ELSE pg_try_advisory_xact_lock(hashtextextended('idempotency:' || t.s || ':' || t.x, 0)) END
                   ORDER BY t.ord)
    INTO v_got
    FROM unnest(p_idem_scopes, p_idem_keys) WITH ORDINALITY AS t(s, x, ord);

  -- 2. Everything the checks need, read once for the whole batch.
  SELECT array_agg(ROW(
           t.ord, t.op, t.merchant, t.terminal, t.api_key, t.amount, t.reference, t.at,
           t.idem_scope, t.idem_key, t.idem_hash,
           gen_random_uuid(), ledger_uuid_v7(t.ord), m.payable_account_id, pa.deferred_totals,
           i.id, i.account_id, i.program_id, i.last4,
           CASE WHEN i.expires_at IS NOT NULL AND i.expires_at < t.at + p_hold_ttl THEN i.expires_at ELSE t.at + p_hold_ttl END,
           i.status, m.category, ia.currency,
           CASE
             WHEN NOT v_got[t.ord] THEN 'request_in_progress'
             WHEN x.key IS NOT NULL AND x.request_hash <> t.idem_hash THEN 'idempotency_key_reused'
             WHEN x.key IS NOT NULL AND x.status = 'completed' THEN 'replay'
             WHEN x.key IS NOT NULL AND x.locked_until >= t.at THEN 'request_in_progress'
             WHEN m.id IS NULL OR m.status <> 'active' THEN 'merchant_not_allowed'
             WHEN i.id IS NULL THEN 'unknown_instrument'
             WHEN i.pin_locked THEN 'pin_locked'
             WHEN i.pin_hash IS NULL OR i.pin_hash <> t.pin_hash THEN 'invalid_pin'
             WHEN i.status <> 'active' THEN 'instrument_not_active'
             WHEN (i.expires_at IS NOT NULL AND t.at >= i.expires_at)
               OR (i.kind = 'voucher' AND p.rules ? 'voucherExpiresOn'
                   AND (t.at AT TIME ZONE p.time_zone)::date > (p.rules ->> 'voucherExpiresOn')::date) THEN 'instrument_expired'
             WHEN p.rules ? 'allowedMerchantCategories' AND NOT (p.rules -> 'allowedMerchantCategories') ? m.category THEN 'category_not_allowed'
             WHEN ia.currency <> pa.currency THEN 'currency_not_accepted'
           END,
           CASE WHEN x.status = 'completed' THEN
             CASE WHEN x.response_status IS NULL THEN x.response_body
                  ELSE jsonb_build_object('status', x.response_status, 'body', x.response_body) END
           WHEN m.id IS NOT NULL AND m.status <> 'active' THEN jsonb_build_object('merchantStatus', m.status) END,
           false, true
         )::merchant_redeem_item ORDER BY t.ord)
    INTO w
    FROM unnest(p_ops, p_merchants, p_terminals, p_api_keys, p_number_hashes, p_pin_hashes, p_amounts, p_references,
                p_nows, p_idem_scopes, p_idem_keys, p_idem_hashes)
         WITH ORDINALITY AS t(op, merchant, terminal, api_key, number_hash, pin_hash, amount, reference,
                              at, idem_scope, idem_key, idem_hash, ord)
    LEFT JOIN idempotency_keys x ON x.scope = t.idem_scope AND x.key = t.idem_key
    LEFT JOIN merchants m ON m.id = t.merchant
    LEFT JOIN ledger_accounts pa ON pa.id = m.payable_account_id
    LEFT JOIN instruments i ON i.number_hash = t.number_hash
    LEFT JOIN programs p ON p.id = i.program_id
    LEFT JOIN ledger_accounts ia ON ia.id = i.account_id;
  FOR k IN 1..n LOOP
    IF w[k].outcome = 'replay' THEN w[k].replayed := true; END IF;
    IF w[k].outcome IN ('replay', 'request_in_progress', 'idempotency_key_reused') THEN
      w[k].write_idem := false;  -- another request owns this key: nothing of ours is recorded
    END IF;
  END LOOP;

  -- 3. Wrong-PIN counts (the count persists although the request is refused) and resets, on
  --    instrument rows locked in id order, before any ledger account is locked.
  IF EXISTS (SELECT 1 FROM unnest(w) u WHERE u.outcome = 'invalid_pin') THEN
    PERFORM 1 FROM instruments WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.outcome = 'invalid_pin') ORDER BY id FOR UPDATE;
    WITH upd AS (
      UPDATE instruments SET failed_pin_attempts = failed_pin_attempts + 1, pin_locked = failed_pin_attempts + 1 >= 3
       WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.outcome = 'invalid_pin')
      RETURNING id, pin_locked)
    SELECT coalesce(array_agg(id) FILTER (WHERE pin_locked), '{}') INTO v_now_locked FROM upd;
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(w) u JOIN instruments i ON i.id = u.instrument WHERE u.outcome IS NULL AND i.failed_pin_attempts > 0) THEN
    PERFORM 1 FROM instruments
      WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.outcome IS NULL) AND failed_pin_attempts > 0 ORDER BY id FOR UPDATE;
    UPDATE instruments SET failed_pin_attempts = 0
     WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.outcome IS NULL) AND failed_pin_attempts > 0;
  END IF;

  -- 4. The cards (and any payable that is not a hot deferred account) locked in id order; a
  --    locked row read here is its latest committed version, so check and posting agree.
  --    Unless told to wait, rows another transaction holds (a cycle chunk locks thousands of
  --    cards for a moment) are skipped: those requests come back unanswered (o_outcome NULL) and
  --    the caller sends each again alone, with p_wait_for_locks, instead of the batch waiting.
  SELECT array_agg(x.id) INTO v_candidates
    FROM (SELECT u.account AS id FROM unnest(w) u WHERE u.outcome IS NULL
          UNION SELECT u.payable FROM unnest(w) u WHERE u.outcome IS NULL AND NOT u.payable_deferred) x;
  IF p_wait_for_locks THEN
    PERFORM 1 FROM ledger_accounts l WHERE l.id = ANY (v_candidates) ORDER BY l.id FOR UPDATE;
  END IF;
  -- SKIP LOCKED skips only rows other transactions hold: after the wait above, none.
  SELECT array_agg(a.id ORDER BY a.id), array_agg(a.posted_credits - a.posted_debits - a.pending_debits ORDER BY a.id)
    INTO v_accounts, v_available
    FROM (SELECT l.id, l.posted_credits, l.posted_debits, l.pending_debits FROM ledger_accounts l
           WHERE l.id = ANY (v_candidates) ORDER BY l.id FOR UPDATE SKIP LOCKED) a;
  FOR k IN 1..n LOOP
    IF w[k].outcome = 'invalid_pin' THEN
      w[k].facts := jsonb_build_object('pinLockedNow', w[k].instrument = ANY (v_now_locked));
    ELSIF w[k].outcome = 'instrument_not_active' THEN
      w[k].facts := jsonb_build_object('instrumentStatus', w[k].instrument_status);
    ELSIF w[k].outcome = 'category_not_allowed' THEN
      w[k].outcome := 'merchant_not_allowed';
      w[k].facts := jsonb_build_object('category', w[k].category);
    ELSIF w[k].outcome = 'currency_not_accepted' THEN  -- a card of a program in another currency
      w[k].outcome := 'merchant_not_allowed';
      w[k].facts := jsonb_build_object('currency', w[k].card_currency);
    ELSIF w[k].outcome IS NULL THEN
      j := array_position(v_accounts, w[k].account);
      IF j IS NULL OR (NOT w[k].payable_deferred AND array_position(v_accounts, w[k].payable) IS NULL) THEN
        w[k].outcome := 'retry_alone';
        w[k].write_idem := false;
      ELSIF v_available[j] < w[k].amount THEN
        w[k].outcome := 'insufficient_funds';
      ELSE
        w[k].outcome := CASE w[k].op WHEN 'redeem' THEN 'captured' ELSE 'authorized' END;
        w[k].facts := jsonb_build_object('id', w[k].id, 'amount', w[k].amount::numeric(18,2)::text, 'last4', w[k].last4,
                                         'reference', w[k].reference, 'createdAt', w[k].at,
                                         'expiresAt', CASE WHEN w[k].op = 'authorize' THEN w[k].hold_expires END);
      END IF;
    END IF;
  END LOOP;

  -- 5. Writes, each one statement for the whole batch; money through the ledger's primitive.
  IF EXISTS (SELECT 1 FROM unnest(w) u WHERE u.outcome IN ('captured', 'authorized')) THEN
    PERFORM ledger_stage();
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, metadata, created_by)
    SELECT u.entry_id, 'redemption', 'redemption:' || u.id, u.at,
           jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), 'merchant:' || u.merchant
      FROM unnest(w) u WHERE u.outcome = 'captured';
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT u.entry_id, u.account, 'debit', u.amount FROM unnest(w) u WHERE u.outcome = 'captured'
    UNION ALL
    SELECT u.entry_id, u.payable, 'credit', u.amount FROM unnest(w) u WHERE u.outcome = 'captured';
    INSERT INTO ledger_staged_holds (op, hold_id, account_id, amount, expires_at, idempotency_key, metadata, at)
    SELECT 'authorize', u.entry_id, u.account, u.amount, u.hold_expires, 'authorization:' || u.id,
           jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), u.at
      FROM unnest(w) u WHERE u.outcome = 'authorized';
    IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN  -- keys are new random ids: never
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a redemption key was posted twice';
    END IF;
    INSERT INTO redemptions (id, merchant_id, terminal_id, api_key_id, instrument_id, program_id, instrument_last4,
                             kind, status, amount, captured_amount, entry_id, hold_id, reference, expires_at,
                             created_at, captured_at, resolved_at)
    SELECT u.id, u.merchant, u.terminal, u.api_key, u.instrument, u.program, u.last4,
           CASE u.op WHEN 'redeem' THEN 'direct' ELSE 'authorization' END, u.outcome, u.amount,
           CASE WHEN u.op = 'redeem' THEN u.amount END, CASE WHEN u.op = 'redeem' THEN u.entry_id END,
           CASE WHEN u.op = 'authorize' THEN u.entry_id END, u.reference,
           CASE WHEN u.op = 'authorize' THEN u.hold_expires END,
           u.at, CASE WHEN u.op = 'redeem' THEN u.at END, CASE WHEN u.op = 'redeem' THEN u.at END
      FROM unnest(w) u WHERE u.outcome IN ('captured', 'authorized');
  END IF;

  INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, amount, code, detail, at)
  SELECT u.merchant, u.terminal, u.op, u.instrument, u.amount, u.outcome, u.facts::text, u.at
    FROM unnest(w) u WHERE u.outcome NOT IN ('captured', 'authorized', 'retry_alone') AND u.write_idem;

  -- The Idempotency-Key record holds the outcome; TypeScript renders it the same way every time.
  INSERT INTO idempotency_keys AS x (scope, key, request_hash, status, response_status, response_body, locked_until, completed_at)
  SELECT u.idem_scope, u.idem_key, u.idem_hash, 'completed', NULL, jsonb_build_object('outcome', u.outcome, 'facts', u.facts), u.at, now()
    FROM unnest(w) u WHERE u.idem_key IS NOT NULL AND u.write_idem
  ON CONFLICT (scope, key) DO UPDATE
    SET status = 'completed', response_status = NULL, response_body = EXCLUDED.response_body, completed_at = EXCLUDED.completed_at
    WHERE x.status = 'in_flight' AND x.request_hash = EXCLUDED.request_hash;

  RETURN QUERY
  SELECT u.ord, CASE WHEN u.outcome = 'retry_alone' THEN NULL WHEN u.replayed THEN 'replay' ELSE u.outcome END, u.facts, u.replayed
    FROM unnest(w) u ORDER BY u.ord;
END $$;`,
];
