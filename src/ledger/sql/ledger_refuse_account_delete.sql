CREATE OR REPLACE FUNCTION ledger_refuse_account_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = 'ledger accounts are never deleted: postings and deltas refer to them';
END $$;
