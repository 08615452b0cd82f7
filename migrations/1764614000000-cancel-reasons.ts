import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whoever cancels a cycle, a remittance or a payout batch may say why (the console asks for it):
 * the reason is kept on the row beside cancelled_by / cancelled_at. Partial indexes serve the
 * console's approvals inbox (every draft awaiting a second person, oldest first).
 */
export class CancelReasons1764614000000 implements MigrationInterface {
  name = 'CancelReasons1764614000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['disbursement_cycles', 'remittances', 'payout_batches']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN cancel_reason text CHECK (char_length(cancel_reason) BETWEEN 1 AND 500)`);
      await q.query(`CREATE INDEX ${table}_drafts ON ${table} (created_at, id) WHERE status = 'draft'`);
    }
  }

  async down(): Promise<void> {
    throw new Error('CancelReasons1764614000000 is not reverted: roll forward with a new migration');
  }
}
