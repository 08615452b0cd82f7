-- Statement-level guard on every monthly partition of postings (schema ledger_months). Inserts
-- routed through the postings table fire only postings' own statement triggers (the balanced-entry
-- check), never a partition's; so a statement aimed at a partition itself is refused: an INSERT
-- that would skip the balanced-entry check, and UPDATE, DELETE and TRUNCATE like on postings.
-- (Row-level UPDATE/DELETE refusal is inherited from postings by every partition.)
CREATE OR REPLACE FUNCTION ledger_postings_partition_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003',
    MESSAGE = format('%s is a partition of postings: %s through postings only, and posted rows are immutable', TG_TABLE_NAME, lower(TG_OP));
END $$;
