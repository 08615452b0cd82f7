-- Refunds part of a captured redemption back to its instrument; total refunds never exceed the
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
END $$;
