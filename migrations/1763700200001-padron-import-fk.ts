import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * beneficiaries.import_id is provenance only (which bulk import created the row). A foreign key
 * on it cost one trigger call per imported row (a million on a full padrón) for no integrity
 * gain: padron_imports rows are never deleted. Dropped; an index keeps lookups by import fast.
 */
export class PadronImportFk1763700200001 implements MigrationInterface {
  name = 'PadronImportFk1763700200001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE beneficiaries DROP CONSTRAINT IF EXISTS beneficiaries_import_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE beneficiaries ADD CONSTRAINT beneficiaries_import_id_fkey FOREIGN KEY (import_id) REFERENCES padron_imports(id)`);
  }
}
