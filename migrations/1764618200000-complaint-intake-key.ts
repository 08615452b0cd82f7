import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Complaint intake is idempotent (issue 20; docs/complaints.md "Intake"): POST /v1/complaints takes
 * an Idempotency-Key, and the complaint keeps the key it was filed under (caller + key), unique, so
 * that even a retry that takes over an abandoned key record (the process died between the insert
 * and the record's completion) answers the complaint already filed instead of filing a second one.
 * Complaints filed before have none.
 */
export class ComplaintIntakeKey1764618200000 implements MigrationInterface {
  name = 'ComplaintIntakeKey1764618200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE complaints ADD COLUMN intake_key text CHECK (length(intake_key) BETWEEN 1 AND 400)`);
    await q.query(`CREATE UNIQUE INDEX complaints_intake_key ON complaints (intake_key) WHERE intake_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX complaints_intake_key`);
    await q.query(`ALTER TABLE complaints DROP COLUMN intake_key`);
  }
}
