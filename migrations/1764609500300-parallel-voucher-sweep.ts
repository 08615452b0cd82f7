import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The voucher-expiry sweep runs disjoint id ranges in parallel (treasury_sweep_vouchers takes an
 * upper bound; its per-program advisory lock, and merchant_refund's shared form of it, give way to
 * the voucher accounts' row locks), and ledger_post_set never scans the accounts table.
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class ParallelVoucherSweep1764609500300 implements MigrationInterface {
  name = 'ParallelVoucherSweep1764609500300';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('ParallelVoucherSweep1764609500300 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first: the old signature, before the new one exists beside it. */
const before: string[] = ['DROP FUNCTION treasury_sweep_vouchers(uuid, timestamptz, uuid, integer)'];

const frozen: string[] = [
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
END $$;`,
  // src/merchants/sql/merchant_refund.sql
  String.raw`-- Refunds part of a captured redemption back to its instrument; total refunds never exceed the
-- captured amount (checked under the redemption's row lock, and by a CHECK constraint). Returns
-- its domain outcome ('refunded', or a refusal code: not_found, forbidden,
-- redemption_not_refundable, refund_exceeds_captured) with facts; TypeScript chooses the HTTP
-- status and body (src/merchants/redemption-outcomes.ts).
-- Late refunds (docs/treasury.md): a refund whose instrument can no longer spend is forwarded in
-- the same transaction: to the card that replaced it (followed to the newest); for a swept voucher,
-- a card cancelled by baja card_not_collected or blocked by a baja, posted to the instrument and
-- moved on to the program's reintegro payable in a second entry, recorded as a pending reintegro.
-- Locks, in order: the redemption row; the instrument's account, before its status is read (a
-- replacement, a baja and a voucher-expiry sweep change the status or move the balance while
-- holding it, so the status and the swept mark read after it are the ones the money meets); the
-- reintegro payable last.
CREATE OR REPLACE FUNCTION merchant_refund(
  p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_reference text, p_now timestamptz,
  OUT o_outcome text, OUT o_facts jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; i instruments; pr programs;
  v_id uuid := gen_random_uuid();
  v_payable uuid; v_next uuid; v_hops integer := 0; v_entry uuid;
  v_cause text; v_baja_cause text; v_reintegro uuid; v_reintegro_entry uuid;
BEGIN
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    o_outcome := 'not_found';
  ELSIF r.merchant_id <> p_merchant THEN
    o_outcome := 'forbidden';
  ELSIF r.status <> 'captured' THEN
    o_outcome := 'redemption_not_refundable'; o_facts := jsonb_build_object('redemptionStatus', r.status);
  ELSIF r.refunded_amount + p_amount > r.captured_amount THEN
    o_outcome := 'refund_exceeds_captured';
    o_facts := jsonb_build_object('refundable', (r.captured_amount - r.refunded_amount)::numeric(18,2)::text);
  ELSE
    SELECT payable_account_id INTO v_payable FROM merchants WHERE id = p_merchant;
    SELECT * INTO i FROM instruments WHERE id = r.instrument_id;
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

  IF o_outcome IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, 'refund', CASE WHEN o_outcome NOT IN ('not_found', 'forbidden') THEN r.instrument_id END,
            p_redemption, p_amount, o_outcome, o_facts::text, p_now);
    RETURN;
  END IF;
  o_outcome := 'refunded';
  o_facts := jsonb_build_object('id', v_id, 'redemptionId', r.id, 'amount', p_amount::numeric(18,2)::text,
                                'refundedTotal', r.refunded_amount::text, 'refundable', (r.captured_amount - r.refunded_amount)::text,
                                'reference', p_reference, 'createdAt', p_now);
END $$;`,
  // src/treasury/sql/treasury_sweep_vouchers.sql
  String.raw`-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
-- after p_after and up to p_until) not swept yet. Every voucher's account is locked in id order
-- and its balance read under the lock; every remaining balance moves to program:<id>:reintegro in
-- ONE journal entry (one debit per voucher, one credit), and their authorized holds are released
-- as expired (a hold never outlives its voucher), both through the ledger's primitive
-- (ledger_post_set); the chunk is recorded as one reintegro. The treasury_voucher_sweeps rows are
-- inserted in the same transaction, so a re-run (or a second worker after a crash) finds nothing
-- left and posts nothing; chunks of disjoint id ranges run in parallel (SweepsService), and a
-- chunk that overlaps one in progress waits for its rows and then fails on the swept rows' key,
-- to be run again. A late refund locks its voucher's account too (merchant_refund), so it lands
-- either before the chunk reads that balance, or after, forwarded to the reintegro.
CREATE OR REPLACE FUNCTION treasury_sweep_vouchers(p_program uuid, p_now timestamptz, p_after uuid, p_limit integer, p_until uuid DEFAULT NULL,
  OUT r_scanned integer, OUT r_swept integer, OUT r_total numeric, OUT r_entry uuid, OUT r_reintegro uuid, OUT r_last uuid)
LANGUAGE plpgsql AS $$
DECLARE
  pr programs;
  v_cutoff timestamptz;
  v_first uuid;
BEGIN
  r_scanned := 0; r_swept := 0; r_total := 0;
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
   WHERE i.program_id = p_program AND i.kind = 'voucher' AND (p_after IS NULL OR i.id > p_after) AND (p_until IS NULL OR i.id <= p_until)
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
  -- have expired with their voucher), in one posting. The swept-voucher filter leaves nothing
  -- posted before (an overlapping chunk finds the balances it waited for at zero): a replay is a bug.
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
