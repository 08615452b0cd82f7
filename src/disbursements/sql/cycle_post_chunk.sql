-- Posts one chunk of a running cycle (lines p_from..p_to) with a handful of set-based statements.
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
END $$;
