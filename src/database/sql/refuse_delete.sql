-- Rows of this table are never deleted (the padrón keeps its history: a baja is a status, a card
-- is cancelled, not removed), so tables that name them can check references once per statement
-- instead of by foreign keys (see cycle_lines_check_references).
CREATE OR REPLACE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = format('%s rows are never deleted', TG_TABLE_NAME);
END $$;
