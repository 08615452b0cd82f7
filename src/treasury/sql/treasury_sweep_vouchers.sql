-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
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
END $$;
