-- Bank details are only ever stored with a valid CLABE (SQLSTATE 23514, as a CHECK would).
CREATE OR REPLACE FUNCTION payout_bank_account_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT payout_clabe_valid(NEW.clabe) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = format('%s: not a valid CLABE (18 digits, check digit with weights 3, 7, 1)', TG_TABLE_NAME);
  END IF;
  RETURN NEW;
END $$;
