import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fiscal-year rollover (issue 14, docs/programs-padron.md "Fiscal years"): a carried beneficiary
 * is a new row of the next year's program with the same folio (folios are unique per program now),
 * pointing at the row it was carried from; a rolled-over program names its previous year.
 */
export class FiscalYearRollover1764611000100 implements MigrationInterface {
  name = 'FiscalYearRollover1764611000100';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('FiscalYearRollover1764611000100 is not reverted: roll forward with a new migration');
  }
}

const statements: string[] = [
  `ALTER TABLE beneficiaries ADD COLUMN carried_from uuid REFERENCES beneficiaries(id)`,
  `CREATE INDEX beneficiaries_carried_from ON beneficiaries (carried_from) WHERE carried_from IS NOT NULL`,
  // The padrón list's keyset index (program_id, folio) becomes the unique key.
  `DROP INDEX beneficiaries_program_folio`,
  `ALTER TABLE beneficiaries ADD CONSTRAINT beneficiaries_program_folio UNIQUE (program_id, folio)`,
  `ALTER TABLE beneficiaries DROP CONSTRAINT beneficiaries_folio_key`,
  `CREATE INDEX beneficiaries_folio ON beneficiaries (folio)`,
  `ALTER TABLE programs ADD COLUMN rolled_from uuid REFERENCES programs(id)`,
  `CREATE UNIQUE INDEX programs_one_rollover_per_year ON programs (rolled_from, fiscal_year) WHERE rolled_from IS NOT NULL`,
];
