import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merchants (issue 5): affiliation, terminals, redemptions with holds and refunds, settlements,
 * and the SQL functions that make a redemption one PostgreSQL round trip.
 *
 * Design decisions written down here:
 * - A refusal never raises: the functions return a problem document (status + body) so that the
 *   audit record (redemption_attempts) and a wrong-PIN count persist in the same transaction
 *   while nothing is posted.
 * - redemptions.merchant_id has no foreign key on purpose: a FK check takes FOR KEY SHARE on the
 *   merchant row for every redemption, which makes a busy merchant's row a contention point. The
 *   functions below only insert a merchant id they have just read from merchants.
 * - The HTTP Idempotency-Key record of the two hot routes (POST /v1/redemptions and
 *   /v1/authorizations) is written by merchant_redeem itself, in the same transaction as the
 *   redemption: same table and contract as the @Idempotent() interceptor, one commit instead of
 *   three. "In flight" is a transaction-level advisory lock on the key.
 */
export class Merchants1763700300000 implements MigrationInterface {
  name = 'Merchants1763700300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE merchants (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL,
  category           text NOT NULL CHECK (category IN ('grocery', 'pharmacy', 'stationery', 'clothing', 'footwear', 'department_store', 'other')),
  address            jsonb NOT NULL DEFAULT '{}',
  -- Where the bank pays the settlements (CLABE); optional, printed in the payout file.
  bank_account       text,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  payable_account_id uuid NOT NULL UNIQUE REFERENCES ledger_accounts(id),
  created_by         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  status_changed_at  timestamptz
);

CREATE TABLE merchant_terminals (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id uuid NOT NULL REFERENCES merchants(id),
  label       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merchant_terminals_merchant ON merchant_terminals (merchant_id);

ALTER TABLE merchant_api_keys
  ADD CONSTRAINT merchant_api_keys_merchant_fk FOREIGN KEY (merchant_id) REFERENCES merchants(id),
  ADD CONSTRAINT merchant_api_keys_terminal_fk FOREIGN KEY (terminal_id) REFERENCES merchant_terminals(id);

CREATE SEQUENCE settlement_statement_seq;

CREATE TABLE settlements (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  statement_id   text NOT NULL UNIQUE,
  merchant_id    uuid NOT NULL REFERENCES merchants(id),
  business_date  date NOT NULL,
  cutoff_at      timestamptz NOT NULL,
  currency       char(3) NOT NULL DEFAULT 'MXN',
  captures_count integer NOT NULL DEFAULT 0,
  captures_total numeric(18,2) NOT NULL DEFAULT 0,
  refunds_count  integer NOT NULL DEFAULT 0,
  refunds_total  numeric(18,2) NOT NULL DEFAULT 0,
  net_amount     numeric(18,2) NOT NULL DEFAULT 0 CHECK (net_amount >= 0),
  entry_id       uuid REFERENCES journal_entries(id),
  created_at     timestamptz NOT NULL,
  UNIQUE (merchant_id, business_date)
);
CREATE INDEX settlements_date ON settlements (business_date);

-- One row per direct redemption or authorization (an authorization becomes a redemption when captured).
CREATE TABLE redemptions (
  id               uuid PRIMARY KEY,
  merchant_id      uuid NOT NULL,
  terminal_id      uuid,
  api_key_id       uuid,
  instrument_id    uuid NOT NULL REFERENCES instruments(id),
  program_id       uuid NOT NULL,
  instrument_last4 char(4) NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('direct', 'authorization')),
  status           text NOT NULL CHECK (status IN ('authorized', 'captured', 'voided', 'expired')),
  amount           numeric(18,2) NOT NULL CHECK (amount > 0),
  captured_amount  numeric(18,2) CHECK (captured_amount > 0 AND captured_amount <= amount),
  refunded_amount  numeric(18,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= coalesce(captured_amount, 0)),
  hold_id          uuid UNIQUE REFERENCES ledger_holds(id),
  entry_id         uuid REFERENCES journal_entries(id),
  reference        text,
  expires_at       timestamptz,
  created_at       timestamptz NOT NULL,
  captured_at      timestamptz,
  resolved_at      timestamptz,
  settlement_id    uuid REFERENCES settlements(id),
  CONSTRAINT redemptions_captured CHECK ((status = 'captured') = (captured_amount IS NOT NULL AND entry_id IS NOT NULL AND captured_at IS NOT NULL)),
  CONSTRAINT redemptions_hold CHECK ((kind = 'authorization') = (hold_id IS NOT NULL))
);
CREATE INDEX redemptions_merchant_created ON redemptions (merchant_id, created_at, id);
CREATE INDEX redemptions_unsettled ON redemptions (merchant_id, captured_at) WHERE status = 'captured' AND settlement_id IS NULL;
CREATE INDEX redemptions_instrument ON redemptions (instrument_id);

CREATE TABLE redemption_refunds (
  id            uuid PRIMARY KEY,
  redemption_id uuid NOT NULL REFERENCES redemptions(id),
  merchant_id   uuid NOT NULL,
  amount        numeric(18,2) NOT NULL CHECK (amount > 0),
  entry_id      uuid NOT NULL REFERENCES journal_entries(id),
  reference     text,
  created_at    timestamptz NOT NULL,
  settlement_id uuid REFERENCES settlements(id)
);
CREATE INDEX redemption_refunds_redemption ON redemption_refunds (redemption_id);
CREATE INDEX redemption_refunds_merchant_created ON redemption_refunds (merchant_id, created_at, id);
CREATE INDEX redemption_refunds_unsettled ON redemption_refunds (merchant_id, created_at) WHERE settlement_id IS NULL;

-- Audit record of every refused merchant request (the only thing a refusal writes).
CREATE TABLE redemption_attempts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id   uuid NOT NULL,
  terminal_id   uuid,
  operation     text NOT NULL,
  instrument_id uuid,
  redemption_id uuid,
  amount        numeric(18,2),
  code          text NOT NULL,
  detail        text,
  at            timestamptz NOT NULL
);
CREATE INDEX redemption_attempts_merchant ON redemption_attempts (merchant_id, at);
CREATE INDEX redemption_attempts_instrument ON redemption_attempts (instrument_id, at);

-- An RFC 9457 problem document, as src/common/problem.ts renders it.
CREATE FUNCTION merchant_problem(p_status integer, p_code text, p_detail text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'type', 'https://monedero.example/problems/' || replace(p_code, '_', '-'),
    'title', CASE p_status WHEN 403 THEN 'Forbidden' WHEN 404 THEN 'Not Found' WHEN 409 THEN 'Conflict'
                           WHEN 422 THEN 'Unprocessable Content' ELSE 'Error' END,
    'status', p_status, 'detail', p_detail, 'code', p_code)
$$;

CREATE FUNCTION merchant_iso(p_at timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Redemption (p_op 'redeem') or authorization (p_op 'authorize') in one call: checks, posting or
-- hold, the redemption row, the audit record of a refusal and the Idempotency-Key record.
-- Returns the HTTP status and body; o_replayed when the body is a remembered one.
CREATE FUNCTION merchant_redeem(
  p_op text, p_merchant uuid, p_terminal uuid, p_api_key uuid,
  p_number_hash text, p_pin_hash text, p_amount numeric, p_reference text,
  p_now timestamptz, p_hold_ttl interval,
  p_idem_scope text, p_idem_key text, p_idem_hash text,
  OUT o_status integer, OUT o_body jsonb, OUT o_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  k record; m record; i record;
  v_id uuid := gen_random_uuid();
  v_code text; v_detail text; v_http integer := 422;
  v_instrument uuid; v_locked boolean; v_available numeric; v_expires timestamptz; v_entry uuid; v_hold uuid;
BEGIN
  o_replayed := false;
  IF p_op NOT IN ('redeem', 'authorize') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown merchant operation';
  END IF;
  IF p_idem_key IS NOT NULL THEN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_idem_scope || ':' || p_idem_key, 0)) THEN
      o_status := 409; o_body := merchant_problem(409, 'request_in_progress', 'A request with this Idempotency-Key is still being processed');
      RETURN;
    END IF;
    SELECT x.request_hash, x.status, x.response_status, x.response_body, x.locked_until INTO k
      FROM idempotency_keys x WHERE x.scope = p_idem_scope AND x.key = p_idem_key;
    IF FOUND THEN
      IF k.request_hash <> p_idem_hash THEN
        o_status := 422; o_body := merchant_problem(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
        RETURN;
      END IF;
      IF k.status = 'completed' THEN
        o_status := k.response_status; o_body := k.response_body; o_replayed := true;
        RETURN;
      END IF;
      IF k.locked_until >= p_now THEN
        o_status := 409; o_body := merchant_problem(409, 'request_in_progress', 'A request with this Idempotency-Key is still being processed');
        RETURN;
      END IF;
      -- else: an abandoned in-flight record of this same request; it is taken over below.
    END IF;
  END IF;

  SELECT x.status, x.category, x.payable_account_id INTO m FROM merchants x WHERE x.id = p_merchant;
  IF NOT FOUND OR m.status <> 'active' THEN
    v_code := 'merchant_not_allowed'; v_detail := 'The merchant is suspended';
  ELSE
    SELECT x.id, x.status, x.kind, x.pin_hash, x.pin_locked, x.failed_pin_attempts, x.expires_at, x.account_id,
           x.last4, x.program_id, p.rules, p.time_zone
      INTO i
      FROM instruments x JOIN programs p ON p.id = x.program_id
     WHERE x.number_hash = p_number_hash;
    IF FOUND THEN v_instrument := i.id; END IF;
    IF NOT FOUND THEN
      v_code := 'unknown_instrument'; v_http := 404; v_detail := 'No instrument has this number';
    ELSIF i.pin_locked THEN
      v_code := 'pin_locked'; v_detail := 'The PIN is locked after three wrong attempts';
    ELSIF i.pin_hash IS NULL OR i.pin_hash <> p_pin_hash THEN
      UPDATE instruments SET failed_pin_attempts = failed_pin_attempts + 1, pin_locked = failed_pin_attempts + 1 >= 3
       WHERE id = i.id RETURNING pin_locked INTO v_locked;
      v_code := 'invalid_pin';
      v_detail := CASE WHEN v_locked THEN 'Wrong PIN; the PIN is now locked' ELSE 'Wrong PIN' END;
    ELSIF i.status <> 'active' THEN
      v_code := 'instrument_not_active'; v_detail := format('The instrument is %s', i.status);
    ELSIF (i.expires_at IS NOT NULL AND p_now >= i.expires_at)
       OR (i.kind = 'voucher' AND i.rules ? 'voucherExpiresOn'
           AND (p_now AT TIME ZONE i.time_zone)::date > (i.rules ->> 'voucherExpiresOn')::date) THEN
      v_code := 'instrument_expired'; v_detail := 'The instrument has expired';
    ELSIF i.rules ? 'allowedMerchantCategories' AND NOT (i.rules -> 'allowedMerchantCategories') ? m.category THEN
      v_code := 'merchant_not_allowed'; v_detail := format('The program does not allow the %s category', m.category);
    ELSE
      IF i.failed_pin_attempts > 0 THEN
        UPDATE instruments SET failed_pin_attempts = 0 WHERE id = i.id;
      END IF;
      -- The instrument's account row is locked here (ledger_post would lock it anyway), so
      -- the check and the posting see the same balance; the CHECK constraint still guards it.
      SELECT a.posted_credits - a.posted_debits - a.pending_debits INTO v_available
        FROM ledger_accounts a WHERE a.id = i.account_id FOR UPDATE;
      IF v_available < p_amount THEN
        v_code := 'insufficient_funds'; v_detail := 'The balance does not cover this amount';
      ELSIF p_op = 'redeem' THEN
        SELECT r.entry_id INTO v_entry FROM ledger_post(
          'redemption', 'redemption:' || v_id, p_now,
          ARRAY[i.account_id, m.payable_account_id], ARRAY['debit', 'credit'], ARRAY[p_amount, p_amount],
          NULL, jsonb_build_object('redemptionId', v_id, 'merchantId', p_merchant), 'merchant:' || p_merchant) r;
        INSERT INTO redemptions (id, merchant_id, terminal_id, api_key_id, instrument_id, program_id, instrument_last4,
                                 kind, status, amount, captured_amount, entry_id, reference, created_at, captured_at, resolved_at)
        VALUES (v_id, p_merchant, p_terminal, p_api_key, i.id, i.program_id, i.last4,
                'direct', 'captured', p_amount, p_amount, v_entry, p_reference, p_now, p_now, p_now);
        o_status := 201;
        o_body := jsonb_build_object('id', v_id, 'status', 'captured', 'amount', p_amount::numeric(18,2)::text,
                                     'instrumentNumber', repeat('*', 12) || i.last4, 'reference', p_reference,
                                     'createdAt', merchant_iso(p_now));
      ELSE
        -- A hold never outlives the instrument: it expires with it at the latest.
        v_expires := p_now + p_hold_ttl;
        IF i.expires_at IS NOT NULL AND i.expires_at < v_expires THEN v_expires := i.expires_at; END IF;
        SELECT h.hold_id INTO v_hold FROM ledger_hold_authorize(
          i.account_id, p_amount, v_expires, p_now, 'authorization:' || v_id,
          jsonb_build_object('redemptionId', v_id, 'merchantId', p_merchant)) h;
        INSERT INTO redemptions (id, merchant_id, terminal_id, api_key_id, instrument_id, program_id, instrument_last4,
                                 kind, status, amount, hold_id, reference, expires_at, created_at)
        VALUES (v_id, p_merchant, p_terminal, p_api_key, i.id, i.program_id, i.last4,
                'authorization', 'authorized', p_amount, v_hold, p_reference, v_expires, p_now);
        o_status := 201;
        o_body := jsonb_build_object('id', v_id, 'status', 'authorized', 'amount', p_amount::numeric(18,2)::text,
                                     'instrumentNumber', repeat('*', 12) || i.last4, 'reference', p_reference,
                                     'expiresAt', merchant_iso(v_expires), 'createdAt', merchant_iso(p_now));
      END IF;
    END IF;
  END IF;

  IF v_code IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, p_op, v_instrument, p_amount, v_code, v_detail, p_now);
    o_status := v_http;
    o_body := merchant_problem(v_http, v_code, v_detail);
  END IF;

  IF p_idem_key IS NOT NULL THEN
    INSERT INTO idempotency_keys AS x (scope, key, request_hash, status, response_status, response_body, locked_until, completed_at)
    VALUES (p_idem_scope, p_idem_key, p_idem_hash, 'completed', o_status, o_body, p_now, now())
    ON CONFLICT (scope, key) DO UPDATE
      SET status = 'completed', response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
          completed_at = EXCLUDED.completed_at
      WHERE x.status = 'in_flight' AND x.request_hash = EXCLUDED.request_hash;
  END IF;
END $$;

-- Capture (part or all) or void an authorization of this merchant. The hold row is locked and
-- checked here so that a refusal is returned, not raised; ledger_hold_capture checks again.
CREATE FUNCTION merchant_resolve_authorization(
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

-- Refund part of a captured redemption back to its instrument; total refunds never exceed the
-- captured amount (checked under the redemption's row lock, and by a CHECK constraint).
CREATE FUNCTION merchant_refund(
  p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_reference text, p_now timestamptz,
  OUT o_status integer, OUT o_body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; v_payable uuid; v_instrument_account uuid;
  v_id uuid := gen_random_uuid(); v_code text; v_detail text; v_http integer := 422; v_entry uuid;
BEGIN
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    v_http := 404; v_code := 'not_found'; v_detail := 'redemption not found';
  ELSIF r.merchant_id <> p_merchant THEN
    v_http := 403; v_code := 'forbidden'; v_detail := 'This redemption belongs to another merchant';
  ELSIF r.status <> 'captured' THEN
    v_code := 'redemption_not_refundable'; v_detail := format('The redemption is %s, not captured', r.status);
  ELSIF r.refunded_amount + p_amount > r.captured_amount THEN
    v_code := 'refund_exceeds_captured';
    v_detail := format('At most %s can still be refunded', (r.captured_amount - r.refunded_amount)::numeric(18,2));
  ELSE
    SELECT payable_account_id INTO v_payable FROM merchants WHERE id = p_merchant;
    SELECT account_id INTO v_instrument_account FROM instruments WHERE id = r.instrument_id;
    SELECT x.entry_id INTO v_entry FROM ledger_post(
      'refund', 'refund:' || v_id, p_now, ARRAY[v_payable, v_instrument_account], ARRAY['debit', 'credit'], ARRAY[p_amount, p_amount],
      NULL, jsonb_build_object('refundId', v_id, 'redemptionId', r.id, 'merchantId', p_merchant), 'merchant:' || p_merchant) x;
    INSERT INTO redemption_refunds (id, redemption_id, merchant_id, amount, entry_id, reference, created_at)
    VALUES (v_id, r.id, p_merchant, p_amount, v_entry, p_reference, p_now);
    UPDATE redemptions SET refunded_amount = refunded_amount + p_amount WHERE id = r.id RETURNING * INTO r;
  END IF;

  IF v_code IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, 'refund', CASE WHEN v_http = 422 THEN r.instrument_id END, p_redemption, p_amount, v_code, v_detail, p_now);
    o_status := v_http; o_body := merchant_problem(v_http, v_code, v_detail);
    RETURN;
  END IF;
  o_status := 201;
  o_body := jsonb_build_object('id', v_id, 'redemptionId', r.id, 'status', 'refunded', 'amount', p_amount::numeric(18,2)::text,
                               'refundedTotal', r.refunded_amount::text, 'refundable', (r.captured_amount - r.refunded_amount)::text,
                               'reference', p_reference, 'createdAt', merchant_iso(p_now));
END $$;

-- Nets one merchant's unsettled captures and refunds before p_cutoff into a settlement and moves
-- the net from the merchant payable to the bank account. Idempotent per (merchant, business date).
-- A negative net (more refunds than captures) is carried over: nothing is settled that day.
CREATE FUNCTION merchant_settle(p_merchant uuid, p_business_date date, p_cutoff timestamptz, p_now timestamptz, p_bank uuid)
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
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP FUNCTION IF EXISTS merchant_settle, merchant_refund, merchant_resolve_authorization, merchant_redeem, merchant_iso, merchant_problem;
DROP TABLE IF EXISTS redemption_attempts, redemption_refunds, redemptions, settlements;
DROP SEQUENCE IF EXISTS settlement_statement_seq;
ALTER TABLE merchant_api_keys DROP CONSTRAINT IF EXISTS merchant_api_keys_terminal_fk, DROP CONSTRAINT IF EXISTS merchant_api_keys_merchant_fk;
DROP TABLE IF EXISTS merchant_terminals, merchants;
`);
  }
}
