-- Nets one merchant's unsettled captures and refunds before p_cutoff into a settlement and moves
-- the net from the merchant payable to the bank account. Idempotent per (merchant, business date).
-- A negative net (more refunds than captures) is carried over: nothing is settled that day.
CREATE OR REPLACE FUNCTION merchant_settle(p_merchant uuid, p_business_date date, p_cutoff timestamptz, p_now timestamptz, p_bank uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid; v_statement text; v_payable uuid; v_currency char(3);
  v_cap_n integer; v_cap numeric; v_ref_n integer; v_ref numeric; v_entry uuid;
BEGIN
  SELECT id INTO v_id FROM settlements WHERE merchant_id = p_merchant AND business_date = p_business_date;
  IF FOUND THEN RETURN v_id; END IF;
  SELECT m.payable_account_id, a.currency INTO v_payable, v_currency
    FROM merchants m JOIN ledger_accounts a ON a.id = m.payable_account_id WHERE m.id = p_merchant;
  v_statement := 'ST-' || to_char(p_business_date, 'YYYYMMDD') || '-' || lpad(nextval('settlement_statement_seq')::text, 6, '0');
  BEGIN
    INSERT INTO settlements (statement_id, merchant_id, business_date, cutoff_at, currency, created_at)
    VALUES (v_statement, p_merchant, p_business_date, p_cutoff, v_currency, p_now)
    RETURNING id INTO v_id;
    WITH u AS (
      UPDATE redemptions SET settlement_id = v_id
       WHERE merchant_id = p_merchant AND status = 'captured' AND settlement_id IS NULL AND captured_at < p_cutoff
      RETURNING captured_amount)
    SELECT count(*), coalesce(sum(captured_amount), 0) INTO v_cap_n, v_cap FROM u;
    WITH u AS (
      UPDATE redemption_refunds SET settlement_id = v_id
       WHERE merchant_id = p_merchant AND settlement_id IS NULL AND created_at < p_cutoff
      RETURNING amount)
    SELECT count(*), coalesce(sum(amount), 0) INTO v_ref_n, v_ref FROM u;
    IF v_cap_n + v_ref_n = 0 OR v_cap - v_ref < 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'MNS01', MESSAGE = 'nothing to settle';
    END IF;
    IF v_cap - v_ref > 0 THEN
      SELECT x.entry_id INTO v_entry FROM ledger_post(
        'settlement', 'settlement:' || v_statement, p_now, ARRAY[v_payable, p_bank], ARRAY['debit', 'credit'],
        ARRAY[v_cap - v_ref, v_cap - v_ref], 'Merchant settlement ' || v_statement,
        jsonb_build_object('settlementId', v_id, 'statementId', v_statement, 'merchantId', p_merchant), 'system:settlement') x;
    END IF;
    UPDATE settlements SET captures_count = v_cap_n, captures_total = v_cap, refunds_count = v_ref_n, refunds_total = v_ref,
                           net_amount = v_cap - v_ref, entry_id = v_entry
     WHERE id = v_id;
  EXCEPTION WHEN SQLSTATE 'MNS01' THEN
    RETURN NULL;
  END;
  RETURN v_id;
END $$;
