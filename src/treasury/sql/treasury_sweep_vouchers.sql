-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
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
END $$;
