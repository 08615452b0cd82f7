import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 *
 * Cycle lines check their beneficiary, instrument, grant and account once per INSERT statement
 * (cycle_lines_check_references) instead of by foreign keys, which checked and KEY SHARE-locked
 * one referenced row per line: for a million-line draft, a lock written into a million ledger
 * account rows. Measured on a 200,000-line draft: ~70 % of its PostgreSQL CPU. Beneficiaries,
 * instruments and grants now refuse DELETE (they never were deleted), so a reference can never
 * dangle. The cycle_id key stays (deferred: the cycle row is inserted after its lines).
 */
export class CycleLinesReferenceChecks1764606100000 implements MigrationInterface {
  name = 'CycleLinesReferenceChecks1764606100000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('CycleLinesReferenceChecks1764606100000 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first. */
const before: string[] = [
  `ALTER TABLE cycle_lines DROP CONSTRAINT cycle_lines_beneficiary_id_fkey, DROP CONSTRAINT cycle_lines_instrument_id_fkey,
     DROP CONSTRAINT cycle_lines_grant_id_fkey, DROP CONSTRAINT cycle_lines_account_id_fkey`,
];

const frozen: string[] = [
  // src/disbursements/sql/cycle_lines_check_references.sql
  String.raw`-- The references of cycle lines (beneficiary, instrument, grant, credited account) are checked
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
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = bad;
  END IF;
  RETURN NULL;
END $$;`,
  // src/database/sql/refuse_delete.sql
  String.raw`-- Rows of this table are never deleted (the padrón keeps its history: a baja is a status, a card
-- is cancelled, not removed), so tables that name them can check references once per statement
-- instead of by foreign keys (see cycle_lines_check_references).
CREATE OR REPLACE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = format('%s rows are never deleted', TG_TABLE_NAME);
END $$;`,
  // src/disbursements/sql/cycle_lines.triggers.sql
  String.raw`-- Lines are the frozen control list: never edited. Their outcome is a journal entry with the key
-- cycle:<cycleId>:line:<beneficiaryId>, or a row in cycle_line_exceptions.
CREATE OR REPLACE TRIGGER cycle_lines_immutable BEFORE UPDATE OR DELETE ON cycle_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER cycle_lines_references AFTER INSERT ON cycle_lines REFERENCING NEW TABLE AS new_lines
  FOR EACH STATEMENT EXECUTE FUNCTION cycle_lines_check_references();`,
  // src/disbursements/sql/grants.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER grants_no_delete BEFORE DELETE OR TRUNCATE ON grants FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();`,
  // src/beneficiaries/sql/beneficiaries.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER beneficiaries_no_delete BEFORE DELETE OR TRUNCATE ON beneficiaries FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();`,
  // src/instruments/sql/instruments.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER instruments_no_delete BEFORE DELETE OR TRUNCATE ON instruments FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();`,
];
