import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Foundation: the double-entry ledger (accounts, journal entries, postings, holds), its
 * invariants enforced by PostgreSQL, staff users, merchant API keys and idempotency records.
 *
 * Custom SQLSTATEs (class MN, mapped in src/common/db-errors.ts):
 *   MN001 insufficient funds · MN002 unbalanced entry · MN003 immutable record
 *   MN004 hold not capturable · MN005 amount exceeds hold · MN006 invalid posting
 */
export class Foundation1763700000000 implements MigrationInterface {
  name = 'Foundation1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE ledger_accounts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code             text NOT NULL UNIQUE,
  name             text NOT NULL,
  category         text NOT NULL,
  normal_side      text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  program_id       uuid,
  owner_type       text,
  owner_id         uuid,
  currency         char(3) NOT NULL DEFAULT 'MXN',
  no_negative_balance boolean NOT NULL DEFAULT false,
  -- Hot, unguarded accounts (a busy merchant's payable): postings do not touch this row,
  -- they append to ledger_account_deltas and ledger_rollup() folds them in later.
  deferred_totals  boolean NOT NULL DEFAULT false,
  posted_debits    numeric(20,2) NOT NULL DEFAULT 0 CHECK (posted_debits >= 0),
  posted_credits   numeric(20,2) NOT NULL DEFAULT 0 CHECK (posted_credits >= 0),
  pending_debits   numeric(20,2) NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
  pending_credits  numeric(20,2) NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ledger_accounts_no_negative CHECK (
    NOT no_negative_balance OR
    CASE normal_side
      WHEN 'credit' THEN posted_credits - posted_debits - pending_debits
      ELSE posted_debits - posted_credits - pending_credits
    END >= 0),
  CONSTRAINT ledger_accounts_deferred_unguarded CHECK (NOT (deferred_totals AND no_negative_balance))
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_type, owner_id);
CREATE INDEX ledger_accounts_program ON ledger_accounts (program_id, category);

CREATE TABLE ledger_account_deltas (
  account_id uuid NOT NULL REFERENCES ledger_accounts(id),
  debits     numeric(20,2) NOT NULL DEFAULT 0,
  credits    numeric(20,2) NOT NULL DEFAULT 0
);
CREATE INDEX ledger_account_deltas_account ON ledger_account_deltas (account_id);

CREATE TABLE journal_entries (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind              text NOT NULL,
  idempotency_key   text UNIQUE,
  effective_at      timestamptz NOT NULL,
  description       text,
  metadata          jsonb NOT NULL DEFAULT '{}',
  reverses_entry_id uuid UNIQUE REFERENCES journal_entries(id),
  created_by        text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_effective ON journal_entries (effective_at);
CREATE INDEX journal_entries_kind ON journal_entries (kind, effective_at);

CREATE TABLE postings (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry_id     uuid NOT NULL REFERENCES journal_entries(id),
  account_id   uuid NOT NULL REFERENCES ledger_accounts(id),
  side         text NOT NULL CHECK (side IN ('debit', 'credit')),
  amount       numeric(18,2) NOT NULL CHECK (amount > 0),
  effective_at timestamptz NOT NULL
);
CREATE INDEX postings_entry ON postings (entry_id);
-- Balance of one account as of a date is an index-only range scan.
CREATE INDEX postings_account_time ON postings (account_id, effective_at) INCLUDE (side, amount);

CREATE TABLE ledger_holds (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id       uuid NOT NULL REFERENCES ledger_accounts(id),
  amount           numeric(18,2) NOT NULL CHECK (amount > 0),
  status           text NOT NULL DEFAULT 'authorized' CHECK (status IN ('authorized', 'captured', 'voided', 'expired')),
  captured_amount  numeric(18,2) CHECK (captured_amount > 0 AND captured_amount <= amount),
  expires_at       timestamptz NOT NULL,
  idempotency_key  text UNIQUE,
  capture_entry_id uuid REFERENCES journal_entries(id),
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL,
  resolved_at      timestamptz,
  CONSTRAINT ledger_holds_captured_has_entry CHECK ((status = 'captured') = (capture_entry_id IS NOT NULL))
);
CREATE INDEX ledger_holds_due ON ledger_holds (expires_at) WHERE status = 'authorized';
CREATE INDEX ledger_holds_account ON ledger_holds (account_id) WHERE status = 'authorized';

-- Posted entries are facts: no UPDATE, DELETE or TRUNCATE. Mistakes are corrected by reversal.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = format('%s rows are immutable; post a reversing entry instead', TG_TABLE_NAME);
END $$;
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Every entry balances and has a debit and a credit; all postings of an entry arrive in one
-- statement (so nobody can append to an entry later). Statement-level, so a bulk insert of a
-- million postings is checked with one hash aggregate rather than a million row triggers.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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
  RETURN NULL;
END $$;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();

-- Posts one balanced entry in one round trip: idempotent on p_idempotency_key, locks the
-- touched accounts in id order, and lets the no-negative CHECK refuse an overdraft inside
-- the same statement that changes the balance.
CREATE FUNCTION ledger_post(
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
END $$;

-- Folds the appended deltas of hot accounts into their rows. DELETE … RETURNING only takes
-- committed rows, so a delta committed during the roll-up is simply left for the next one.
CREATE FUNCTION ledger_rollup(p_account uuid DEFAULT NULL) RETURNS integer LANGUAGE plpgsql AS $$
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
END $$;

-- Posted, pending and available balances, including deltas not rolled up yet.
CREATE VIEW ledger_balances AS
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
  ) d ON a.deferred_totals;

-- Two-phase transfers. A hold reserves money on a credit-normal account (it counts against
-- the available balance) until captured, voided or expired.
CREATE FUNCTION ledger_hold_authorize(
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
END $$;

-- Captures part or all of a hold into p_destination; the rest is released. Refuses a hold
-- that is not authorized or has expired by p_now, even if the expiry job has not run yet.
CREATE FUNCTION ledger_hold_capture(
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
END $$;

-- Voids (or expires) an authorized hold; returns false if it was already resolved.
CREATE FUNCTION ledger_hold_release(p_hold uuid, p_status text, p_now timestamptz)
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
END $$;

-- Releases every hold that expired by p_now (at most p_limit), set-based. Returns the count.
CREATE FUNCTION ledger_expire_holds(p_now timestamptz, p_limit integer DEFAULT 10000)
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
END $$;

-- Staff and merchant credentials.
CREATE TABLE staff_users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'program_officer', 'finance_operator', 'finance_approver', 'auditor')),
  active        boolean NOT NULL DEFAULT true,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_users_username ON staff_users (lower(username));

CREATE TABLE merchant_api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id uuid NOT NULL,
  terminal_id uuid,
  key_prefix  text NOT NULL,
  key_hash    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX merchant_api_keys_merchant ON merchant_api_keys (merchant_id);

-- The Idempotency-Key contract of API.md, per caller.
CREATE TABLE idempotency_keys (
  scope           text NOT NULL,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  status          text NOT NULL CHECK (status IN ('in_flight', 'completed')),
  response_status integer,
  response_body   jsonb,
  locked_until    timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  PRIMARY KEY (scope, key)
);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP TABLE IF EXISTS idempotency_keys, merchant_api_keys, staff_users;
DROP FUNCTION IF EXISTS ledger_expire_holds, ledger_hold_release, ledger_hold_capture, ledger_hold_authorize, ledger_rollup, ledger_post, ledger_check_balanced, ledger_refuse_change;
DROP VIEW IF EXISTS ledger_balances;
DROP TABLE IF EXISTS ledger_holds, postings, journal_entries, ledger_account_deltas, ledger_accounts;
`);
  }
}
