-- One request of a redemption batch while merchant_redeem_batch decides it (in memory only).
CREATE TYPE merchant_redeem_item AS (
  ord integer, op text, merchant uuid, terminal uuid, api_key uuid, amount numeric, reference text, at timestamptz,
  idem_scope text, idem_key text, idem_hash text,
  id uuid, entry_id uuid, payable uuid, payable_deferred boolean,
  instrument uuid, account uuid, program uuid, last4 text, hold_expires timestamptz,
  instrument_status text, category text, card_currency text,
  outcome text, facts jsonb, replayed boolean, write_idem boolean
);
