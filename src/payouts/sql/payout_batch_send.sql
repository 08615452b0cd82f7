-- Approval of a payout batch (docs/payouts.md): with a handful of set-based statements, the
-- lines whose payee can still be paid as drafted move from their payables (source accounts) to
-- the program's bank-in-transit account in ONE journal entry 'payout_sent' (key
-- payout:<batchId>:sent; one debit per source, one credit to transit), through the ledger's
-- primitive. A line whose bank details changed since the draft (bank_account_changed) or whose
-- payable no longer holds its amount (payable_short: a baja emptied it) becomes an exception and
-- its money stays where it is. Earlier rejected lines of a source sent again are now 'retried'.
-- The caller holds the batch row (FOR UPDATE) and has checked its state and the approver; this
-- locks the earlier rejected lines of the sources, then the sources and the transit account in id
-- order (the ledger's order) before reading their balances, so nothing can move them until commit.
CREATE OR REPLACE FUNCTION payout_batch_send(p_batch uuid, p_now timestamptz, p_actor text, p_actor_user uuid,
  OUT sent_count integer, OUT sent_total numeric, OUT exception_count integer, OUT exception_total numeric, OUT entry_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  b payout_batches;
BEGIN
  SELECT * INTO b FROM payout_batches WHERE id = p_batch FOR UPDATE;
  IF NOT FOUND OR b.status <> 'draft' THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s is not a draft', p_batch);
  END IF;

  -- Business rows before accounts: the open rejected lines these sources send again (the
  -- fiscal-year close takes them in the same id order), then the accounts in id order.
  PERFORM 1 FROM payout_lines o
    WHERE o.source_account_id IN (SELECT l.source_account_id FROM payout_lines l WHERE l.batch_id = p_batch)
      AND o.status = 'rejected' AND o.followup IS NULL
    ORDER BY o.id FOR UPDATE;
  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT l.source_account_id FROM payout_lines l WHERE l.batch_id = p_batch UNION SELECT b.transit_account_id)
    ORDER BY a.id FOR UPDATE;

  DROP TABLE IF EXISTS payout_send_work;
  CREATE TEMP TABLE payout_send_work ON COMMIT DROP AS
  SELECT l.id, l.source_account_id, l.amount,
         CASE
           WHEN ba.owner_id IS NULL OR ba.version <> l.bank_version THEN 'bank_account_changed'
           WHEN bal.posted - bal.pending < l.amount THEN 'payable_short'
         END AS problem
    FROM payout_lines l
    JOIN ledger_balances bal ON bal.account_id = l.source_account_id
    LEFT JOIN payee_bank_accounts ba ON ba.owner_kind = l.bank_owner_kind AND ba.owner_id = l.bank_owner_id
   WHERE l.batch_id = p_batch AND l.status = 'draft';
  ANALYZE payout_send_work;

  SELECT count(*) FILTER (WHERE problem IS NULL), coalesce(sum(amount) FILTER (WHERE problem IS NULL), 0),
         count(*) FILTER (WHERE problem IS NOT NULL), coalesce(sum(amount) FILTER (WHERE problem IS NOT NULL), 0)
    INTO sent_count, sent_total, exception_count, exception_total
    FROM payout_send_work;

  IF sent_count > 0 THEN
    entry_id := ledger_uuid_v7(0, p_now);
    PERFORM ledger_stage();
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (entry_id, 'payout_sent', 'payout:' || p_batch::text || ':sent', p_now,
            format('payout batch %s (%s): %s transfers to the bank', b.number, b.kind, sent_count),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'batchKind', b.kind, 'lines', sent_count),
            p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT payout_batch_send.entry_id, w.source_account_id, 'debit', w.amount FROM payout_send_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT payout_batch_send.entry_id, b.transit_account_id, 'credit', sent_total;
    IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s was sent before', p_batch);
    END IF;
  END IF;

  UPDATE payout_lines l SET status = CASE WHEN w.problem IS NULL THEN 'sent' ELSE 'exception' END, exception_reason = w.problem
    FROM payout_send_work w WHERE l.id = w.id;
  UPDATE payout_lines o SET followup = 'retried', followup_line_id = w.id
    FROM payout_send_work w
   WHERE w.problem IS NULL AND o.source_account_id = w.source_account_id AND o.status = 'rejected' AND o.followup IS NULL;
  UPDATE payout_batches
     SET status = CASE WHEN payout_batch_send.sent_count = 0 THEN 'completed' ELSE 'sent' END,
         sent_count = payout_batch_send.sent_count, sent_total = payout_batch_send.sent_total,
         exception_count = payout_batch_send.exception_count, exception_total = payout_batch_send.exception_total,
         send_entry_id = payout_batch_send.entry_id, approved_by = p_actor, approved_by_user_id = p_actor_user, approved_at = p_now,
         completed_at = CASE WHEN payout_batch_send.sent_count = 0 THEN p_now END
   WHERE id = p_batch;
END $$;
