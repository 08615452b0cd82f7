-- Posted entries are facts: no UPDATE, DELETE or TRUNCATE. Mistakes are corrected by reversal.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = format('%s rows are immutable; post a reversing entry instead', TG_TABLE_NAME);
END $$;
