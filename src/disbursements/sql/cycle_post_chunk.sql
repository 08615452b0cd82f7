-- Posts one chunk of a running cycle (lines p_from..p_to) with a handful of set-based statements,
-- through the ledger's primitive (ledger_post_set): one journal entry per line (commitment → the
-- line's account, plus the insurer payable for a split line), all posted at once.
-- A grant tranche line draws from its own source account (the grant's award reserve,
-- grant:<id>:award) instead of the commitment, and its entry carries the award's component
-- (metadata.component: its stage, for the execution reports). The chunk's grants are locked FOR
-- SHARE first (grants before ledger accounts, the order of every writer of grants), so a grant
-- rescinded or demanded meanwhile is seen as such and its line becomes an exception.
-- Why not ledger_post per line: one round trip per line is far too slow for a million cards.
-- Every line is idempotent on journal_entries.idempotency_key = cycle:<id>:line:<beneficiaryId>
-- (an arrears line, one per owed period: cycle:<id>:line:<beneficiaryId>:<period>) and a chunk runs under its advisory lock, so a chunk re-run after a crash posts nothing twice;
-- the commitment is debited once per chunk (its no-negative CHECK refuses drawing more than was
-- committed). Entry ids are time-ordered (ledger_uuid_v7 with the line number), so a chunk's
-- entries append to the right edge of their indexes. A line that cannot post (beneficiary
-- inactive, instrument blocked/replaced/expired since the draft) becomes an exception, not a failure.
-- Deposit and arrears lines first claim their period in paid_periods, whose unique key
-- (lineage, beneficiary, period, load) is what makes a second payment of one period impossible
-- across cycles, payment orders and program years, concurrent ones included: a line whose period is
-- already claimed (committed, or by a transaction that commits while this one waits on the key)
-- becomes the exception period_already_paid and its money goes back to the budget at finish.
CREATE OR REPLACE FUNCTION cycle_post_chunk(p_cycle uuid, p_from integer, p_to integer, p_now timestamptz,
  OUT posted integer, OUT posted_total numeric, OUT exceptions integer, OUT exceptions_total numeric)
LANGUAGE plpgsql AS $$
DECLARE
  c disbursement_cycles;
  v_prefix text := 'cycle:' || p_cycle::text || ':line:';
  v_at timestamptz := clock_timestamp();
  v_lineage text;
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

  SELECT p.lineage INTO v_lineage FROM programs p WHERE p.id = c.program_id;

  IF c.kind = 'tranche' THEN
    PERFORM 1 FROM grants g
     WHERE g.id IN (SELECT l.grant_id FROM cycle_lines l WHERE l.cycle_id = p_cycle AND l.line_no BETWEEN p_from AND p_to)
     ORDER BY g.id FOR SHARE;
  END IF;

  DROP TABLE IF EXISTS cycle_chunk_work;
  CREATE TEMP TABLE cycle_chunk_work ON COMMIT DROP AS
  SELECT l.line_no, l.beneficiary_id, l.account_id, l.amount, l.beneficiary_amount, l.insurer_amount,
         l.grant_id, l.tranche_no, l.proof_due_on, coalesce(l.source_account_id, c.commitment_account_id) AS source_account_id, g.component,
         v_prefix || l.beneficiary_id::text || coalesce(':' || l.owed_period, '') AS key,
         coalesce(b.curp, b.rfc, b.id::text) AS beneficiary_key,
         CASE WHEN c.kind = 'arrears' THEN l.owed_period WHEN c.kind = 'deposit' THEN c.period END AS claim_period,
         CASE WHEN c.kind = 'arrears' THEN l.owed_load ELSE coalesce(c.load_number, 0) END AS claim_load,
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
     AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = v_prefix || l.beneficiary_id::text || coalesce(':' || l.owed_period, ''))
     AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x WHERE x.cycle_id = p_cycle AND x.line_no = l.line_no);
  -- Real statistics for the statements below (a temp table has none).
  ANALYZE cycle_chunk_work;

  -- Claim every period this chunk pays; a period claimed already is not paid again.
  WITH claimed AS (
    INSERT INTO paid_periods (lineage, beneficiary_key, period, load_no, program_id, beneficiary_id, amount, cycle_id, line_no, journal_entry_id, paid_at)
    SELECT v_lineage, w.beneficiary_key, w.claim_period, w.claim_load, c.program_id, w.beneficiary_id, w.amount, p_cycle, w.line_no, w.entry_id, p_now
      FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.claim_period IS NOT NULL
    ON CONFLICT (lineage, beneficiary_key, period, load_no) DO NOTHING
    RETURNING line_no)
  UPDATE cycle_chunk_work w SET problem = 'period_already_paid'
   WHERE w.problem IS NULL AND w.claim_period IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claimed WHERE claimed.line_no = w.line_no);

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
                                  jsonb_build_object('cycleId', p_cycle, 'lineNo', w.line_no, 'beneficiaryId', w.beneficiary_id, 'period', coalesce(w.claim_period, c.period))
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
END $$;
