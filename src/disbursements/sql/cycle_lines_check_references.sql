-- The references of cycle lines (beneficiary, instrument, grant, credited and source accounts) are checked
-- once per INSERT statement instead of by foreign keys: a foreign key checks every line on its
-- own and KEY SHARE-locks the referenced row, which for a million-line draft writes a lock into a
-- million ledger account rows (and their WAL) and made up most of the draft's time. The guarantee
-- stays: a line can only name rows that exist (SQLSTATE 23503, as a foreign key would say), and
-- none of them can disappear afterwards (ledger accounts, beneficiaries and instruments refuse
-- DELETE; grants are never deleted). Lines are immutable, so inserts are all there is to check.
CREATE OR REPLACE FUNCTION cycle_lines_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad text;
BEGIN
  SELECT format('cycle line %s: beneficiary %s does not exist', n.line_no, n.beneficiary_id) INTO bad
    FROM new_lines n WHERE NOT EXISTS (SELECT 1 FROM beneficiaries b WHERE b.id = n.beneficiary_id) LIMIT 1;
  IF bad IS NULL THEN
    SELECT format('cycle line %s: instrument %s does not exist', n.line_no, n.instrument_id) INTO bad
      FROM new_lines n WHERE n.instrument_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM instruments i WHERE i.id = n.instrument_id) LIMIT 1;
  END IF;
  IF bad IS NULL THEN
    SELECT format('cycle line %s: grant %s does not exist', n.line_no, n.grant_id) INTO bad
      FROM new_lines n WHERE n.grant_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = n.grant_id) LIMIT 1;
  END IF;
  IF bad IS NULL THEN
    SELECT format('cycle line %s: ledger account %s does not exist', n.line_no, n.account_id) INTO bad
      FROM new_lines n WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id) LIMIT 1;
  END IF;
  IF bad IS NULL THEN
    SELECT format('cycle line %s: ledger account %s does not exist', n.line_no, n.source_account_id) INTO bad
      FROM new_lines n WHERE n.source_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.source_account_id) LIMIT 1;
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = bad;
  END IF;
  RETURN NULL;
END $$;
