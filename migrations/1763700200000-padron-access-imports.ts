import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Padrón and instruments (issue 3): staff access to confidential programs, folios, bulk-import
 * records, and what a block remembers so that an unblock or a reingreso can undo it.
 */
export class PadronAccessImports1763700200000 implements MigrationInterface {
  name = 'PadronAccessImports1763700200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
-- Program officers see the identity of a confidential program's beneficiaries only when assigned to it.
CREATE TABLE staff_program_access (
  user_id    uuid NOT NULL REFERENCES staff_users(id),
  program_id uuid NOT NULL REFERENCES programs(id),
  granted_by text,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, program_id)
);
CREATE INDEX staff_program_access_program ON staff_program_access (program_id);

-- Folios are <program code>-<8 digits> from one sequence, so bulk imports get them set-based.
CREATE SEQUENCE beneficiary_folio_seq;

-- The re-entry limit is a program rule (rules.reentryLimit), not a constant of the table.
ALTER TABLE beneficiaries DROP CONSTRAINT IF EXISTS beneficiaries_reentry_count_check;
ALTER TABLE beneficiaries ADD CONSTRAINT beneficiaries_reentry_count_nonnegative CHECK (reentry_count >= 0);

CREATE TABLE padron_imports (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id   uuid NOT NULL REFERENCES programs(id),
  file_name    text NOT NULL,
  total_rows   integer NOT NULL DEFAULT 0,
  imported     integer NOT NULL DEFAULT 0,
  rejected     integer NOT NULL DEFAULT 0,
  actor        text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
ALTER TABLE beneficiaries ADD COLUMN import_id uuid REFERENCES padron_imports(id);

-- Why an instrument is blocked ('manual' by an officer, 'baja' by a deactivation) and what it was
-- before, so unblock / reingreso restore exactly that.
ALTER TABLE instruments ADD COLUMN blocked_reason text CHECK (blocked_reason IN ('manual', 'baja'));
ALTER TABLE instruments ADD COLUMN status_before_block text CHECK (status_before_block IN ('issued', 'active'));
-- At most one live (issued, active or blocked) instrument per beneficiary; a replacement retires the old one first.
CREATE UNIQUE INDEX instruments_one_live_per_beneficiary ON instruments (beneficiary_id) WHERE status IN ('issued', 'active', 'blocked');
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP INDEX IF EXISTS instruments_one_live_per_beneficiary;
ALTER TABLE instruments DROP COLUMN IF EXISTS status_before_block, DROP COLUMN IF EXISTS blocked_reason;
ALTER TABLE beneficiaries DROP COLUMN IF EXISTS import_id;
DROP TABLE IF EXISTS padron_imports;
ALTER TABLE beneficiaries DROP CONSTRAINT IF EXISTS beneficiaries_reentry_count_nonnegative;
DROP SEQUENCE IF EXISTS beneficiary_folio_seq;
DROP TABLE IF EXISTS staff_program_access;
`);
  }
}
