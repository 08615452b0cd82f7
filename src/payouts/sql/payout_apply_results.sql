-- Applies the bank's answer to a sent payout batch (docs/payouts.md "Results"). First every
-- result is checked, nothing written: each line must be a line of this batch (else
-- 'line_not_in_batch'), one that was sent ('line_not_sent'), with the amount the bank reports
-- equal to the line's ('amount_mismatch'), and not already answered otherwise ('result_conflict');
-- the first failing check is returned with the offending line ids and nothing is applied. Then,
-- for lines still in transit, through the ledger's primitive in one call:
--   paid      bank-in-transit → the paying bank, one entry (payout:<batch>:results:<n>:paid);
--   rejected  bank-in-transit → back to each line's source payable, one entry (…:returned);
--   a rejected line at its p_max_attempts-th attempt → its payable → the program's reintegro
--             payable, one entry per line (payout:<batch>:line:<lineId>:reintegro), recorded as a
--             pending reintegro with cause payout_rejected (payout_reintegrate_lines).
-- Lines already answered the same way are left alone, so importing the same results twice
-- changes nothing. The caller holds the batch row (FOR UPDATE).
CREATE OR REPLACE FUNCTION payout_apply_results(p_batch uuid, p_import uuid, p_line_ids uuid[], p_statuses text[], p_reasons text[],
  p_amounts numeric[], p_now timestamptz, p_actor text, p_max_attempts integer,
  OUT outcome text, OUT line_ids uuid[], OUT paid integer, OUT paid_total numeric, OUT rejected integer, OUT rejected_total numeric,
  OUT reintegrated integer, OUT reintegrated_total numeric, OUT unchanged integer, OUT seq integer)
LANGUAGE plpgsql AS $$
DECLARE
  b payout_batches;
  v_paid_entry uuid;
  v_returned_entry uuid;
BEGIN
  paid := 0; paid_total := 0; rejected := 0; rejected_total := 0; reintegrated := 0; reintegrated_total := 0; unchanged := 0; seq := NULL;
  SELECT * INTO b FROM payout_batches WHERE id = p_batch FOR UPDATE;
  IF NOT FOUND OR b.status NOT IN ('sent', 'completed') THEN
    outcome := 'batch_not_sent';
    RETURN;
  END IF;

  DROP TABLE IF EXISTS payout_results_work;
  CREATE TEMP TABLE payout_results_work ON COMMIT DROP AS
  SELECT i.line_id, i.status, i.reason, i.amount AS reported, l.batch_id, l.status AS line_status, l.amount, l.source_account_id, l.attempt
    FROM unnest(p_line_ids, p_statuses, p_reasons, p_amounts) AS i(line_id, status, reason, amount)
    LEFT JOIN payout_lines l ON l.id = i.line_id;
  ANALYZE payout_results_work;

  SELECT 'line_not_in_batch', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
    FROM (SELECT line_id FROM payout_results_work WHERE batch_id IS DISTINCT FROM p_batch ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  IF outcome IS NULL THEN
    SELECT 'line_not_sent', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE line_status NOT IN ('sent', 'paid', 'rejected') ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NULL THEN
    SELECT 'amount_mismatch', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE reported IS NOT NULL AND reported <> amount ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NULL THEN
    SELECT 'result_conflict', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE line_status <> 'sent' AND line_status <> status ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NOT NULL THEN
    RETURN;
  END IF;

  outcome := 'applied';
  SELECT count(*) FILTER (WHERE line_status <> 'sent'),
         count(*) FILTER (WHERE line_status = 'sent' AND status = 'paid'), coalesce(sum(amount) FILTER (WHERE line_status = 'sent' AND status = 'paid'), 0),
         count(*) FILTER (WHERE line_status = 'sent' AND status = 'rejected'), coalesce(sum(amount) FILTER (WHERE line_status = 'sent' AND status = 'rejected'), 0)
    INTO unchanged, paid, paid_total, rejected, rejected_total
    FROM payout_results_work;
  IF paid + rejected = 0 THEN
    RETURN;
  END IF;
  seq := b.results_applied + 1;

  PERFORM ledger_stage();
  IF paid > 0 THEN
    v_paid_entry := ledger_uuid_v7(1, p_now);
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (v_paid_entry, 'payout_paid', format('payout:%s:results:%s:paid', p_batch, seq), p_now,
            format('payout batch %s: %s transfers paid by the bank', b.number, paid),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'importId', p_import, 'lines', paid), p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    VALUES (v_paid_entry, b.transit_account_id, 'debit', paid_total), (v_paid_entry, b.bank_account_id, 'credit', paid_total);
  END IF;
  IF rejected > 0 THEN
    v_returned_entry := ledger_uuid_v7(2, p_now);
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (v_returned_entry, 'payout_returned', format('payout:%s:results:%s:returned', p_batch, seq), p_now,
            format('payout batch %s: %s transfers rejected by the bank, back on the payables', b.number, rejected),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'importId', p_import, 'lines', rejected), p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT v_returned_entry, b.transit_account_id, 'debit', rejected_total
    UNION ALL
    SELECT v_returned_entry, w.source_account_id, 'credit', sum(w.amount) FROM payout_results_work w
     WHERE w.line_status = 'sent' AND w.status = 'rejected' GROUP BY w.source_account_id;
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s: results %s were applied before', p_batch, seq);
  END IF;

  UPDATE payout_lines l
     SET status = w.status, result_reason = w.reason, result_at = p_now, result_import_id = p_import,
         result_entry_id = CASE w.status WHEN 'paid' THEN v_paid_entry ELSE v_returned_entry END
    FROM payout_results_work w
   WHERE l.id = w.line_id AND w.line_status = 'sent';

  SELECT count(*) FILTER (WHERE r.amount > 0), coalesce(sum(r.amount), 0) INTO reintegrated, reintegrated_total
    FROM payout_reintegrate_lines(
           ARRAY(SELECT w.line_id FROM payout_results_work w
                  WHERE w.line_status = 'sent' AND w.status = 'rejected' AND w.attempt >= p_max_attempts),
           p_now, p_actor, 'max_attempts') r;

  UPDATE payout_batches x
     SET paid_count = x.paid_count + paid, paid_total = x.paid_total + payout_apply_results.paid_total,
         rejected_count = x.rejected_count + rejected, rejected_total = x.rejected_total + payout_apply_results.rejected_total,
         results_applied = seq,
         status = CASE WHEN x.paid_count + paid + x.rejected_count + rejected = x.sent_count THEN 'completed' ELSE x.status END,
         completed_at = CASE WHEN x.paid_count + paid + x.rejected_count + rejected = x.sent_count THEN p_now ELSE x.completed_at END
   WHERE x.id = p_batch;
END $$;
