CREATE OR REPLACE FUNCTION ledger_check_delta_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid;
BEGIN
  SELECT d.account_id INTO bad FROM new_deltas d
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = d.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('delta of ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;
