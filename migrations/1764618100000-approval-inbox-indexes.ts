import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The console's approvals inbox also lists payment orders, loan applications and loan write-offs
 * awaiting a second person (src/console/approval-sources.ts): partial indexes on what waits, as
 * 1764614000000-cancel-reasons made for cycles, remittances and payout batches.
 */
export class ApprovalInboxIndexes1764618100000 implements MigrationInterface {
  name = 'ApprovalInboxIndexes1764618100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX payment_orders_drafts ON payment_orders (created_at, id) WHERE status = 'draft'`);
    await q.query(`CREATE INDEX loans_applied ON loans (applied_at, id) WHERE status = 'applied'`);
    await q.query(`CREATE INDEX loans_write_offs_requested ON loans (write_off_requested_at, id) WHERE write_off_requested_at IS NOT NULL AND written_off_at IS NULL`);
  }

  async down(): Promise<void> {
    throw new Error('ApprovalInboxIndexes1764618100000 is not reverted: roll forward with a new migration');
  }
}
