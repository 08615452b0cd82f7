import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 *
 * The posting primitive takes its set as arrays (ledger_post_set over composite types) instead of
 * reading session staging tables, which had no statistics: joined to them, ledger_accounts was
 * planned as a full scan and a redemption batch cost twice its CPU. The hot paths (ledger_post,
 * holds, cycle chunks, redemption batches, voucher sweeps) call it directly; ledger_post_staged
 * stays as the staged way in and hands its tables to it.
 */
export class LedgerPostSet1764609500200 implements MigrationInterface {
  name = 'LedgerPostSet1764609500200';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('LedgerPostSet1764609500200 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first (none). */
const before: string[] = [];

const frozen: string[] = [
  // src/ledger/sql/ledger_entry_in.type.sql
  String.raw`-- A journal entry to post (ledger_post_set). The caller picks its id (e.g. ledger_uuid_v7).
CREATE TYPE ledger_entry_in AS (
  id uuid, kind text, idempotency_key text, effective_at timestamptz, description text, metadata jsonb,
  created_by text, reverses_entry_id uuid
);`,
  // src/ledger/sql/ledger_hold_in.type.sql
  String.raw`-- A hold change (ledger_post_set): op 'authorize' (a new hold on account_id) or 'release' (hold_id
-- becomes status voided | expired | captured; a capture names its entry in capture_entry_id).
CREATE TYPE ledger_hold_in AS (
  op text, hold_id uuid, account_id uuid, amount numeric, expires_at timestamptz, idempotency_key text, metadata jsonb,
  status text, captured_amount numeric, capture_entry_id uuid, at timestamptz
);`,
  // src/ledger/sql/ledger_posting_in.type.sql
  String.raw`-- A posting to post (ledger_post_set), naming its entry.
CREATE TYPE ledger_posting_in AS (entry_id uuid, account_id uuid, side text, amount numeric);`,
  // src/ledger/sql/ledger_expire_holds.sql
  String.raw`-- Releases holds that expired by p_now (at most p_limit), set-based. Accounts are locked before
-- their holds (the order every writer uses); an account another transaction holds is skipped and
-- its holds are left for the next run. Returns how many holds it released.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_now timestamptz, p_limit integer DEFAULT 10000)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE v_ids uuid[];
BEGIN
  WITH due AS (
    SELECT h.id, h.account_id FROM ledger_holds h
     WHERE h.status = 'authorized' AND h.expires_at <= p_now ORDER BY h.account_id LIMIT p_limit),
  locked AS (
    SELECT a.id FROM ledger_accounts a WHERE a.id IN (SELECT account_id FROM due) ORDER BY a.id FOR UPDATE SKIP LOCKED)
  SELECT array_agg(due.id) INTO v_ids FROM due JOIN locked ON locked.id = due.account_id;
  IF v_ids IS NULL THEN RETURN 0; END IF;
  PERFORM ledger_post_set('{}', '{}', ARRAY(SELECT ROW('release', x, NULL, NULL, NULL, NULL, NULL, 'expired', NULL, NULL, p_now)::ledger_hold_in
                                             FROM unnest(v_ids) x));
  RETURN (SELECT count(*) FROM ledger_holds WHERE id = ANY (v_ids) AND status = 'expired' AND resolved_at = p_now);
END $$;`,
  // src/ledger/sql/ledger_hold_authorize.sql
  String.raw`-- Two-phase transfers. A hold reserves money on a credit-normal account (it counts against
-- the available balance) until captured, voided or expired. Idempotent on p_idempotency_key.
CREATE OR REPLACE FUNCTION ledger_hold_authorize(
  p_account uuid, p_amount numeric, p_expires_at timestamptz, p_now timestamptz,
  p_idempotency_key text DEFAULT NULL, p_metadata jsonb DEFAULT '{}',
  OUT hold_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE v_existing uuid;
BEGIN
  replayed := false;
  IF p_idempotency_key IS NOT NULL THEN
    SELECT h.id INTO hold_id FROM ledger_holds h WHERE h.idempotency_key = p_idempotency_key;
    IF FOUND THEN replayed := true; RETURN; END IF;
  END IF;
  hold_id := gen_random_uuid();
  SELECT r.o_existing INTO v_existing
    FROM ledger_post_set('{}', '{}', ARRAY[ROW('authorize', hold_id, p_account, p_amount, p_expires_at, p_idempotency_key,
                                                coalesce(p_metadata, '{}'), NULL, NULL, NULL, p_now)::ledger_hold_in]) r
   WHERE r.o_kind = 'hold';
  IF v_existing IS NOT NULL THEN  -- a concurrent request with the same key committed first
    hold_id := v_existing;
    replayed := true;
  END IF;
END $$;`,
  // src/ledger/sql/ledger_hold_capture.sql
  String.raw`-- Captures part or all of a hold into p_destination; the rest is released. Refuses a hold
-- that is not authorized or has expired by p_now, even if the expiry job has not run yet.
-- The two accounts are locked (in id order) before the hold: accounts before holds, everywhere.
CREATE OR REPLACE FUNCTION ledger_hold_capture(
  p_hold uuid, p_amount numeric, p_destination uuid, p_now timestamptz,
  p_kind text DEFAULT 'capture', p_idempotency_key text DEFAULT NULL,
  p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE h ledger_holds; amt numeric; v_entry uuid;
BEGIN
  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT x.account_id FROM ledger_holds x WHERE x.id = p_hold UNION SELECT p_destination) AND NOT a.deferred_totals
    ORDER BY a.id FOR UPDATE;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = 'no such hold'; END IF;
  IF h.status = 'captured' AND p_idempotency_key IS NOT NULL THEN
    SELECT e.id INTO v_entry FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key AND e.id = h.capture_entry_id;
    IF FOUND THEN RETURN v_entry; END IF;
  END IF;
  IF h.status <> 'authorized' THEN
    RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = format('hold is %s', h.status);
  END IF;
  IF h.expires_at <= p_now THEN
    RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = 'hold has expired';
  END IF;
  amt := coalesce(p_amount, h.amount);
  IF amt > h.amount THEN
    RAISE EXCEPTION USING ERRCODE = 'MN005', MESSAGE = 'capture exceeds the held amount';
  END IF;
  IF p_idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  v_entry := ledger_uuid_v7();
  IF EXISTS (SELECT 1 FROM ledger_post_set(
               ARRAY[ROW(v_entry, p_kind, p_idempotency_key, p_now, NULL, coalesce(p_metadata, '{}') || jsonb_build_object('holdId', h.id),
                         p_created_by, NULL)::ledger_entry_in],
               ARRAY[ROW(v_entry, h.account_id, 'debit', amt)::ledger_posting_in, ROW(v_entry, p_destination, 'credit', amt)::ledger_posting_in],
               ARRAY[ROW('release', h.id, h.account_id, NULL, NULL, NULL, NULL, 'captured', amt, v_entry, p_now)::ledger_hold_in]) r
             WHERE r.o_kind = 'entry') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  RETURN v_entry;
END $$;`,
  // src/ledger/sql/ledger_hold_release.sql
  String.raw`-- Voids (or expires) an authorized hold; returns false if it was already resolved. Its account
-- is locked before the hold (accounts before holds, as every writer does).
CREATE OR REPLACE FUNCTION ledger_hold_release(p_hold uuid, p_status text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE h ledger_holds;
BEGIN
  IF p_status NOT IN ('voided', 'expired') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold is released as voided or expired';
  END IF;
  PERFORM 1 FROM ledger_accounts a JOIN ledger_holds x ON x.account_id = a.id WHERE x.id = p_hold FOR UPDATE OF a;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR h.status <> 'authorized' THEN RETURN false; END IF;
  PERFORM ledger_post_set('{}', '{}', ARRAY[ROW('release', h.id, h.account_id, NULL, NULL, NULL, NULL, p_status, NULL, NULL, p_now)::ledger_hold_in]);
  RETURN true;
END $$;`,
  // src/ledger/sql/ledger_post_set.sql
  String.raw`-- The ledger's one posting primitive: every money path (ledger_post, holds, cycle chunks,
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
-- through id arrays (= ANY: an index lookup each), never by a join, and the planner is told that
-- those pages are cached (random_page_cost 1.1, for this function and the triggers it fires): a
-- set of 10,000 ids out of millions of accounts must never be planned as a scan of them all.
-- Any refusal raises, and the caller's transaction writes nothing.
-- Returns a row for each entry or new hold not applied because its key was already taken:
-- (kind 'entry' | 'hold', the given id, the existing id). Normally none.
CREATE OR REPLACE FUNCTION ledger_post_set(
  p_entries ledger_entry_in[], p_postings ledger_posting_in[], p_holds ledger_hold_in[] DEFAULT '{}')
RETURNS TABLE (o_kind text, o_staged uuid, o_existing uuid)
LANGUAGE plpgsql SET random_page_cost = 1.1 AS $$
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
END $$;`,
  // src/ledger/sql/ledger_post_staged.sql
  String.raw`-- The staged way into the ledger's primitive (ledger_post_set): the caller calls ledger_stage(),
-- inserts the journal entries, postings and hold changes it wants into the session's staging
-- tables (handy from set-based SQL that builds them in several statements), and calls this, which
-- posts them with ledger_post_set and empties the staging tables. Same checks, same result rows.
CREATE OR REPLACE FUNCTION ledger_post_staged()
RETURNS TABLE (o_kind text, o_staged uuid, o_existing uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_entries ledger_entry_in[];
  v_postings ledger_posting_in[];
  v_holds ledger_hold_in[];
BEGIN
  v_entries := ARRAY(SELECT ROW(e.id, e.kind, e.idempotency_key, e.effective_at, e.description, e.metadata, e.created_by, e.reverses_entry_id)::ledger_entry_in
                       FROM ledger_staged_entries e);
  v_postings := ARRAY(SELECT ROW(p.entry_id, p.account_id, p.side, p.amount)::ledger_posting_in FROM ledger_staged_postings p);
  v_holds := ARRAY(SELECT ROW(h.op, h.hold_id, h.account_id, h.amount, h.expires_at, h.idempotency_key, h.metadata, h.status,
                              h.captured_amount, h.capture_entry_id, h.at)::ledger_hold_in
                     FROM ledger_staged_holds h);
  -- Emptied before posting, so the primitive's own writes never meet a half-staged set.
  IF cardinality(v_entries) > 1000 THEN
    TRUNCATE ledger_staged_postings, ledger_staged_holds, ledger_staged_entries;
  ELSE
    DELETE FROM ledger_staged_postings;
    DELETE FROM ledger_staged_holds;
    DELETE FROM ledger_staged_entries;
  END IF;
  RETURN QUERY SELECT * FROM ledger_post_set(v_entries, v_postings, v_holds);
END $$;`,
  // src/ledger/sql/ledger_post.sql
  String.raw`-- Posts one balanced entry in one round trip through ledger_post_set: idempotent on
-- p_idempotency_key (a key posted before returns that entry, replayed), accounts locked in id
-- order, and the no-negative CHECK refusing an overdraft inside the statement that changes the
-- balance.
CREATE OR REPLACE FUNCTION ledger_post(
  p_kind text, p_idempotency_key text, p_effective_at timestamptz,
  p_accounts uuid[], p_sides text[], p_amounts numeric[],
  p_description text DEFAULT NULL, p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL,
  p_reverses uuid DEFAULT NULL,
  OUT entry_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(array_length(p_accounts, 1), 0);
  v_existing uuid;
BEGIN
  replayed := false;
  IF n < 2 OR n <> coalesce(array_length(p_sides, 1), 0) OR n <> coalesce(array_length(p_amounts, 1), 0)
     OR EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0 OR a <> round(a, 2)) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'an entry needs two or more postings with positive amounts of at most two decimals';
  END IF;
  entry_id := ledger_uuid_v7();
  SELECT r.o_existing INTO v_existing
    FROM ledger_post_set(
           ARRAY[ROW(entry_id, p_kind, p_idempotency_key, p_effective_at, p_description, coalesce(p_metadata, '{}'), p_created_by, p_reverses)::ledger_entry_in],
           ARRAY(SELECT ROW(entry_id, t.acc, t.side, t.amt)::ledger_posting_in FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt))) r
   WHERE r.o_kind = 'entry';
  IF v_existing IS NOT NULL THEN
    entry_id := v_existing;
    replayed := true;
  END IF;
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
-- hot deferred account. Postings, holds and totals go through the ledger's primitive, ledger_post_set.
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
    IF EXISTS (SELECT 1 FROM ledger_post_set(
                 ARRAY(SELECT ROW(u.entry_id, 'redemption', 'redemption:' || u.id, u.at, NULL,
                                  jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), 'merchant:' || u.merchant, NULL)::ledger_entry_in
                         FROM unnest(w) u WHERE u.outcome = 'captured'),
                 ARRAY(SELECT ROW(u.entry_id, u.account, 'debit', u.amount)::ledger_posting_in FROM unnest(w) u WHERE u.outcome = 'captured'
                       UNION ALL
                       SELECT ROW(u.entry_id, u.payable, 'credit', u.amount)::ledger_posting_in FROM unnest(w) u WHERE u.outcome = 'captured'),
                 ARRAY(SELECT ROW('authorize', u.entry_id, u.account, u.amount, u.hold_expires, 'authorization:' || u.id,
                                  jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), NULL, NULL, NULL, u.at)::ledger_hold_in
                         FROM unnest(w) u WHERE u.outcome = 'authorized'))) THEN  -- keys are new random ids: never
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
  // src/disbursements/sql/cycle_post_chunk.sql
  String.raw`-- Posts one chunk of a running cycle (lines p_from..p_to) with a handful of set-based statements,
-- through the ledger's primitive (ledger_post_set): one journal entry per line (commitment → the
-- line's account, plus the insurer payable for a split line), all posted at once.
-- A grant tranche line draws from its own source account (the grant's award reserve,
-- grant:<id>:award) instead of the commitment, and its entry carries the award's component
-- (metadata.component: its stage, for the execution reports). The chunk's grants are locked FOR
-- SHARE first (grants before ledger accounts, the order of every writer of grants), so a grant
-- rescinded or demanded meanwhile is seen as such and its line becomes an exception.
-- Why not ledger_post per line: one round trip per line is far too slow for a million cards.
-- Every line is idempotent on journal_entries.idempotency_key = cycle:<id>:line:<beneficiaryId>
-- and a chunk runs under its advisory lock, so a chunk re-run after a crash posts nothing twice;
-- the commitment is debited once per chunk (its no-negative CHECK refuses drawing more than was
-- committed). Entry ids are time-ordered (ledger_uuid_v7 with the line number), so a chunk's
-- entries append to the right edge of their indexes. A line that cannot post (beneficiary
-- inactive, instrument blocked/replaced/expired since the draft) becomes an exception, not a failure.
CREATE OR REPLACE FUNCTION cycle_post_chunk(p_cycle uuid, p_from integer, p_to integer, p_now timestamptz,
  OUT posted integer, OUT posted_total numeric, OUT exceptions integer, OUT exceptions_total numeric)
LANGUAGE plpgsql AS $$
DECLARE
  c disbursement_cycles;
  v_prefix text := 'cycle:' || p_cycle::text || ':line:';
  v_at timestamptz := clock_timestamp();
BEGIN
  posted := 0; posted_total := 0; exceptions := 0; exceptions_total := 0;
  -- Two workers on the same chunk (at-least-once delivery) run one after the other.
  PERFORM pg_advisory_xact_lock(hashtext('cycle-chunk'), hashtext(p_cycle::text || ':' || p_from::text));
  SELECT * INTO c FROM disbursement_cycles WHERE id = p_cycle;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'no such cycle';
  END IF;
  -- Only a started cycle posts (a completed one is scanned and posts nothing: a replay).
  IF c.status NOT IN ('running', 'completed', 'completed_with_exceptions') THEN
    RETURN;
  END IF;

  IF c.kind = 'tranche' THEN
    PERFORM 1 FROM grants g
     WHERE g.id IN (SELECT l.grant_id FROM cycle_lines l WHERE l.cycle_id = p_cycle AND l.line_no BETWEEN p_from AND p_to)
     ORDER BY g.id FOR SHARE;
  END IF;

  DROP TABLE IF EXISTS cycle_chunk_work;
  CREATE TEMP TABLE cycle_chunk_work ON COMMIT DROP AS
  SELECT l.line_no, l.beneficiary_id, l.account_id, l.amount, l.beneficiary_amount, l.insurer_amount,
         l.grant_id, l.tranche_no, l.proof_due_on, coalesce(l.source_account_id, c.commitment_account_id) AS source_account_id, g.component,
         v_prefix || l.beneficiary_id::text AS key,
         ledger_uuid_v7(l.line_no, v_at) AS entry_id,
         CASE
           WHEN b.status <> 'active' THEN 'beneficiary_inactive'
           WHEN l.instrument_id IS NOT NULL AND i.status <> 'active' THEN 'instrument_' || i.status
           WHEN l.instrument_id IS NOT NULL AND i.expires_at IS NOT NULL AND i.expires_at <= p_now THEN 'instrument_expired'
           WHEN l.grant_id IS NOT NULL AND g.status <> 'active' THEN 'grant_' || g.status
           WHEN l.grant_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM grant_tranches t WHERE t.grant_id = l.grant_id AND t.tranche_no = l.tranche_no) THEN 'tranche_already_released'
         END AS problem
    FROM cycle_lines l
    JOIN beneficiaries b ON b.id = l.beneficiary_id
    LEFT JOIN instruments i ON i.id = l.instrument_id
    LEFT JOIN grants g ON g.id = l.grant_id
   WHERE l.cycle_id = p_cycle AND l.line_no BETWEEN p_from AND p_to
     AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = v_prefix || l.beneficiary_id::text)
     AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x WHERE x.cycle_id = p_cycle AND x.line_no = l.line_no);
  -- Real statistics for the statements below (a temp table has none).
  ANALYZE cycle_chunk_work;

  SELECT count(*) FILTER (WHERE problem IS NULL), coalesce(sum(amount) FILTER (WHERE problem IS NULL), 0),
         count(*) FILTER (WHERE problem IS NOT NULL), coalesce(sum(amount) FILTER (WHERE problem IS NOT NULL), 0)
    INTO posted, posted_total, exceptions, exceptions_total
    FROM cycle_chunk_work;
  IF posted = 0 AND exceptions = 0 THEN
    RETURN;
  END IF;

  IF exceptions > 0 THEN
    INSERT INTO cycle_line_exceptions (cycle_id, line_no, beneficiary_id, reason, amount, created_at)
    SELECT p_cycle, line_no, beneficiary_id, problem, amount, p_now FROM cycle_chunk_work WHERE problem IS NOT NULL;
  END IF;

  IF posted > 0 THEN
    -- The chunk lock and the filter above leave no line posted before: a replay here is a bug.
    IF EXISTS (SELECT 1 FROM ledger_post_set(
                 ARRAY(SELECT ROW(w.entry_id, c.entry_kind, w.key, p_now, NULL,
                                  jsonb_build_object('cycleId', p_cycle, 'lineNo', w.line_no, 'beneficiaryId', w.beneficiary_id, 'period', c.period)
                                    || CASE WHEN w.grant_id IS NULL THEN '{}'::jsonb
                                            ELSE jsonb_build_object('grantId', w.grant_id, 'trancheNo', w.tranche_no, 'component', w.component) END,
                                  'system:cycles', NULL)::ledger_entry_in
                         FROM cycle_chunk_work w WHERE w.problem IS NULL),
                 ARRAY(SELECT ROW(w.entry_id, w.source_account_id, 'debit', w.amount)::ledger_posting_in FROM cycle_chunk_work w WHERE w.problem IS NULL
                       UNION ALL
                       SELECT ROW(w.entry_id, w.account_id, 'credit', w.beneficiary_amount)::ledger_posting_in FROM cycle_chunk_work w WHERE w.problem IS NULL
                       UNION ALL
                       SELECT ROW(w.entry_id, c.insurer_account_id, 'credit', w.insurer_amount)::ledger_posting_in FROM cycle_chunk_work w
                        WHERE w.problem IS NULL AND w.insurer_amount > 0))) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('cycle %s chunk %s: a line was posted twice', p_cycle, p_from);
    END IF;

    INSERT INTO grant_tranches (grant_id, tranche_no, amount, cycle_id, journal_entry_id, released_on, proof_due_on)
    SELECT w.grant_id, w.tranche_no, w.amount, p_cycle, w.entry_id, c.payment_date, w.proof_due_on
      FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.grant_id IS NOT NULL;
  END IF;

  UPDATE disbursement_cycles
     SET posted_count = posted_count + posted, posted_total = disbursement_cycles.posted_total + cycle_post_chunk.posted_total,
         exception_count = exception_count + exceptions,
         exception_total = disbursement_cycles.exception_total + cycle_post_chunk.exceptions_total
   WHERE id = p_cycle;
END $$;`,
  // src/treasury/sql/treasury_sweep_vouchers.sql
  String.raw`-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
-- after p_after) not swept yet. Their accounts are locked in id order and their balances read
-- under the lock; every remaining balance moves to program:<id>:reintegro in ONE journal entry
-- (one debit per voucher, one credit), and their authorized holds are released as expired (a
-- hold never outlives its voucher), both through the ledger's primitive (ledger_post_set);
-- the chunk is recorded as one reintegro. The treasury_voucher_sweeps rows are inserted in the
-- same transaction, so a re-run (or a second worker after a crash) finds nothing left and posts
-- nothing. An advisory lock per program serialises two sweeps of the same program, and late
-- refunds to vouchers take its shared form (merchant_refund), so no refund lands mid-chunk.
CREATE OR REPLACE FUNCTION treasury_sweep_vouchers(p_program uuid, p_now timestamptz, p_after uuid, p_limit integer,
  OUT r_scanned integer, OUT r_swept integer, OUT r_total numeric, OUT r_entry uuid, OUT r_reintegro uuid, OUT r_last uuid)
LANGUAGE plpgsql AS $$
DECLARE
  pr programs;
  v_cutoff timestamptz;
  v_first uuid;
BEGIN
  r_scanned := 0; r_swept := 0; r_total := 0;
  PERFORM pg_advisory_xact_lock(hashtext('treasury-voucher-sweep'), hashtext(p_program::text));
  SELECT * INTO pr FROM programs WHERE id = p_program;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'no such program';
  END IF;
  IF pr.rules->>'voucherUnspentAtExpiry' = 'keep' THEN RETURN; END IF;
  -- The end of voucherExpiresOn in the program's time zone (vouchers are usable strictly before).
  IF pr.rules ? 'voucherExpiresOn' THEN
    v_cutoff := ((pr.rules->>'voucherExpiresOn')::date + 1)::timestamp AT TIME ZONE pr.time_zone;
  END IF;

  DROP TABLE IF EXISTS treasury_sweep_ids;
  CREATE TEMP TABLE treasury_sweep_ids ON COMMIT DROP AS
  SELECT i.id AS instrument_id, i.account_id
    FROM instruments i
   WHERE i.program_id = p_program AND i.kind = 'voucher' AND (p_after IS NULL OR i.id > p_after)
     AND ((i.expires_at IS NOT NULL AND i.expires_at <= p_now) OR (v_cutoff IS NOT NULL AND v_cutoff <= p_now))
   ORDER BY i.id LIMIT p_limit;
  ANALYZE treasury_sweep_ids;  -- planner statistics: a few thousand rows joined to millions of accounts
  SELECT count(*) INTO r_scanned FROM treasury_sweep_ids;
  IF r_scanned = 0 THEN RETURN; END IF;
  SELECT instrument_id INTO r_last FROM treasury_sweep_ids ORDER BY instrument_id DESC LIMIT 1;
  DELETE FROM treasury_sweep_ids w USING treasury_voucher_sweeps s WHERE s.instrument_id = w.instrument_id;
  SELECT instrument_id INTO v_first FROM treasury_sweep_ids ORDER BY instrument_id LIMIT 1;
  IF v_first IS NULL THEN RETURN; END IF;

  -- The vouchers' accounts, locked in id order, and their balances read under the lock.
  DROP TABLE IF EXISTS treasury_sweep_work;
  CREATE TEMP TABLE treasury_sweep_work (instrument_id uuid, account_id uuid, amount numeric) ON COMMIT DROP;
  INSERT INTO treasury_sweep_work (instrument_id, account_id, amount)
  SELECT w.instrument_id, a.id, a.posted_credits - a.posted_debits
    FROM (SELECT l.id, l.posted_credits, l.posted_debits FROM ledger_accounts l
           WHERE l.id = ANY (ARRAY(SELECT account_id FROM treasury_sweep_ids)) ORDER BY l.id FOR UPDATE) a
    JOIN treasury_sweep_ids w ON w.account_id = a.id;
  ANALYZE treasury_sweep_work;
  SELECT count(*) FILTER (WHERE amount > 0), coalesce(sum(amount) FILTER (WHERE amount > 0), 0)
    INTO r_swept, r_total FROM treasury_sweep_work;

  IF r_total > 0 THEN
    r_entry := ledger_uuid_v7();
    r_reintegro := gen_random_uuid();
  END IF;
  -- One entry (a debit per voucher, one credit), and the vouchers' holds released as expired (they
  -- have expired with their voucher), in one posting. The advisory lock and the swept-voucher
  -- filter leave nothing posted before: a replay is a bug.
  IF EXISTS (SELECT 1 FROM ledger_post_set(
               CASE WHEN r_total > 0 THEN
                 ARRAY[ROW(r_entry, 'voucher_expiry', 'voucher-expiry:' || p_program::text || ':' || v_first::text, p_now,
                           'Voucher expiry: remaining balances to reintegro of ' || pr.code,
                           jsonb_build_object('programId', p_program, 'reintegroId', r_reintegro, 'vouchers', r_swept,
                                              'expiresOn', pr.rules->>'voucherExpiresOn', 'cause', 'voucher_expiry'),
                           'system:sweeps', NULL)::ledger_entry_in]
               ELSE '{}' END,
               ARRAY(SELECT ROW(r_entry, w.account_id, 'debit', w.amount)::ledger_posting_in FROM treasury_sweep_work w WHERE w.amount > 0
                     UNION ALL
                     SELECT ROW(r_entry, pr.reintegro_account_id, 'credit', r_total)::ledger_posting_in WHERE r_total > 0),
               ARRAY(SELECT ROW('release', h.id, h.account_id, NULL, NULL, NULL, NULL, 'expired', NULL, NULL, p_now)::ledger_hold_in
                       FROM ledger_holds h JOIN treasury_sweep_work w ON w.account_id = h.account_id
                      WHERE h.status = 'authorized' AND h.account_id = ANY (ARRAY(SELECT x.account_id FROM treasury_sweep_work x))))) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('voucher sweep of %s after %s: a chunk was posted twice', p_program, p_after);
  END IF;
  IF r_total > 0 THEN
    INSERT INTO reintegros (id, program_id, cause, amount, source, journal_entry_id, details, created_at)
    VALUES (r_reintegro, p_program, 'voucher_expiry', r_total, 'voucher', r_entry,
            jsonb_build_object('vouchers', r_swept, 'expiresOn', pr.rules->>'voucherExpiresOn', 'itemsIn', 'treasury_voucher_sweeps'), p_now);
  END IF;

  INSERT INTO treasury_voucher_sweeps (instrument_id, program_id, account_id, amount, reintegro_id, journal_entry_id, swept_at)
  SELECT w.instrument_id, p_program, w.account_id, greatest(w.amount, 0),
         CASE WHEN w.amount > 0 THEN r_reintegro END, CASE WHEN w.amount > 0 THEN r_entry END, p_now
    FROM treasury_sweep_work w;
END $$;`,
];
