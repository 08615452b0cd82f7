import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit (issue 7): integrity seals, per-account daily totals for balances as of a date, and the
 * append-only staff action log. See docs/audit.md for the reasoning.
 *
 * - journal_entries.txid: the id of the transaction that inserted the entry. Sealing and the
 *   daily totals walk entries in (txid, seq) order up to pg_snapshot_xmin(): every transaction
 *   below that horizon has finished, so that prefix of the ledger can never change again, even
 *   though seq values are handed out at insert and transactions commit out of order.
 * - audit_entry_digest_v: the ONE canonical form of an entry with its postings (used to seal and
 *   to verify, so the two can never disagree).
 */
export class Audit1763700400000 implements MigrationInterface {
  name = 'Audit1763700400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE journal_entries ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX journal_entries_txid_seq ON journal_entries (txid, seq);

CREATE VIEW audit_entry_digest_v AS
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
      FROM postings p WHERE p.entry_id = e.id) pj ON true;

-- The sealing horizon: every transaction of THIS database with an id below it has finished, so
-- entries with txid below it are final. Transactions of other databases of the cluster (which
-- hold back pg_snapshot_xmin) cannot write here and are ignored — when this role may read every
-- backend's xid (pg_read_all_stats / superuser); otherwise the cluster-wide xmin, which is also sound.
CREATE FUNCTION audit_seal_horizon() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
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
$$;

-- Hash-chained blocks. A block covers the entries after the previous block's last (txid, seq)
-- up to its own last (to_txid, to_seq), all below the horizon at which it was sealed.
CREATE TABLE audit_seals (
  block_no     bigint PRIMARY KEY CHECK (block_no > 0),
  from_txid    xid8 NOT NULL,
  from_seq     bigint NOT NULL,
  to_txid      xid8 NOT NULL,
  to_seq       bigint NOT NULL,
  first_seq    bigint NOT NULL,
  last_seq     bigint NOT NULL,
  entry_count  integer NOT NULL CHECK (entry_count > 0),
  horizon      xid8 NOT NULL,
  entries_hash text NOT NULL,
  prev_hash    text NOT NULL,
  hash         text NOT NULL UNIQUE,
  sealed_at    timestamptz NOT NULL DEFAULT now()
);

-- The digest of every sealed entry, so a verification names the exact entry that changed.
CREATE TABLE audit_entry_digests (
  entry_id uuid PRIMARY KEY,
  seq      bigint NOT NULL UNIQUE,
  txid     xid8 NOT NULL,
  block_no bigint NOT NULL,
  digest   bytea NOT NULL
);
CREATE INDEX audit_entry_digests_block ON audit_entry_digests (block_no, txid, seq);

CREATE TRIGGER audit_seals_immutable BEFORE UPDATE OR DELETE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER audit_entry_digests_immutable BEFORE UPDATE OR DELETE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER audit_entry_digests_no_truncate BEFORE TRUNCATE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Per account and UTC day: the debits and credits of the postings effective that day, for every
-- entry up to the progress mark. Derived data (rebuildable from postings), maintained by the
-- seals job; a late, back-dated posting simply adds to the row of its day.
CREATE TABLE audit_account_day_totals (
  account_id uuid NOT NULL REFERENCES ledger_accounts(id),
  day        date NOT NULL,
  debits     numeric(20,2) NOT NULL DEFAULT 0,
  credits    numeric(20,2) NOT NULL DEFAULT 0,
  postings   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day) INCLUDE (debits, credits)
);
CREATE TABLE audit_day_totals_progress (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_txid xid8 NOT NULL,
  last_seq  bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_day_totals_progress (last_txid, last_seq) VALUES ('0', 0);

-- Folds the postings of entries after the progress mark and below p_horizon (at most p_limit
-- entries) into the daily totals, then moves the mark. Returns the number of entries folded.
CREATE FUNCTION audit_fold_day_totals(p_horizon xid8, p_limit integer DEFAULT 50000) RETURNS integer
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
END $$;

-- Debits and credits of one account from the postings effective strictly before p_before:
-- whole days from the daily totals, the part of p_before's day from the postings index, and
-- the entries not folded yet (the seconds since the last run) from the (txid, seq) index.
-- (The backlog is MATERIALIZED first so it is read from the (txid, seq) index, and its postings by
-- entry (OFFSET 0 keeps that nested loop), never by scanning the account's history; JIT is off because these are short, index-driven queries.)
CREATE FUNCTION audit_account_totals_before(p_account uuid, p_before timestamptz,
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
$$;

-- The same for every account at once (trial balance).
CREATE FUNCTION audit_all_totals_before(p_before timestamptz)
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
$$;

-- Staff action log: every state-changing request, login and failed login. Append-only.
CREATE TABLE audit_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('request', 'login', 'login_failed')),
  actor_type   text NOT NULL CHECK (actor_type IN ('staff', 'merchant', 'anonymous')),
  actor_id     uuid,
  actor        text,
  role         text,
  method       text NOT NULL,
  route        text,
  action       text NOT NULL,
  handler      text,
  target       jsonb NOT NULL DEFAULT '{}',
  ip           text,
  request_id   text,
  status       integer NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('success', 'failure')),
  problem_code text,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP TABLE IF EXISTS audit_events, audit_day_totals_progress, audit_account_day_totals, audit_entry_digests, audit_seals;
DROP FUNCTION IF EXISTS audit_seal_horizon, audit_all_totals_before, audit_account_totals_before, audit_fold_day_totals;
DROP VIEW IF EXISTS audit_entry_digest_v;
DROP INDEX IF EXISTS journal_entries_txid_seq;
ALTER TABLE journal_entries DROP COLUMN IF EXISTS txid;
`);
  }
}
