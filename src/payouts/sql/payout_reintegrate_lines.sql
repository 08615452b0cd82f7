-- Rejected payout lines whose money goes back to the Tesorería (API.md: after
-- rules.payout.maxAttempts rejected attempts, or at the fiscal-year close): for each line still
-- open (rejected, not sent again, not reintegrated), the money it returned to its source payable
-- moves on to the program's reintegro payable, one entry per line (kind 'payout_rejected', key
-- payout:<batchId>:line:<lineId>:reintegro), recorded in the same transaction as a pending
-- reintegro with cause payout_rejected (source 'payable'). A line takes at most what its payable
-- still holds (a baja may have emptied it first); a line left with nothing is closed as
-- 'withdrawn'. p_trigger ('max_attempts' | 'fiscal_close') is kept in the reintegro's details.
-- Locks: the lines, then the payables and reintegro accounts in id order.
CREATE OR REPLACE FUNCTION payout_reintegrate_lines(p_line_ids uuid[], p_now timestamptz, p_actor text, p_trigger text)
RETURNS TABLE (line_id uuid, amount numeric, reintegro_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF coalesce(cardinality(p_line_ids), 0) = 0 THEN
    RETURN;
  END IF;
  PERFORM 1 FROM payout_lines l WHERE l.id = ANY (p_line_ids) ORDER BY l.id FOR UPDATE;

  DROP TABLE IF EXISTS payout_reintegro_work;
  CREATE TEMP TABLE payout_reintegro_work ON COMMIT DROP AS
  SELECT l.id, l.batch_id, l.line_no, l.source_account_id, l.payee_kind, l.payee_id, l.grant_id, l.amount AS line_amount, l.attempt,
         l.result_reason, b.number AS batch_number, b.created_at AS batch_created_at, b.program_id, p.reintegro_account_id,
         ledger_uuid_v7(l.line_no, p_now) AS entry_id, gen_random_uuid() AS reintegro_id, 0::numeric AS amount
    FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id JOIN programs p ON p.id = b.program_id
   WHERE l.id = ANY (p_line_ids) AND l.status = 'rejected' AND l.followup IS NULL;

  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT w.source_account_id FROM payout_reintegro_work w UNION SELECT w.reintegro_account_id FROM payout_reintegro_work w)
    ORDER BY a.id FOR UPDATE;
  -- Oldest line first, each takes what its payable still holds after the lines before it.
  UPDATE payout_reintegro_work w SET amount = x.amount
    FROM (SELECT w2.id, greatest(0, least(w2.line_amount,
                   bal.posted - bal.pending - (sum(w2.line_amount) OVER (PARTITION BY w2.source_account_id ORDER BY w2.batch_created_at, w2.batch_id, w2.line_no) - w2.line_amount))) AS amount
            FROM payout_reintegro_work w2 JOIN ledger_balances bal ON bal.account_id = w2.source_account_id) x
   WHERE x.id = w.id;

  IF EXISTS (SELECT 1 FROM payout_reintegro_work w WHERE w.amount > 0) THEN
    PERFORM ledger_stage();
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    SELECT w.entry_id, 'payout_rejected', 'payout:' || w.batch_id::text || ':line:' || w.id::text || ':reintegro', p_now,
           format('payout line %s rejected %s time(s): back to the Tesorería (%s)', w.id, w.attempt, p_trigger),
           jsonb_build_object('payoutBatchId', w.batch_id, 'payoutLineId', w.id, 'programId', w.program_id, 'cause', 'payout_rejected',
                              'payeeKind', w.payee_kind, 'payeeId', w.payee_id, 'trigger', p_trigger),
           p_actor
      FROM payout_reintegro_work w WHERE w.amount > 0;
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT w.entry_id, w.source_account_id, 'debit', w.amount FROM payout_reintegro_work w WHERE w.amount > 0
    UNION ALL
    SELECT w.entry_id, w.reintegro_account_id, 'credit', w.amount FROM payout_reintegro_work w WHERE w.amount > 0;
    IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a payout line was reintegrated twice';
    END IF;

    INSERT INTO reintegros (id, program_id, cause, amount, source, source_account_ids, journal_entry_id, beneficiary_id, grant_id, details, created_at)
    SELECT w.reintegro_id, w.program_id, 'payout_rejected', w.amount, 'payable', ARRAY[w.source_account_id], w.entry_id,
           CASE WHEN w.payee_kind IN ('beneficiary', 'grantee', 'borrower') THEN w.payee_id END, w.grant_id,
           jsonb_strip_nulls(jsonb_build_object('payoutBatchId', w.batch_id, 'batchNumber', w.batch_number, 'payoutLineId', w.id,
             'payeeKind', w.payee_kind, 'payeeId', w.payee_id, 'attempts', w.attempt, 'lastRejection', w.result_reason, 'trigger', p_trigger)),
           p_now
      FROM payout_reintegro_work w WHERE w.amount > 0;
  END IF;

  UPDATE payout_lines l
     SET followup = CASE WHEN w.amount > 0 THEN 'reintegrated' ELSE 'withdrawn' END,
         reintegro_entry_id = CASE WHEN w.amount > 0 THEN w.entry_id END
    FROM payout_reintegro_work w WHERE l.id = w.id;
  UPDATE payout_batches x SET reintegrated_count = x.reintegrated_count + r.n, reintegrated_total = x.reintegrated_total + r.total
    FROM (SELECT w.batch_id, count(*) FILTER (WHERE w.amount > 0) AS n, sum(w.amount) AS total FROM payout_reintegro_work w GROUP BY w.batch_id) r
   WHERE x.id = r.batch_id;

  RETURN QUERY SELECT w.id, w.amount, CASE WHEN w.amount > 0 THEN w.reintegro_id END FROM payout_reintegro_work w ORDER BY w.batch_created_at, w.batch_id, w.line_no;
END $$;
