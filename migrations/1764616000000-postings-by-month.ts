import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Postings partitioned by month (docs/architecture.md "Postings by month"): postings becomes a
 * table partitioned by RANGE (effective_at), one partition per UTC month in schema ledger_months
 * (created ahead by ledger_postings_months_ahead, daily from the ledger worker) plus a default
 * partition; the rows are copied with their ids, and the identity continues after them. The
 * primary key becomes (id, effective_at), as a partitioned table's unique keys must include the
 * partition key; nothing references postings. Immutability holds on every partition: row-level
 * UPDATE/DELETE refusal inherited from postings, and a statement guard per partition (direct
 * INSERT, UPDATE, DELETE, TRUNCATE). Lookups of an entry's postings carry the entry's instant, so
 * they read one partition; the balanced-entry trigger now also refuses a posting effective at
 * another instant than its entry.
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class PostingsByMonth1764616000000 implements MigrationInterface {
  name = 'PostingsByMonth1764616000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen, ...after]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('PostingsByMonth1764616000000 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first: the old table steps aside, the partitioned one takes its name. */
const before: string[] = [
  'DROP VIEW audit_entry_digest_v',
  'CREATE SCHEMA ledger_months',
  'ALTER TABLE postings RENAME TO postings_unpartitioned',
  'ALTER INDEX postings_pkey RENAME TO postings_unpartitioned_pkey',
  'ALTER INDEX postings_entry RENAME TO postings_unpartitioned_entry',
  'ALTER INDEX postings_account_time RENAME TO postings_unpartitioned_account_time',
  'ALTER SEQUENCE postings_id_seq RENAME TO postings_unpartitioned_id_seq',
  `CREATE TABLE postings (
     id bigint GENERATED ALWAYS AS IDENTITY,
     entry_id uuid NOT NULL,
     account_id uuid NOT NULL,
     side text NOT NULL CONSTRAINT postings_side_check CHECK (side IN ('debit', 'credit')),
     amount numeric(18,2) NOT NULL CONSTRAINT postings_amount_check CHECK (amount > 0),
     effective_at timestamptz NOT NULL,
     PRIMARY KEY (id, effective_at)
   ) PARTITION BY RANGE (effective_at)`,
  'CREATE INDEX postings_entry ON postings (entry_id)',
  'CREATE INDEX postings_account_time ON postings (account_id, effective_at) INCLUDE (side, amount)',
];

/** Run last: the months holding rows and the next three, the default partition, the rows, the identity. */
const after: string[] = [
  `SELECT ledger_postings_month(m) FROM (SELECT DISTINCT date_trunc('month', effective_at AT TIME ZONE 'UTC')::date AS m FROM postings_unpartitioned) x`,
  'SELECT ledger_postings_months_ahead(3)',
  'CREATE TABLE ledger_months.postings_default PARTITION OF postings DEFAULT',
  `CREATE TRIGGER postings_partition_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ledger_months.postings_default
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_partition_guard()`,
  `INSERT INTO postings (id, entry_id, account_id, side, amount, effective_at) OVERRIDING SYSTEM VALUE
   SELECT id, entry_id, account_id, side, amount, effective_at FROM postings_unpartitioned ORDER BY id`,
  `DO $$ BEGIN EXECUTE format('ALTER TABLE postings ALTER COLUMN id RESTART WITH %s', (SELECT coalesce(max(id), 0) + 1 FROM postings_unpartitioned)); END $$`,
  'DROP TABLE postings_unpartitioned',
  'ANALYZE postings',
];

const frozen: string[] = [
  // src/ledger/sql/ledger_check_balanced.sql
  String.raw`-- Every entry balances and has a debit and a credit; all postings of an entry arrive in one
-- statement (so nobody can append to an entry later); and every posting names an entry and an
-- account that exist, and is effective at its entry's instant (so an entry's postings sit in one
-- monthly partition, and looking them up by entry and instant reads that partition only).
-- Statement-level, so a bulk insert of a million postings is checked with a hash aggregate and
-- two joins rather than a million row triggers and row locks.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid; missing boolean;
BEGIN
  SELECT n.entry_id INTO bad
  FROM (SELECT entry_id, min(effective_at) AS at, max(effective_at) AS at_max,
               sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) AS net,
               count(*) AS cnt,
               bool_or(side = 'debit') AS has_debit,
               bool_or(side = 'credit') AS has_credit
          FROM new_postings GROUP BY entry_id) n
  WHERE n.net <> 0 OR NOT n.has_debit OR NOT n.has_credit OR n.at <> n.at_max
     OR n.cnt <> (SELECT count(*) FROM postings p WHERE p.entry_id = n.entry_id AND p.effective_at = n.at)
  LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('journal entry %s is not balanced (or was appended to)', bad);
  END IF;
  SELECT n.entry_id, e.id IS NULL INTO bad, missing FROM new_postings n LEFT JOIN journal_entries e ON e.id = n.entry_id
   WHERE e.id IS NULL OR e.effective_at <> n.effective_at LIMIT 1;
  IF missing THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting of journal entry %s, which does not exist', bad);
  ELSIF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('a posting of journal entry %s is effective at another instant than its entry', bad);
  END IF;
  SELECT n.account_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting to ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;`,
  // src/ledger/sql/ledger_postings_month.sql
  String.raw`-- The monthly partition of postings holding p_month's postings (UTC month, [first day, next
-- first day)), created if missing, with its statement guard; returns its name. Months are
-- created ahead (ledger_postings_months_ahead, daily job); a posting outside every month lands in
-- postings_default, and a month cannot be created while the default partition holds rows of it.
CREATE OR REPLACE FUNCTION ledger_postings_month(p_month date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_from date := date_trunc('month', p_month)::date;
  v_name text := 'postings_' || to_char(date_trunc('month', p_month), 'YYYY_MM');
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('monedero:ledger:postings-months'));
  IF to_regclass('ledger_months.' || v_name) IS NULL THEN
    EXECUTE format('CREATE TABLE ledger_months.%I PARTITION OF postings FOR VALUES FROM (%L) TO (%L)', v_name,
                   v_from::timestamp AT TIME ZONE 'UTC', (v_from + interval '1 month') AT TIME ZONE 'UTC');
    EXECUTE format('CREATE TRIGGER postings_partition_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ledger_months.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_partition_guard()', v_name);
  END IF;
  RETURN v_name;
END $$;`,
  // src/ledger/sql/ledger_postings_months_ahead.sql
  String.raw`-- Makes sure the partitions of postings exist from the current UTC month to p_months months
-- ahead (run by the migration and daily by the ledger worker); returns how many months it covered.
CREATE OR REPLACE FUNCTION ledger_postings_months_ahead(p_months integer DEFAULT 3) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE i integer;
BEGIN
  FOR i IN 0 .. p_months LOOP
    PERFORM ledger_postings_month((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date);
  END LOOP;
  RETURN p_months + 1;
END $$;`,
  // src/ledger/sql/ledger_postings_partition_guard.sql
  String.raw`-- Statement-level guard on every monthly partition of postings (schema ledger_months). Inserts
-- routed through the postings table fire only postings' own statement triggers (the balanced-entry
-- check), never a partition's; so a statement aimed at a partition itself is refused: an INSERT
-- that would skip the balanced-entry check, and UPDATE, DELETE and TRUNCATE like on postings.
-- (Row-level UPDATE/DELETE refusal is inherited from postings by every partition.)
CREATE OR REPLACE FUNCTION ledger_postings_partition_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003',
    MESSAGE = format('%s is a partition of postings: %s through postings only, and posted rows are immutable', TG_TABLE_NAME, lower(TG_OP));
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
    SELECT e.id, e.effective_at FROM journal_entries e
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
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id AND x.effective_at = b.effective_at OFFSET 0) p
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
    SELECT e.id, e.effective_at FROM journal_entries e
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
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id AND x.effective_at = b.effective_at OFFSET 0) p
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
  CREATE TEMP TABLE IF NOT EXISTS audit_fold_batch (id uuid, txid xid8, seq bigint, effective_at timestamptz) ON COMMIT DROP;
  TRUNCATE audit_fold_batch;
  INSERT INTO audit_fold_batch
  SELECT e.id, e.txid, e.seq, e.effective_at FROM journal_entries e
   WHERE (e.txid, e.seq) > (prog.last_txid, prog.last_seq) AND e.txid < p_horizon
   ORDER BY e.txid, e.seq LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN RETURN 0; END IF;
  INSERT INTO audit_account_day_totals AS t (account_id, day, debits, credits, postings)
  SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date,
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0),
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0), count(*)
    FROM audit_fold_batch b JOIN postings p ON p.entry_id = b.id AND p.effective_at = b.effective_at
   GROUP BY 1, 2
  ON CONFLICT (account_id, day) DO UPDATE
     SET debits = t.debits + excluded.debits, credits = t.credits + excluded.credits, postings = t.postings + excluded.postings;
  SELECT b.txid, b.seq INTO v_txid, v_seq FROM audit_fold_batch b ORDER BY b.txid DESC, b.seq DESC LIMIT 1;
  UPDATE audit_day_totals_progress SET last_txid = v_txid, last_seq = v_seq, updated_at = now() WHERE id;
  RETURN n;
END $$;`,
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
      FROM postings p WHERE p.entry_id = e.id AND p.effective_at = e.effective_at) pj ON true;`,
  // src/ledger/sql/postings.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER postings_balanced AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();

CREATE OR REPLACE TRIGGER postings_immutable_rows BEFORE UPDATE OR DELETE ON postings FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();`,
];
