import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 *
 * This one installs today's body of every function, view and trigger. Commit cb061d0 folded two
 * committed migrations into their predecessors, so a database migrated before it kept the older
 * cycle_post_chunk and treasury_sweep_vouchers; after this migration every database, however it
 * was migrated, runs exactly the source files (test/integration/sql-source.spec.ts).
 */
export class SqlSource1764600000000 implements MigrationInterface {
  name = 'SqlSource1764600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('SqlSource1764600000000 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first (none). */
const before: string[] = [];

const frozen: string[] = [
  // src/ledger/sql/ledger_check_balanced.sql
  String.raw`-- Every entry balances and has a debit and a credit; all postings of an entry arrive in one
-- statement (so nobody can append to an entry later); and every posting names an entry and an
-- account that exist. Statement-level, so a bulk insert of a million postings is checked with a
-- hash aggregate and two anti-joins rather than a million row triggers and row locks.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid;
BEGIN
  SELECT n.entry_id INTO bad
  FROM (SELECT entry_id,
               sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) AS net,
               count(*) AS cnt,
               bool_or(side = 'debit') AS has_debit,
               bool_or(side = 'credit') AS has_credit
          FROM new_postings GROUP BY entry_id) n
  WHERE n.net <> 0 OR NOT n.has_debit OR NOT n.has_credit
     OR n.cnt <> (SELECT count(*) FROM postings p WHERE p.entry_id = n.entry_id)
  LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('journal entry %s is not balanced (or was appended to)', bad);
  END IF;
  SELECT n.entry_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = n.entry_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting of journal entry %s, which does not exist', bad);
  END IF;
  SELECT n.account_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting to ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;`,
  // src/ledger/sql/ledger_check_delta_accounts.sql
  String.raw`CREATE OR REPLACE FUNCTION ledger_check_delta_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid;
BEGIN
  SELECT d.account_id INTO bad FROM new_deltas d
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = d.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('delta of ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;`,
  // src/ledger/sql/ledger_expire_holds.sql
  String.raw`-- Releases every hold that expired by p_now (at most p_limit), set-based. Returns the count.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_now timestamptz, p_limit integer DEFAULT 10000)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH due AS (
    SELECT id, account_id, amount FROM ledger_holds
     WHERE status = 'authorized' AND expires_at <= p_now
     ORDER BY account_id LIMIT p_limit FOR UPDATE SKIP LOCKED),
  upd AS (
    UPDATE ledger_holds h SET status = 'expired', resolved_at = p_now FROM due WHERE h.id = due.id
    RETURNING due.account_id, due.amount),
  agg AS (SELECT account_id, sum(amount) AS s, count(*) AS k FROM upd GROUP BY account_id),
  acc AS (
    UPDATE ledger_accounts a SET pending_debits = a.pending_debits - agg.s FROM agg WHERE a.id = agg.account_id
    RETURNING agg.k)
  SELECT coalesce(sum(k), 0)::int INTO n FROM acc;
  RETURN n;
END $$;`,
  // src/ledger/sql/ledger_hold_authorize.sql
  String.raw`-- Two-phase transfers. A hold reserves money on a credit-normal account (it counts against
-- the available balance) until captured, voided or expired.
CREATE OR REPLACE FUNCTION ledger_hold_authorize(
  p_account uuid, p_amount numeric, p_expires_at timestamptz, p_now timestamptz,
  p_idempotency_key text DEFAULT NULL, p_metadata jsonb DEFAULT '{}',
  OUT hold_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
BEGIN
  replayed := false;
  IF p_idempotency_key IS NOT NULL THEN
    SELECT h.id INTO hold_id FROM ledger_holds h WHERE h.idempotency_key = p_idempotency_key;
    IF FOUND THEN replayed := true; RETURN; END IF;
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 OR p_amount <> round(p_amount, 2) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'hold amount must be positive with at most two decimals';
  END IF;
  IF p_expires_at <= p_now THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold must expire in the future';
  END IF;
  UPDATE ledger_accounts SET pending_debits = pending_debits + p_amount
   WHERE id = p_account AND normal_side = 'credit' AND NOT deferred_totals;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'holds are placed on existing credit-normal, non-deferred accounts';
  END IF;
  INSERT INTO ledger_holds (account_id, amount, expires_at, idempotency_key, metadata, created_at)
  VALUES (p_account, p_amount, p_expires_at, p_idempotency_key, coalesce(p_metadata, '{}'), p_now)
  RETURNING id INTO hold_id;
END $$;`,
  // src/ledger/sql/ledger_hold_capture.sql
  String.raw`-- Captures part or all of a hold into p_destination; the rest is released. Refuses a hold
-- that is not authorized or has expired by p_now, even if the expiry job has not run yet.
CREATE OR REPLACE FUNCTION ledger_hold_capture(
  p_hold uuid, p_amount numeric, p_destination uuid, p_now timestamptz,
  p_kind text DEFAULT 'capture', p_idempotency_key text DEFAULT NULL,
  p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE h ledger_holds; amt numeric; v_entry uuid; v_replayed boolean;
BEGIN
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
  UPDATE ledger_accounts SET pending_debits = pending_debits - h.amount WHERE id = h.account_id;
  SELECT r.entry_id, r.replayed INTO v_entry, v_replayed FROM ledger_post(
    p_kind, p_idempotency_key, p_now, ARRAY[h.account_id, p_destination], ARRAY['debit', 'credit'], ARRAY[amt, amt],
    NULL, coalesce(p_metadata, '{}') || jsonb_build_object('holdId', h.id), p_created_by) r;
  IF v_replayed THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  UPDATE ledger_holds SET status = 'captured', captured_amount = amt, capture_entry_id = v_entry, resolved_at = p_now
   WHERE id = h.id;
  RETURN v_entry;
END $$;`,
  // src/ledger/sql/ledger_hold_release.sql
  String.raw`-- Voids (or expires) an authorized hold; returns false if it was already resolved.
CREATE OR REPLACE FUNCTION ledger_hold_release(p_hold uuid, p_status text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE h ledger_holds;
BEGIN
  IF p_status NOT IN ('voided', 'expired') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold is released as voided or expired';
  END IF;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR h.status <> 'authorized' THEN RETURN false; END IF;
  UPDATE ledger_accounts SET pending_debits = pending_debits - h.amount WHERE id = h.account_id;
  UPDATE ledger_holds SET status = p_status, resolved_at = p_now WHERE id = h.id;
  RETURN true;
END $$;`,
  // src/ledger/sql/ledger_post.sql
  String.raw`-- Posts one balanced entry in one round trip: idempotent on p_idempotency_key, locks the
-- touched accounts in id order, and lets the no-negative CHECK refuse an overdraft inside
-- the same statement that changes the balance.
CREATE OR REPLACE FUNCTION ledger_post(
  p_kind text, p_idempotency_key text, p_effective_at timestamptz,
  p_accounts uuid[], p_sides text[], p_amounts numeric[],
  p_description text DEFAULT NULL, p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL,
  p_reverses uuid DEFAULT NULL,
  OUT entry_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(array_length(p_accounts, 1), 0);
  v_found int; v_currencies int; v_deferred int;
BEGIN
  replayed := false;
  IF n < 2 OR n <> coalesce(array_length(p_sides, 1), 0) OR n <> coalesce(array_length(p_amounts, 1), 0)
     OR EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0 OR a <> round(a, 2)) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'an entry needs two or more postings with positive amounts of at most two decimals';
  END IF;

  INSERT INTO journal_entries (kind, idempotency_key, effective_at, description, metadata, created_by, reverses_entry_id)
  VALUES (p_kind, p_idempotency_key, p_effective_at, p_description, coalesce(p_metadata, '{}'), p_created_by, p_reverses)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO entry_id;
  IF entry_id IS NULL THEN  -- this key was posted before (or by a concurrent request that committed first)
    SELECT e.id INTO entry_id FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key;
    replayed := true;
    RETURN;
  END IF;

  -- Lock the guarded accounts in id order (no deadlocks between postings); hot deferred
  -- accounts are never locked. Then check every account exists and all share one currency.
  PERFORM 1 FROM ledger_accounts l WHERE l.id = ANY (p_accounts) AND NOT l.deferred_totals ORDER BY l.id FOR UPDATE;
  SELECT count(*), count(DISTINCT a.currency), count(*) FILTER (WHERE a.deferred_totals)
    INTO v_found, v_currencies, v_deferred
    FROM ledger_accounts a WHERE a.id = ANY (p_accounts);
  IF v_found <> (SELECT count(DISTINCT x) FROM unnest(p_accounts) x) OR v_currencies <> 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown account, or accounts of different currencies';
  END IF;

  WITH d AS (
    SELECT acc, coalesce(sum(amt) FILTER (WHERE side = 'debit'), 0) AS debits,
                coalesce(sum(amt) FILTER (WHERE side = 'credit'), 0) AS credits
      FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt) GROUP BY acc)
  UPDATE ledger_accounts a
     SET posted_debits = a.posted_debits + d.debits, posted_credits = a.posted_credits + d.credits
    FROM d WHERE a.id = d.acc AND NOT a.deferred_totals;

  IF v_deferred > 0 THEN
    INSERT INTO ledger_account_deltas (account_id, debits, credits)
    SELECT t.acc, CASE t.side WHEN 'debit' THEN t.amt ELSE 0 END, CASE t.side WHEN 'credit' THEN t.amt ELSE 0 END
      FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt)
      JOIN ledger_accounts a ON a.id = t.acc AND a.deferred_totals;
  END IF;

  INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
  SELECT entry_id, t.acc, t.side, t.amt, p_effective_at
    FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt);
END $$;`,
  // src/ledger/sql/ledger_refuse_account_delete.sql
  String.raw`CREATE OR REPLACE FUNCTION ledger_refuse_account_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = 'ledger accounts are never deleted: postings and deltas refer to them';
END $$;`,
  // src/ledger/sql/ledger_refuse_change.sql
  String.raw`-- Posted entries are facts: no UPDATE, DELETE or TRUNCATE. Mistakes are corrected by reversal.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = format('%s rows are immutable; post a reversing entry instead', TG_TABLE_NAME);
END $$;`,
  // src/ledger/sql/ledger_rollup.sql
  String.raw`-- Folds the appended deltas of hot accounts into their rows. DELETE … RETURNING only takes
-- committed rows, so a delta committed during the roll-up is simply left for the next one.
CREATE OR REPLACE FUNCTION ledger_rollup(p_account uuid DEFAULT NULL) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH moved AS (
    DELETE FROM ledger_account_deltas WHERE p_account IS NULL OR account_id = p_account
    RETURNING account_id, debits, credits),
  agg AS (SELECT account_id, sum(debits) AS d, sum(credits) AS c, count(*) AS k FROM moved GROUP BY account_id),
  upd AS (
    UPDATE ledger_accounts a SET posted_debits = a.posted_debits + agg.d, posted_credits = a.posted_credits + agg.c
      FROM agg WHERE a.id = agg.account_id RETURNING agg.k)
  SELECT coalesce(sum(k), 0)::int INTO n FROM upd;
  RETURN n;
END $$;`,
  // src/audit/sql/audit_account_totals_before.sql
  String.raw`-- Debits and credits of one account from the postings effective strictly before p_before:
-- whole days from the daily totals, the part of p_before's day from the postings index, and
-- the entries not folded yet (the seconds since the last run) from the (txid, seq) index.
-- (The backlog is MATERIALIZED first so it is read from the (txid, seq) index, and its postings by
-- entry (OFFSET 0 keeps that nested loop), never by scanning the account's history; JIT is off because these are short, index-driven queries.)
CREATE OR REPLACE FUNCTION audit_account_totals_before(p_account uuid, p_before timestamptz,
  OUT debits numeric, OUT credits numeric)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH bounds AS (
    SELECT (p_before AT TIME ZONE 'UTC')::date AS d0,
           ((p_before AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS d0_start),
  backlog AS MATERIALIZED (
    SELECT e.id FROM journal_entries e
     WHERE (e.txid, e.seq) > ((SELECT last_txid FROM audit_day_totals_progress WHERE id), (SELECT last_seq FROM audit_day_totals_progress WHERE id))),
  parts AS (
    SELECT t.debits AS d, t.credits AS c FROM audit_account_day_totals t, bounds
     WHERE t.account_id = p_account AND t.day < bounds.d0
    UNION ALL
    SELECT CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END, CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END
      FROM postings p, bounds
     WHERE p.account_id = p_account AND p.effective_at >= bounds.d0_start AND p.effective_at < p_before
    UNION ALL
    SELECT CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END, CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END
      FROM bounds, backlog b,
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id OFFSET 0) p
     WHERE p.account_id = p_account AND p.effective_at < bounds.d0_start)
  SELECT coalesce(sum(d), 0), coalesce(sum(c), 0) FROM parts
$$;`,
  // src/audit/sql/audit_all_totals_before.sql
  String.raw`-- The same for every account at once (trial balance).
CREATE OR REPLACE FUNCTION audit_all_totals_before(p_before timestamptz)
RETURNS TABLE (account_id uuid, debits numeric, credits numeric)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH bounds AS (
    SELECT (p_before AT TIME ZONE 'UTC')::date AS d0,
           ((p_before AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS d0_start),
  backlog AS MATERIALIZED (
    SELECT e.id FROM journal_entries e
     WHERE (e.txid, e.seq) > ((SELECT last_txid FROM audit_day_totals_progress WHERE id), (SELECT last_seq FROM audit_day_totals_progress WHERE id))),
  parts AS (
    SELECT t.account_id, sum(t.debits) AS d, sum(t.credits) AS c FROM audit_account_day_totals t, bounds
     WHERE t.day < bounds.d0 GROUP BY t.account_id
    UNION ALL
    SELECT p.account_id, sum(p.amount) FILTER (WHERE p.side = 'debit'), sum(p.amount) FILTER (WHERE p.side = 'credit')
      FROM bounds, journal_entries e JOIN postings p ON p.entry_id = e.id
     WHERE e.effective_at >= bounds.d0_start AND e.effective_at < p_before
       AND p.effective_at >= bounds.d0_start AND p.effective_at < p_before
     GROUP BY p.account_id
    UNION ALL
    SELECT p.account_id, sum(p.amount) FILTER (WHERE p.side = 'debit'), sum(p.amount) FILTER (WHERE p.side = 'credit')
      FROM bounds, backlog b,
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id OFFSET 0) p
     WHERE p.effective_at < bounds.d0_start
     GROUP BY p.account_id)
  SELECT account_id, coalesce(sum(d), 0), coalesce(sum(c), 0) FROM parts GROUP BY account_id
$$;`,
  // src/audit/sql/audit_fold_day_totals.sql
  String.raw`-- Folds the postings of entries after the progress mark and below p_horizon (at most p_limit
-- entries) into the daily totals, then moves the mark. Returns the number of entries folded.
CREATE OR REPLACE FUNCTION audit_fold_day_totals(p_horizon xid8, p_limit integer DEFAULT 50000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE prog audit_day_totals_progress; n integer; v_txid xid8; v_seq bigint;
BEGIN
  SELECT * INTO prog FROM audit_day_totals_progress WHERE id FOR UPDATE;
  CREATE TEMP TABLE IF NOT EXISTS audit_fold_batch (id uuid, txid xid8, seq bigint) ON COMMIT DROP;
  TRUNCATE audit_fold_batch;
  INSERT INTO audit_fold_batch
  SELECT e.id, e.txid, e.seq FROM journal_entries e
   WHERE (e.txid, e.seq) > (prog.last_txid, prog.last_seq) AND e.txid < p_horizon
   ORDER BY e.txid, e.seq LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN RETURN 0; END IF;
  INSERT INTO audit_account_day_totals AS t (account_id, day, debits, credits, postings)
  SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date,
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0),
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0), count(*)
    FROM audit_fold_batch b JOIN postings p ON p.entry_id = b.id
   GROUP BY 1, 2
  ON CONFLICT (account_id, day) DO UPDATE
     SET debits = t.debits + excluded.debits, credits = t.credits + excluded.credits, postings = t.postings + excluded.postings;
  SELECT b.txid, b.seq INTO v_txid, v_seq FROM audit_fold_batch b ORDER BY b.txid DESC, b.seq DESC LIMIT 1;
  UPDATE audit_day_totals_progress SET last_txid = v_txid, last_seq = v_seq, updated_at = now() WHERE id;
  RETURN n;
END $$;`,
  // src/audit/sql/audit_seal_horizon.sql
  String.raw`-- The sealing horizon: every transaction of THIS database with an id below it has finished, so
-- entries with txid below it are final. Transactions of other databases of the cluster (which
-- hold back pg_snapshot_xmin) cannot write here and are ignored — when this role may read every
-- backend's xid (pg_read_all_stats / superuser); otherwise the cluster-wide xmin, which is also sound.
CREATE OR REPLACE FUNCTION audit_seal_horizon() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
  WITH s AS (SELECT pg_current_snapshot() AS snap),
  mine AS (
    SELECT backend_xid::text::bigint AS x FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL
    UNION ALL
    SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database())
  SELECT CASE WHEN pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN
           least(pg_snapshot_xmax(s.snap),
                 (SELECT min(x) FROM pg_snapshot_xip(s.snap) x WHERE (x::text::bigint % 4294967296) IN (SELECT mine.x FROM mine)))
         ELSE pg_snapshot_xmin(s.snap) END
    FROM s
$$;`,
  // src/merchants/sql/merchant_iso.sql
  String.raw`CREATE OR REPLACE FUNCTION merchant_iso(p_at timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;`,
  // src/merchants/sql/merchant_problem.sql
  String.raw`-- An RFC 9457 problem document, as src/common/problem.ts renders it.
CREATE OR REPLACE FUNCTION merchant_problem(p_status integer, p_code text, p_detail text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'type', 'https://monedero.example/problems/' || replace(p_code, '_', '-'),
    'title', CASE p_status WHEN 403 THEN 'Forbidden' WHEN 404 THEN 'Not Found' WHEN 409 THEN 'Conflict'
                           WHEN 422 THEN 'Unprocessable Content' ELSE 'Error' END,
    'status', p_status, 'detail', p_detail, 'code', p_code)
$$;`,
  // src/merchants/sql/merchant_redeem_batch.sql
  String.raw`-- Redemptions (op 'redeem') and authorizations (op 'authorize') of many requests, one per
-- array position, in one transaction. Returns one row per request (o_ord is its 1-based
-- position): the HTTP status and body, o_replayed when the body is a remembered one, or
-- o_status NULL when the request's card was locked by another transaction: nothing was
-- written for it, and it is to be sent again (p_wait_for_locks waits for such locks).
-- A refusal never raises: it returns a problem document and writes its audit record (and a
-- wrong-PIN count) while nothing is posted. Checks, in order, as the API documents them:
-- Idempotency-Key, merchant active, instrument known, PIN not locked, PIN, instrument active,
-- not expired at the business clock in the program's time zone, merchant category allowed,
-- available balance (holds count).
CREATE OR REPLACE FUNCTION merchant_redeem_batch(
  p_ops text[], p_merchants uuid[], p_terminals uuid[], p_api_keys uuid[],
  p_number_hashes text[], p_pin_hashes text[], p_amounts numeric[], p_references text[],
  p_nows timestamptz[], p_hold_ttl interval,
  p_idem_scopes text[], p_idem_keys text[], p_idem_hashes text[], p_wait_for_locks boolean DEFAULT false)
RETURNS TABLE (o_ord integer, o_status integer, o_body jsonb, o_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ops, 1), 0);
  w merchant_redeem_work[];
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
           gen_random_uuid(), gen_random_uuid(), m.payable_account_id, pa.deferred_totals,
           i.id, i.account_id, i.program_id, i.last4,
           CASE WHEN i.expires_at IS NOT NULL AND i.expires_at < t.at + p_hold_ttl THEN i.expires_at ELSE t.at + p_hold_ttl END,
           CASE
             WHEN NOT v_got[t.ord] THEN 'request_in_progress'
             WHEN x.key IS NOT NULL AND x.request_hash <> t.idem_hash THEN 'idempotency_key_reused'
             WHEN x.key IS NOT NULL AND x.status = 'completed' THEN 'replay'
             WHEN x.key IS NOT NULL AND x.locked_until >= t.at THEN 'request_in_progress'
             WHEN m.id IS NULL OR m.status <> 'active' THEN 'merchant_suspended'
             WHEN i.id IS NULL THEN 'unknown_instrument'
             WHEN i.pin_locked THEN 'pin_locked'
             WHEN i.pin_hash IS NULL OR i.pin_hash <> t.pin_hash THEN 'invalid_pin'
             WHEN i.status <> 'active' THEN 'instrument_not_active'
             WHEN (i.expires_at IS NOT NULL AND t.at >= i.expires_at)
               OR (i.kind = 'voucher' AND p.rules ? 'voucherExpiresOn'
                   AND (t.at AT TIME ZONE p.time_zone)::date > (p.rules ->> 'voucherExpiresOn')::date) THEN 'instrument_expired'
             WHEN p.rules ? 'allowedMerchantCategories' AND NOT (p.rules -> 'allowedMerchantCategories') ? m.category THEN 'category_not_allowed'
           END,
           CASE WHEN i.status <> 'active' THEN format('The instrument is %s', i.status)
                ELSE format('The program does not allow the %s category', m.category) END,
           CASE WHEN x.status = 'completed' THEN x.response_status END,
           CASE WHEN x.status = 'completed' THEN x.response_body END, false, true
         )::merchant_redeem_work ORDER BY t.ord)
    INTO w
    FROM unnest(p_ops, p_merchants, p_terminals, p_api_keys, p_number_hashes, p_pin_hashes, p_amounts, p_references,
                p_nows, p_idem_scopes, p_idem_keys, p_idem_hashes)
         WITH ORDINALITY AS t(op, merchant, terminal, api_key, number_hash, pin_hash, amount, reference,
                              at, idem_scope, idem_key, idem_hash, ord)
    LEFT JOIN idempotency_keys x ON x.scope = t.idem_scope AND x.key = t.idem_key
    LEFT JOIN merchants m ON m.id = t.merchant
    LEFT JOIN ledger_accounts pa ON pa.id = m.payable_account_id
    LEFT JOIN instruments i ON i.number_hash = t.number_hash
    LEFT JOIN programs p ON p.id = i.program_id;
  FOR k IN 1..n LOOP
    IF w[k].code = 'replay' THEN w[k].replayed := true; END IF;
    IF w[k].code IN ('replay', 'request_in_progress', 'idempotency_key_reused') THEN
      w[k].write_idem := false;  -- another request owns this key: nothing of ours is recorded
    END IF;
  END LOOP;

  -- 3. Wrong-PIN counts (the count persists although the request is refused) and resets, on
  --    instrument rows locked in id order, before any ledger account is locked.
  IF EXISTS (SELECT 1 FROM unnest(w) u WHERE u.code = 'invalid_pin') THEN
    PERFORM 1 FROM instruments WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.code = 'invalid_pin') ORDER BY id FOR UPDATE;
    WITH upd AS (
      UPDATE instruments SET failed_pin_attempts = failed_pin_attempts + 1, pin_locked = failed_pin_attempts + 1 >= 3
       WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.code = 'invalid_pin')
      RETURNING id, pin_locked)
    SELECT coalesce(array_agg(id) FILTER (WHERE pin_locked), '{}') INTO v_now_locked FROM upd;
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(w) u JOIN instruments i ON i.id = u.instrument WHERE u.code IS NULL AND i.failed_pin_attempts > 0) THEN
    PERFORM 1 FROM instruments
      WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.code IS NULL) AND failed_pin_attempts > 0 ORDER BY id FOR UPDATE;
    UPDATE instruments SET failed_pin_attempts = 0
     WHERE id IN (SELECT u.instrument FROM unnest(w) u WHERE u.code IS NULL) AND failed_pin_attempts > 0;
  END IF;

  -- 4. The cards (and any payable that is not a hot deferred account) locked in id order; a
  --    locked row read here is its latest committed version, so check and posting agree.
  --    Unless told to wait, rows another transaction holds (a cycle chunk locks thousands of
  --    cards for a moment) are skipped: those requests come back unanswered (o_status NULL) and
  --    the caller sends each again alone, with p_wait_for_locks, instead of the batch waiting.
  SELECT array_agg(x.id) INTO v_candidates
    FROM (SELECT u.account AS id FROM unnest(w) u WHERE u.code IS NULL
          UNION SELECT u.payable FROM unnest(w) u WHERE u.code IS NULL AND NOT u.payable_deferred) x;
  IF p_wait_for_locks THEN
    PERFORM 1 FROM ledger_accounts l WHERE l.id = ANY (v_candidates) ORDER BY l.id FOR UPDATE;
  END IF;
  -- SKIP LOCKED skips only rows other transactions hold: after the wait above, none.
  SELECT array_agg(a.id ORDER BY a.id), array_agg(a.posted_credits - a.posted_debits - a.pending_debits ORDER BY a.id)
    INTO v_accounts, v_available
    FROM (SELECT l.id, l.posted_credits, l.posted_debits, l.pending_debits FROM ledger_accounts l
           WHERE l.id = ANY (v_candidates) ORDER BY l.id FOR UPDATE SKIP LOCKED) a;
  FOR k IN 1..n LOOP
    IF w[k].code IS NULL THEN
      j := array_position(v_accounts, w[k].account);
      IF j IS NULL OR (NOT w[k].payable_deferred AND array_position(v_accounts, w[k].payable) IS NULL) THEN
        w[k].code := 'retry_alone';
        w[k].write_idem := false;
      ELSIF v_available[j] < w[k].amount THEN
        w[k].code := 'insufficient_funds';
      END IF;
    END IF;
  END LOOP;

  -- 5. Responses. Refusals are problem documents (unknown_instrument is a 404, the rest 422).
  FOR k IN 1..n LOOP
    IF w[k].code IS NULL THEN
      w[k].status := 201;
      w[k].body := jsonb_build_object('id', w[k].id, 'status', CASE w[k].op WHEN 'redeem' THEN 'captured' ELSE 'authorized' END,
                                      'amount', w[k].amount::numeric(18,2)::text, 'instrumentNumber', repeat('*', 12) || w[k].last4,
                                      'reference', w[k].reference, 'createdAt', merchant_iso(w[k].at))
                   || CASE WHEN w[k].op = 'authorize' THEN jsonb_build_object('expiresAt', merchant_iso(w[k].hold_expires)) ELSE '{}' END;
    ELSIF w[k].code = 'replay' THEN
      NULL;  -- status and body are the remembered ones
    ELSIF w[k].code = 'retry_alone' THEN
      NULL;  -- unanswered: nothing written for it
    ELSIF w[k].code = 'request_in_progress' THEN
      w[k].status := 409;
      w[k].body := merchant_problem(409, 'request_in_progress', 'A request with this Idempotency-Key is still being processed');
    ELSIF w[k].code = 'idempotency_key_reused' THEN
      w[k].status := 422;
      w[k].body := merchant_problem(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
    ELSE
      w[k].status := CASE w[k].code WHEN 'unknown_instrument' THEN 404 ELSE 422 END;
      w[k].detail := CASE w[k].code
        WHEN 'merchant_suspended' THEN 'The merchant is suspended'
        WHEN 'unknown_instrument' THEN 'No instrument has this number'
        WHEN 'pin_locked' THEN 'The PIN is locked after three wrong attempts'
        WHEN 'invalid_pin' THEN CASE WHEN w[k].instrument = ANY (v_now_locked) THEN 'Wrong PIN; the PIN is now locked' ELSE 'Wrong PIN' END
        WHEN 'instrument_expired' THEN 'The instrument has expired'
        WHEN 'insufficient_funds' THEN 'The balance does not cover this amount'
        ELSE w[k].detail END;
      -- Suspended merchant and disallowed category share the public code merchant_not_allowed.
      IF w[k].code IN ('merchant_suspended', 'category_not_allowed') THEN w[k].code := 'merchant_not_allowed'; END IF;
      w[k].body := merchant_problem(w[k].status, w[k].code, w[k].detail);
    END IF;
  END LOOP;

  -- 6. Writes, each one statement for the whole batch.
  IF EXISTS (SELECT 1 FROM unnest(w) u WHERE u.code IS NULL) THEN
    INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, metadata, created_by)
    SELECT u.entry_id, 'redemption', 'redemption:' || u.id, u.at,
           jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), 'merchant:' || u.merchant
      FROM unnest(w) u WHERE u.code IS NULL AND u.op = 'redeem' ORDER BY u.ord;
    -- All postings of the batch in ONE statement: the balanced-entry trigger checks every entry.
    INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
    SELECT u.entry_id, u.account, 'debit', u.amount, u.at FROM unnest(w) u WHERE u.code IS NULL AND u.op = 'redeem'
    UNION ALL
    SELECT u.entry_id, u.payable, 'credit', u.amount, u.at FROM unnest(w) u WHERE u.code IS NULL AND u.op = 'redeem';
    -- Locked accounts take their totals (the no-negative CHECK still guards each card) ...
    UPDATE ledger_accounts a
       SET posted_debits = a.posted_debits + d.debits, posted_credits = a.posted_credits + d.credits,
           pending_debits = a.pending_debits + d.holds
      FROM (SELECT s.acc, sum(s.debits) AS debits, sum(s.credits) AS credits, sum(s.holds) AS holds FROM (
              SELECT u.account AS acc, CASE u.op WHEN 'redeem' THEN u.amount ELSE 0 END AS debits, 0 AS credits,
                     CASE u.op WHEN 'authorize' THEN u.amount ELSE 0 END AS holds
                FROM unnest(w) u WHERE u.code IS NULL
              UNION ALL
              SELECT u.payable, 0, u.amount, 0 FROM unnest(w) u WHERE u.code IS NULL AND u.op = 'redeem' AND NOT u.payable_deferred
            ) s GROUP BY s.acc) d
     WHERE a.id = d.acc;
    -- ... and hot merchant payables an appended delta each, with no row lock (rolled up later).
    INSERT INTO ledger_account_deltas (account_id, debits, credits)
    SELECT u.payable, 0, sum(u.amount) FROM unnest(w) u
     WHERE u.code IS NULL AND u.op = 'redeem' AND u.payable_deferred GROUP BY u.payable;
    INSERT INTO ledger_holds (id, account_id, amount, expires_at, idempotency_key, metadata, created_at)
    SELECT u.entry_id, u.account, u.amount, u.hold_expires, 'authorization:' || u.id,
           jsonb_build_object('redemptionId', u.id, 'merchantId', u.merchant), u.at
      FROM unnest(w) u WHERE u.code IS NULL AND u.op = 'authorize';
    INSERT INTO redemptions (id, merchant_id, terminal_id, api_key_id, instrument_id, program_id, instrument_last4,
                             kind, status, amount, captured_amount, entry_id, hold_id, reference, expires_at,
                             created_at, captured_at, resolved_at)
    SELECT u.id, u.merchant, u.terminal, u.api_key, u.instrument, u.program, u.last4,
           CASE u.op WHEN 'redeem' THEN 'direct' ELSE 'authorization' END,
           CASE u.op WHEN 'redeem' THEN 'captured' ELSE 'authorized' END,
           u.amount,
           CASE WHEN u.op = 'redeem' THEN u.amount END, CASE WHEN u.op = 'redeem' THEN u.entry_id END,
           CASE WHEN u.op = 'authorize' THEN u.entry_id END, u.reference,
           CASE WHEN u.op = 'authorize' THEN u.hold_expires END,
           u.at, CASE WHEN u.op = 'redeem' THEN u.at END, CASE WHEN u.op = 'redeem' THEN u.at END
      FROM unnest(w) u WHERE u.code IS NULL;
  END IF;

  INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, amount, code, detail, at)
  SELECT u.merchant, u.terminal, u.op, u.instrument, u.amount, u.code, u.detail, u.at
    FROM unnest(w) u WHERE u.code IS NOT NULL AND u.write_idem;

  INSERT INTO idempotency_keys AS x (scope, key, request_hash, status, response_status, response_body, locked_until, completed_at)
  SELECT u.idem_scope, u.idem_key, u.idem_hash, 'completed', u.status, u.body, u.at, now()
    FROM unnest(w) u WHERE u.idem_key IS NOT NULL AND u.write_idem
  ON CONFLICT (scope, key) DO UPDATE
    SET status = 'completed', response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
        completed_at = EXCLUDED.completed_at
    WHERE x.status = 'in_flight' AND x.request_hash = EXCLUDED.request_hash;

  RETURN QUERY SELECT u.ord, u.status, u.body, u.replayed FROM unnest(w) u ORDER BY u.ord;
END $$;`,
  // src/merchants/sql/merchant_refund.sql
  String.raw`CREATE OR REPLACE FUNCTION merchant_refund(
  p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_reference text, p_now timestamptz,
  OUT o_status integer, OUT o_body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; i instruments; pr programs;
  v_id uuid := gen_random_uuid(); v_code text; v_detail text; v_http integer := 422;
  v_payable uuid; v_next uuid; v_hops integer := 0; v_entry uuid;
  v_cause text; v_baja_cause text; v_reintegro uuid; v_reintegro_entry uuid;
BEGIN
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    v_http := 404; v_code := 'not_found'; v_detail := 'redemption not found';
  ELSIF r.merchant_id <> p_merchant THEN
    v_http := 403; v_code := 'forbidden'; v_detail := 'This redemption belongs to another merchant';
  ELSIF r.status <> 'captured' THEN
    v_code := 'redemption_not_refundable'; v_detail := format('The redemption is %s, not captured', r.status);
  ELSIF r.refunded_amount + p_amount > r.captured_amount THEN
    v_code := 'refund_exceeds_captured';
    v_detail := format('At most %s can still be refunded', (r.captured_amount - r.refunded_amount)::numeric(18,2));
  ELSE
    SELECT payable_account_id INTO v_payable FROM merchants WHERE id = p_merchant;
    SELECT * INTO i FROM instruments WHERE id = r.instrument_id;
    IF i.kind = 'voucher' THEN
      -- Same key as treasury_sweep_vouchers: waits for a chunk in progress; a new chunk waits for us.
      PERFORM pg_advisory_xact_lock_shared(hashtext('treasury-voucher-sweep'), hashtext(i.program_id::text));
    END IF;
    LOOP
      PERFORM 1 FROM ledger_accounts WHERE id = i.account_id FOR UPDATE;
      SELECT * INTO i FROM instruments WHERE id = i.id;  -- re-read under the account lock
      EXIT WHEN i.status <> 'replaced' OR v_hops >= 16;
      SELECT x.id INTO v_next FROM instruments x WHERE x.replaces_id = i.id;
      EXIT WHEN NOT FOUND;  -- (never: a replacement creates its successor) the refund stays where it paid
      SELECT * INTO i FROM instruments WHERE id = v_next;
      v_hops := v_hops + 1;
    END LOOP;

    IF EXISTS (SELECT 1 FROM treasury_voucher_sweeps s WHERE s.instrument_id = i.id) THEN
      v_cause := 'voucher_expiry';
    ELSIF i.status = 'cancelled' THEN
      -- Only the card_not_collected baja cancels a card (instrumentStatusOnBaja).
      v_cause := 'card_not_collected'; v_baja_cause := 'card_not_collected';
    ELSIF i.status = 'blocked' AND i.blocked_reason = 'baja' THEN
      -- A reingreso unblocks the card, so the beneficiary's current baja is the one that blocked it.
      SELECT coalesce(b.deactivation_cause, 'unknown') INTO v_baja_cause FROM beneficiaries b WHERE b.id = i.beneficiary_id;
      v_cause := CASE WHEN v_baja_cause = 'card_not_collected' THEN 'card_not_collected' ELSE 'baja' END;
    END IF;

    SELECT x.entry_id INTO v_entry FROM ledger_post(
      'refund', 'refund:' || v_id, p_now, ARRAY[v_payable, i.account_id], ARRAY['debit', 'credit'], ARRAY[p_amount, p_amount],
      NULL, jsonb_build_object('refundId', v_id, 'redemptionId', r.id, 'merchantId', p_merchant)
            || CASE WHEN i.id <> r.instrument_id THEN jsonb_build_object('instrumentId', i.id) ELSE '{}' END,
      'merchant:' || p_merchant) x;
    INSERT INTO redemption_refunds (id, redemption_id, merchant_id, amount, entry_id, reference, created_at)
    VALUES (v_id, r.id, p_merchant, p_amount, v_entry, p_reference, p_now);
    UPDATE redemptions SET refunded_amount = refunded_amount + p_amount WHERE id = r.id RETURNING * INTO r;

    IF v_cause IS NOT NULL THEN
      SELECT * INTO pr FROM programs WHERE id = i.program_id;
      v_reintegro := gen_random_uuid();
      SELECT x.entry_id INTO v_reintegro_entry FROM ledger_post(
        'late_refund_reintegro', 'late-refund:' || v_id, p_now,
        ARRAY[i.account_id, pr.reintegro_account_id], ARRAY['debit', 'credit'], ARRAY[p_amount, p_amount],
        'Late refund to a ' || CASE v_cause WHEN 'voucher_expiry' THEN 'swept voucher' ELSE i.status || ' card' END
          || ': to reintegro of ' || pr.code,
        jsonb_build_object('programId', pr.id, 'reintegroId', v_reintegro, 'refundId', v_id, 'redemptionId', r.id,
                           'merchantId', p_merchant, 'instrumentId', i.id, 'beneficiaryId', i.beneficiary_id,
                           'cause', coalesce(v_baja_cause, v_cause)),
        'merchant:' || p_merchant) x;
      INSERT INTO reintegros (id, program_id, cause, baja_cause, amount, source, source_account_ids, journal_entry_id,
                              beneficiary_id, instrument_ids, details, created_at)
      VALUES (v_reintegro, pr.id, v_cause, v_baja_cause, p_amount,
              CASE v_cause WHEN 'voucher_expiry' THEN 'voucher' ELSE 'instrument' END,
              ARRAY[i.account_id], v_reintegro_entry, i.beneficiary_id, ARRAY[i.id],
              jsonb_strip_nulls(jsonb_build_object(
                'lateRefund', true, 'refundId', v_id, 'redemptionId', r.id, 'merchantId', p_merchant,
                'redemptionInstrumentId', CASE WHEN i.id <> r.instrument_id THEN r.instrument_id END)),
              p_now);
    END IF;
  END IF;

  IF v_code IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, 'refund', CASE WHEN v_http = 422 THEN r.instrument_id END, p_redemption, p_amount, v_code, v_detail, p_now);
    o_status := v_http; o_body := merchant_problem(v_http, v_code, v_detail);
    RETURN;
  END IF;
  o_status := 201;
  o_body := jsonb_build_object('id', v_id, 'redemptionId', r.id, 'status', 'refunded', 'amount', p_amount::numeric(18,2)::text,
                               'refundedTotal', r.refunded_amount::text, 'refundable', (r.captured_amount - r.refunded_amount)::text,
                               'reference', p_reference, 'createdAt', merchant_iso(p_now));
END $$;`,
  // src/merchants/sql/merchant_resolve_authorization.sql
  String.raw`-- Capture (part or all) or void an authorization of this merchant. The hold row is locked and
-- checked here so that a refusal is returned, not raised; ledger_hold_capture checks again.
CREATE OR REPLACE FUNCTION merchant_resolve_authorization(
  p_op text, p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_now timestamptz,
  OUT o_status integer, OUT o_body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; h ledger_holds; m record;
  v_code text; v_detail text; v_http integer := 422; v_amount numeric; v_entry uuid;
BEGIN
  IF p_op NOT IN ('capture', 'void') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown authorization operation';
  END IF;
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    v_http := 404; v_code := 'not_found'; v_detail := 'authorization not found';
  ELSIF r.merchant_id <> p_merchant THEN
    v_http := 403; v_code := 'forbidden'; v_detail := 'This authorization belongs to another merchant';
  ELSIF r.kind <> 'authorization' THEN
    v_code := 'hold_not_capturable'; v_detail := 'This is a direct redemption, not an authorization';
  ELSE
    SELECT * INTO h FROM ledger_holds WHERE id = r.hold_id FOR UPDATE;
    SELECT x.status, x.payable_account_id INTO m FROM merchants x WHERE x.id = p_merchant;
    IF h.status <> 'authorized' THEN
      v_code := CASE p_op WHEN 'capture' THEN 'hold_not_capturable' ELSE 'hold_not_voidable' END;
      v_detail := format('The authorization is %s', h.status);
    ELSIF p_op = 'capture' AND h.expires_at <= p_now THEN
      v_code := 'hold_not_capturable'; v_detail := 'The authorization has expired';
    ELSIF p_op = 'capture' AND m.status <> 'active' THEN
      v_code := 'merchant_not_allowed'; v_detail := 'The merchant is suspended';
    ELSIF p_op = 'capture' AND coalesce(p_amount, h.amount) > h.amount THEN
      v_code := 'amount_exceeds_hold'; v_detail := 'The amount exceeds the authorized amount';
    ELSIF p_op = 'capture' THEN
      v_amount := coalesce(p_amount, h.amount);
      v_entry := ledger_hold_capture(h.id, v_amount, m.payable_account_id, p_now, 'redemption', 'redemption:' || r.id,
                                     jsonb_build_object('redemptionId', r.id, 'merchantId', p_merchant), 'merchant:' || p_merchant);
      UPDATE redemptions SET status = 'captured', captured_amount = v_amount, entry_id = v_entry, captured_at = p_now, resolved_at = p_now
       WHERE id = r.id RETURNING * INTO r;
    ELSE
      PERFORM ledger_hold_release(h.id, 'voided', p_now);
      UPDATE redemptions SET status = 'voided', resolved_at = p_now WHERE id = r.id RETURNING * INTO r;
    END IF;
  END IF;

  IF v_code IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, p_op, CASE WHEN v_http = 422 THEN r.instrument_id END, p_redemption, p_amount, v_code, v_detail, p_now);
    o_status := v_http; o_body := merchant_problem(v_http, v_code, v_detail);
    RETURN;
  END IF;
  o_status := 200;
  o_body := jsonb_build_object('id', r.id, 'status', r.status, 'amount', coalesce(r.captured_amount, r.amount)::text,
                               'authorizedAmount', r.amount::text, 'instrumentNumber', repeat('*', 12) || r.instrument_last4,
                               'reference', r.reference, 'createdAt', merchant_iso(r.created_at),
                               'capturedAt', CASE WHEN r.captured_at IS NOT NULL THEN merchant_iso(r.captured_at) END);
END $$;`,
  // src/merchants/sql/merchant_settle.sql
  String.raw`-- Nets one merchant's unsettled captures and refunds before p_cutoff into a settlement and moves
-- the net from the merchant payable to the bank account. Idempotent per (merchant, business date).
-- A negative net (more refunds than captures) is carried over: nothing is settled that day.
CREATE OR REPLACE FUNCTION merchant_settle(p_merchant uuid, p_business_date date, p_cutoff timestamptz, p_now timestamptz, p_bank uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid; v_statement text; v_payable uuid; v_currency char(3);
  v_cap_n integer; v_cap numeric; v_ref_n integer; v_ref numeric; v_entry uuid;
BEGIN
  SELECT id INTO v_id FROM settlements WHERE merchant_id = p_merchant AND business_date = p_business_date;
  IF FOUND THEN RETURN v_id; END IF;
  SELECT m.payable_account_id, a.currency INTO v_payable, v_currency
    FROM merchants m JOIN ledger_accounts a ON a.id = m.payable_account_id WHERE m.id = p_merchant;
  v_statement := 'ST-' || to_char(p_business_date, 'YYYYMMDD') || '-' || lpad(nextval('settlement_statement_seq')::text, 6, '0');
  BEGIN
    INSERT INTO settlements (statement_id, merchant_id, business_date, cutoff_at, currency, created_at)
    VALUES (v_statement, p_merchant, p_business_date, p_cutoff, v_currency, p_now)
    RETURNING id INTO v_id;
    WITH u AS (
      UPDATE redemptions SET settlement_id = v_id
       WHERE merchant_id = p_merchant AND status = 'captured' AND settlement_id IS NULL AND captured_at < p_cutoff
      RETURNING captured_amount)
    SELECT count(*), coalesce(sum(captured_amount), 0) INTO v_cap_n, v_cap FROM u;
    WITH u AS (
      UPDATE redemption_refunds SET settlement_id = v_id
       WHERE merchant_id = p_merchant AND settlement_id IS NULL AND created_at < p_cutoff
      RETURNING amount)
    SELECT count(*), coalesce(sum(amount), 0) INTO v_ref_n, v_ref FROM u;
    IF v_cap_n + v_ref_n = 0 OR v_cap - v_ref < 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'MNS01', MESSAGE = 'nothing to settle';
    END IF;
    IF v_cap - v_ref > 0 THEN
      SELECT x.entry_id INTO v_entry FROM ledger_post(
        'settlement', 'settlement:' || v_statement, p_now, ARRAY[v_payable, p_bank], ARRAY['debit', 'credit'],
        ARRAY[v_cap - v_ref, v_cap - v_ref], 'Merchant settlement ' || v_statement,
        jsonb_build_object('settlementId', v_id, 'statementId', v_statement, 'merchantId', p_merchant), 'system:settlement') x;
    END IF;
    UPDATE settlements SET captures_count = v_cap_n, captures_total = v_cap, refunds_count = v_ref_n, refunds_total = v_ref,
                           net_amount = v_cap - v_ref, entry_id = v_entry
     WHERE id = v_id;
  EXCEPTION WHEN SQLSTATE 'MNS01' THEN
    RETURN NULL;
  END;
  RETURN v_id;
END $$;`,
  // src/disbursements/sql/cycle_post_chunk.sql
  String.raw`-- Posts one chunk of a running cycle (lines p_from..p_to) with a handful of set-based statements.
-- Entry ids are time-ordered (UUIDv7 layout: 48-bit milliseconds, version 7, the line number,
-- random bits), so a chunk's entries and postings append to the right edge of their indexes; the
-- credited accounts are locked (in id order) and updated in one statement, which also checks the
-- currency; hot (deferred) accounts take deltas only when there are any.
-- Why not ledger_post per line: one round trip per line is far too slow for a million cards. The
-- same invariants hold: every entry is inserted with all its postings in ONE statement (the
-- postings_balanced statement trigger checks them), credited accounts are locked in id order
-- (the order ledger_post uses), the commitment is debited once per chunk by a guarded UPDATE (its
-- no-negative CHECK refuses drawing more than was committed), postings are immutable, and every
-- line is idempotent on journal_entries.idempotency_key = cycle:<id>:line:<beneficiaryId>, so a
-- chunk re-run after a crash posts nothing twice. A line that cannot post (beneficiary inactive,
-- instrument blocked/replaced/expired since the draft) becomes an exception, not a failure.
CREATE OR REPLACE FUNCTION cycle_post_chunk(p_cycle uuid, p_from integer, p_to integer, p_now timestamptz,
  OUT posted integer, OUT posted_total numeric, OUT exceptions integer, OUT exceptions_total numeric)
LANGUAGE plpgsql AS $$
DECLARE
  c disbursement_cycles;
  v_prefix text := 'cycle:' || p_cycle::text || ':line:';
  v_ms text := lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0');
  v_accounts integer;
  v_updated integer;
  v_bad integer;
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

  DROP TABLE IF EXISTS cycle_chunk_work;
  CREATE TEMP TABLE cycle_chunk_work ON COMMIT DROP AS
  SELECT l.line_no, l.beneficiary_id, l.account_id, l.amount, l.beneficiary_amount, l.insurer_amount,
         l.grant_id, l.tranche_no, l.proof_due_on,
         v_prefix || l.beneficiary_id::text AS key,
         (v_ms || '7' || lpad(to_hex(l.line_no), 7, '0') || substr(md5(random()::text || l.beneficiary_id::text), 1, 12))::uuid AS entry_id,
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
    INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, metadata, created_by)
    SELECT w.entry_id, c.entry_kind, w.key, p_now,
           jsonb_build_object('cycleId', p_cycle, 'lineNo', w.line_no, 'beneficiaryId', w.beneficiary_id, 'period', c.period),
           'system:cycles'
      FROM cycle_chunk_work w WHERE w.problem IS NULL ORDER BY w.line_no;

    -- All postings of the chunk in ONE statement: the balanced-entry trigger checks every entry.
    INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
    SELECT w.entry_id, c.commitment_account_id, 'debit', w.amount, p_now FROM cycle_chunk_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT w.entry_id, w.account_id, 'credit', w.beneficiary_amount, p_now FROM cycle_chunk_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT w.entry_id, c.insurer_account_id, 'credit', w.insurer_amount, p_now FROM cycle_chunk_work w
     WHERE w.problem IS NULL AND w.insurer_amount > 0;

    -- Credited accounts: locked in id order (the order ledger_post uses, so no deadlock with
    -- redemptions or other chunks) and updated in the same statement, which also checks that
    -- every account exists and has the cycle's currency.
    WITH credits AS (
      SELECT t.acc, sum(t.amt) AS amt FROM (
        SELECT w.account_id AS acc, w.beneficiary_amount AS amt FROM cycle_chunk_work w WHERE w.problem IS NULL
        UNION ALL
        SELECT c.insurer_account_id, w.insurer_amount FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.insurer_amount > 0) t
      GROUP BY t.acc),
    locked AS MATERIALIZED (
      SELECT a.id FROM ledger_accounts a WHERE a.id IN (SELECT acc FROM credits) AND NOT a.deferred_totals
       ORDER BY a.id FOR UPDATE),
    upd AS (
      UPDATE ledger_accounts a SET posted_credits = a.posted_credits + credits.amt
        FROM credits JOIN locked ON locked.id = credits.acc
       WHERE a.id = credits.acc
      RETURNING a.currency)
    SELECT (SELECT count(*) FROM credits), (SELECT count(*) FROM upd), (SELECT count(*) FROM upd WHERE currency <> c.currency)
      INTO v_accounts, v_updated, v_bad;
    IF v_bad > 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'cycle line account in another currency';
    END IF;
    IF v_updated < v_accounts THEN
      -- Hot accounts take deltas (rolled up later); an unknown account is refused.
      INSERT INTO ledger_account_deltas (account_id, debits, credits)
      SELECT a.id, 0, sum(CASE WHEN a.id = c.insurer_account_id THEN w.insurer_amount ELSE w.beneficiary_amount END)
        FROM cycle_chunk_work w JOIN ledger_accounts a ON a.id = w.account_id AND a.deferred_totals
       WHERE w.problem IS NULL GROUP BY a.id;
      IF c.insurer_account_id IS NOT NULL AND EXISTS (SELECT 1 FROM ledger_accounts WHERE id = c.insurer_account_id AND deferred_totals) THEN
        INSERT INTO ledger_account_deltas (account_id, debits, credits)
        SELECT c.insurer_account_id, 0, sum(w.insurer_amount) FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.insurer_amount > 0;
      END IF;
      IF (SELECT count(*) FROM ledger_accounts a WHERE a.id IN (SELECT w.account_id FROM cycle_chunk_work w WHERE w.problem IS NULL))
         < (SELECT count(DISTINCT w.account_id) FROM cycle_chunk_work w WHERE w.problem IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown account in a cycle line';
      END IF;
    END IF;

    -- One guarded debit of the commitment per chunk (its no-negative CHECK refuses overdrawing it).
    UPDATE ledger_accounts SET posted_debits = posted_debits + posted_total WHERE id = c.commitment_account_id;

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
  // src/disbursements/sql/disbursement_cycles_frozen.sql
  String.raw`-- Control totals and identity of a cycle are frozen when the draft is made.
CREATE OR REPLACE FUNCTION disbursement_cycles_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.control_count <> OLD.control_count OR NEW.control_total <> OLD.control_total OR NEW.program_id <> OLD.program_id
     OR NEW.kind <> OLD.kind OR NEW.period <> OLD.period OR NEW.payment_date <> OLD.payment_date THEN
    RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = 'control totals and identity of a cycle are frozen';
  END IF;
  RETURN NEW;
END $$;`,
  // src/treasury/sql/treasury_record_baja_reintegro.sql
  String.raw`-- Records the reintegro of a 'baja_reintegro' journal entry (called in the baja's transaction,
-- and by the backfill below). Idempotent on the entry. Design decision (docs/treasury.md): for a
-- baja for death, the deposits posted for periods whose payment date is after the date of death
-- (effectiveDate) are part of the reintegro; they are itemised in details.depositsAfterDeath.
CREATE OR REPLACE FUNCTION treasury_record_baja_reintegro(p_entry uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  e journal_entries;
  v_id uuid;
  v_program uuid;
  v_amount numeric;
  v_sources uuid[];
  v_cause text;
  v_effective date;
  v_deaths jsonb := NULL;
BEGIN
  SELECT * INTO e FROM journal_entries WHERE id = p_entry AND kind = 'baja_reintegro';
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT r.id INTO v_id FROM reintegros r WHERE r.journal_entry_id = p_entry;
  IF FOUND THEN RETURN v_id; END IF;
  SELECT pr.id, sum(p.amount) INTO v_program, v_amount
    FROM postings p JOIN programs pr ON pr.reintegro_account_id = p.account_id
   WHERE p.entry_id = p_entry AND p.side = 'credit' GROUP BY pr.id;
  IF v_program IS NULL THEN RETURN NULL; END IF;
  SELECT array_agg(p.account_id ORDER BY p.account_id) INTO v_sources FROM postings p WHERE p.entry_id = p_entry AND p.side = 'debit';
  v_cause := coalesce(e.metadata->>'cause', 'unknown');
  v_effective := (e.metadata->>'effectiveDate')::date;
  IF v_cause = 'death' AND v_effective IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'journalEntryId', d.id, 'kind', d.kind, 'cycleId', c.id, 'period', c.period,
             'paymentDate', to_char(c.payment_date, 'YYYY-MM-DD'), 'amount', to_char(x.amount, 'FM9999999999999990.00'))
             ORDER BY c.payment_date, d.id), '[]'::jsonb)
      INTO v_deaths
      FROM postings x
      JOIN journal_entries d ON d.id = x.entry_id AND d.metadata ? 'cycleId'
      JOIN disbursement_cycles c ON c.id = (d.metadata->>'cycleId')::uuid
     WHERE x.account_id = ANY (v_sources) AND x.side = 'credit' AND c.payment_date > v_effective;
  END IF;
  INSERT INTO reintegros (program_id, cause, baja_cause, amount, source, source_account_ids, journal_entry_id,
                          beneficiary_id, instrument_ids, details, created_at)
  VALUES (v_program,
          CASE WHEN v_cause = 'card_not_collected' THEN 'card_not_collected' ELSE 'baja' END,
          v_cause, v_amount, 'instrument', v_sources, p_entry,
          (e.metadata->>'beneficiaryId')::uuid,
          CASE WHEN jsonb_typeof(e.metadata->'instrumentIds') = 'array'
               THEN ARRAY(SELECT jsonb_array_elements_text(e.metadata->'instrumentIds')::uuid) END,
          jsonb_strip_nulls(jsonb_build_object(
            'effectiveDate', e.metadata->>'effectiveDate',
            'depositsAfterDeath', v_deaths,
            'depositsAfterDeathTotal', CASE WHEN v_deaths IS NOT NULL THEN
              (SELECT to_char(coalesce(sum((x->>'amount')::numeric), 0), 'FM9999999999999990.00') FROM jsonb_array_elements(v_deaths) x) END)),
          e.effective_at)
  ON CONFLICT (journal_entry_id) DO NOTHING
  RETURNING id INTO v_id;
  RETURN v_id;
END $$;`,
  // src/treasury/sql/treasury_sweep_vouchers.sql
  String.raw`-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
-- after p_after) not swept yet. Their authorized holds are released as expired (a hold never
-- outlives its voucher, merchants migration); their balances are read without a lock and each
-- voucher is debited by one guarded UPDATE (row lock and write in one step, applied only if the
-- balance is unchanged: a refund that landed in between leaves that voucher for the next run);
-- the reintegro account is touched last, so the sweep never holds it while waiting for a voucher
-- (no deadlock with a baja). Every remaining balance moves to program:<id>:reintegro in ONE journal entry with
-- one debit per voucher and one credit (the postings_balanced trigger checks it), recorded as one
-- reintegro. The treasury_voucher_sweeps rows are inserted in the same transaction, so a re-run
-- (or a second worker after a crash) finds nothing left and posts nothing. An advisory lock per
-- program serialises two sweeps of the same program.
CREATE OR REPLACE FUNCTION treasury_sweep_vouchers(p_program uuid, p_now timestamptz, p_after uuid, p_limit integer,
  OUT r_scanned integer, OUT r_swept integer, OUT r_total numeric, OUT r_entry uuid, OUT r_reintegro uuid, OUT r_last uuid)
LANGUAGE plpgsql AS $$
DECLARE
  pr programs;
  v_cutoff timestamptz;
  v_first uuid;
  v_ms text := lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0');
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

  -- Holds of expired vouchers have expired too (they never outlive the voucher): release them.
  WITH h AS (
    UPDATE ledger_holds h SET status = 'expired', resolved_at = p_now
      FROM treasury_sweep_ids w WHERE h.account_id = w.account_id AND h.status = 'authorized'
    RETURNING h.account_id, h.amount),
  agg AS (SELECT account_id, sum(amount) AS s FROM h GROUP BY account_id)
  UPDATE ledger_accounts a SET pending_debits = a.pending_debits - agg.s FROM agg WHERE a.id = agg.account_id;

  -- Read the balances without locking, then debit each voucher with a guarded UPDATE that takes
  -- its row lock and applies only if the balance is still the one read (a refund that landed in
  -- between leaves that voucher for the next run). One write per voucher instead of lock + update.
  DROP TABLE IF EXISTS treasury_sweep_work;
  CREATE TEMP TABLE treasury_sweep_work ON COMMIT DROP AS
  SELECT w.instrument_id, w.account_id, a.posted_credits - a.posted_debits AS amount, a.currency, a.deferred_totals
    FROM treasury_sweep_ids w JOIN ledger_accounts a ON a.id = w.account_id;
  ANALYZE treasury_sweep_work;
  IF EXISTS (SELECT 1 FROM treasury_sweep_work WHERE currency <> pr.currency OR deferred_totals) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'voucher account in another currency, or deferred';
  END IF;
  WITH upd AS (
    UPDATE ledger_accounts a SET posted_debits = a.posted_debits + w.amount
      FROM treasury_sweep_work w
     WHERE a.id = w.account_id AND w.amount > 0 AND a.posted_credits - a.posted_debits = w.amount
    RETURNING a.id)
  DELETE FROM treasury_sweep_work w WHERE w.amount > 0 AND NOT EXISTS (SELECT 1 FROM upd WHERE upd.id = w.account_id);

  SELECT count(*) FILTER (WHERE amount > 0), coalesce(sum(amount) FILTER (WHERE amount > 0), 0)
    INTO r_swept, r_total FROM treasury_sweep_work;

  IF r_total > 0 THEN
    r_entry := (v_ms || '7' || substr(md5(random()::text || v_first::text), 1, 19))::uuid;
    r_reintegro := gen_random_uuid();
    INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (r_entry, 'voucher_expiry', 'voucher-expiry:' || p_program::text || ':' || v_first::text, p_now,
            'Voucher expiry: remaining balances to reintegro of ' || pr.code,
            jsonb_build_object('programId', p_program, 'reintegroId', r_reintegro, 'vouchers', r_swept,
                               'expiresOn', pr.rules->>'voucherExpiresOn', 'cause', 'voucher_expiry'),
            'system:sweeps');
    INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
    SELECT r_entry, w.account_id, 'debit', w.amount, p_now FROM treasury_sweep_work w WHERE w.amount > 0
    UNION ALL
    SELECT r_entry, pr.reintegro_account_id, 'credit', r_total, p_now;
    UPDATE ledger_accounts SET posted_credits = posted_credits + r_total WHERE id = pr.reintegro_account_id;
    INSERT INTO reintegros (id, program_id, cause, amount, source, journal_entry_id, details, created_at)
    VALUES (r_reintegro, p_program, 'voucher_expiry', r_total, 'voucher', r_entry,
            jsonb_build_object('vouchers', r_swept, 'expiresOn', pr.rules->>'voucherExpiresOn', 'itemsIn', 'treasury_voucher_sweeps'), p_now);
  END IF;

  INSERT INTO treasury_voucher_sweeps (instrument_id, program_id, account_id, amount, reintegro_id, journal_entry_id, swept_at)
  SELECT w.instrument_id, p_program, w.account_id, greatest(w.amount, 0),
         CASE WHEN w.amount > 0 THEN r_reintegro END, CASE WHEN w.amount > 0 THEN r_entry END, p_now
    FROM treasury_sweep_work w;
END $$;`,
  // src/ledger/sql/ledger_balances.sql
  String.raw`-- Posted, pending and available balances, including deltas not rolled up yet.
CREATE OR REPLACE VIEW ledger_balances AS
SELECT a.id AS account_id, a.code, a.category, a.normal_side, a.program_id, a.owner_type, a.owner_id, a.currency,
       a.posted_debits + coalesce(d.debits, 0) AS posted_debits,
       a.posted_credits + coalesce(d.credits, 0) AS posted_credits,
       a.pending_debits, a.pending_credits,
       CASE a.normal_side WHEN 'credit' THEN a.posted_credits + coalesce(d.credits, 0) - a.posted_debits - coalesce(d.debits, 0)
                          ELSE a.posted_debits + coalesce(d.debits, 0) - a.posted_credits - coalesce(d.credits, 0) END AS posted,
       CASE a.normal_side WHEN 'credit' THEN a.pending_debits ELSE a.pending_credits END AS pending
  FROM ledger_accounts a
  LEFT JOIN LATERAL (
    SELECT sum(x.debits) AS debits, sum(x.credits) AS credits FROM ledger_account_deltas x WHERE x.account_id = a.id
  ) d ON a.deferred_totals;`,
  // src/audit/sql/audit_entry_digest_v.sql
  String.raw`CREATE OR REPLACE VIEW audit_entry_digest_v AS
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
      FROM postings p WHERE p.entry_id = e.id) pj ON true;`,
  // src/ledger/sql/journal_entries.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/ledger/sql/ledger_account_deltas.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER ledger_account_deltas_account AFTER INSERT ON ledger_account_deltas REFERENCING NEW TABLE AS new_deltas
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_delta_accounts();`,
  // src/ledger/sql/ledger_accounts.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_account_delete();

CREATE OR REPLACE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_account_delete();`,
  // src/ledger/sql/postings.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER postings_balanced AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();`,
  // src/audit/sql/audit_entry_digests.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER audit_entry_digests_immutable BEFORE UPDATE OR DELETE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_entry_digests_no_truncate BEFORE TRUNCATE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/audit/sql/audit_events.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/audit/sql/audit_seals.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER audit_seals_immutable BEFORE UPDATE OR DELETE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/disbursements/sql/cycle_lines.triggers.sql
  String.raw`-- Lines are the frozen control list: never edited. Their outcome is a journal entry with the key
-- cycle:<cycleId>:line:<beneficiaryId>, or a row in cycle_line_exceptions.
CREATE OR REPLACE TRIGGER cycle_lines_immutable BEFORE UPDATE OR DELETE ON cycle_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/disbursements/sql/disbursement_cycles.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER disbursement_cycles_frozen BEFORE UPDATE ON disbursement_cycles FOR EACH ROW EXECUTE FUNCTION disbursement_cycles_frozen();`,
];
