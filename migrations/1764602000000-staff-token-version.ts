import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions that end at once (issue 22 item 4): every staff token carries its user's token
 * version, and the auth guard compares it with this column on every request. Deactivating a user
 * or changing their password increments it, so every token issued before is refused from the
 * next request on, in every API process.
 */
export class StaffTokenVersion1764602000000 implements MigrationInterface {
  name = 'StaffTokenVersion1764602000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE staff_users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE staff_users DROP COLUMN token_version`);
  }
}
