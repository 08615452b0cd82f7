-- Capture (part or all) or void an authorization of this merchant. The hold row is locked and
-- checked here so that a refusal is returned, not raised; ledger_hold_capture checks again.
CREATE OR REPLACE FUNCTION merchant_resolve_authorization(
  p_op text, p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_now timestamptz,
  OUT o_status integer, OUT o_body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; h ledger_holds; m record;
  v_code text; v_detail text; v_http integer := 422; v_amount numeric; v_entry uuid;
BEGIN
  IF p_op NOT IN ('capture', 'void') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown authorization operation';
  END IF;
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    v_http := 404; v_code := 'not_found'; v_detail := 'authorization not found';
  ELSIF r.merchant_id <> p_merchant THEN
    v_http := 403; v_code := 'forbidden'; v_detail := 'This authorization belongs to another merchant';
  ELSIF r.kind <> 'authorization' THEN
    v_code := 'hold_not_capturable'; v_detail := 'This is a direct redemption, not an authorization';
  ELSE
    SELECT * INTO h FROM ledger_holds WHERE id = r.hold_id FOR UPDATE;
    SELECT x.status, x.payable_account_id INTO m FROM merchants x WHERE x.id = p_merchant;
    IF h.status <> 'authorized' THEN
      v_code := CASE p_op WHEN 'capture' THEN 'hold_not_capturable' ELSE 'hold_not_voidable' END;
      v_detail := format('The authorization is %s', h.status);
    ELSIF p_op = 'capture' AND h.expires_at <= p_now THEN
      v_code := 'hold_not_capturable'; v_detail := 'The authorization has expired';
    ELSIF p_op = 'capture' AND m.status <> 'active' THEN
      v_code := 'merchant_not_allowed'; v_detail := 'The merchant is suspended';
    ELSIF p_op = 'capture' AND coalesce(p_amount, h.amount) > h.amount THEN
      v_code := 'amount_exceeds_hold'; v_detail := 'The amount exceeds the authorized amount';
    ELSIF p_op = 'capture' THEN
      v_amount := coalesce(p_amount, h.amount);
      v_entry := ledger_hold_capture(h.id, v_amount, m.payable_account_id, p_now, 'redemption', 'redemption:' || r.id,
                                     jsonb_build_object('redemptionId', r.id, 'merchantId', p_merchant), 'merchant:' || p_merchant);
      UPDATE redemptions SET status = 'captured', captured_amount = v_amount, entry_id = v_entry, captured_at = p_now, resolved_at = p_now
       WHERE id = r.id RETURNING * INTO r;
    ELSE
      PERFORM ledger_hold_release(h.id, 'voided', p_now);
      UPDATE redemptions SET status = 'voided', resolved_at = p_now WHERE id = r.id RETURNING * INTO r;
    END IF;
  END IF;

  IF v_code IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, p_op, CASE WHEN v_http = 422 THEN r.instrument_id END, p_redemption, p_amount, v_code, v_detail, p_now);
    o_status := v_http; o_body := merchant_problem(v_http, v_code, v_detail);
    RETURN;
  END IF;
  o_status := 200;
  o_body := jsonb_build_object('id', r.id, 'status', r.status, 'amount', coalesce(r.captured_amount, r.amount)::text,
                               'authorizedAmount', r.amount::text, 'instrumentNumber', repeat('*', 12) || r.instrument_last4,
                               'reference', r.reference, 'createdAt', merchant_iso(r.created_at),
                               'capturedAt', CASE WHEN r.captured_at IS NOT NULL THEN merchant_iso(r.captured_at) END);
END $$;
