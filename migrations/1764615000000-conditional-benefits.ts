import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conditional and variable benefits (issue 18, docs/conditional.md): the records that feed the
 * next cycle, with who recorded them and when.
 *  - beneficiary_attendance: days attended per period (Trabajo Digno SCAPAT), one record a period;
 *  - beneficiary_events: events such as a hiring and its continuation (Mi Primer Trabajo);
 *  - beneficiary_obligations: a monthly obligation met (signature of the delivery list, cartilla).
 * An attendance or event record is claimed by the cycle draft that pays it (cycle_id, amount);
 * a record claimed by a cancelled cycle is free again for the next draft.
 */
export class ConditionalBenefits1764615000000 implements MigrationInterface {
  name = 'ConditionalBenefits1764615000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('ConditionalBenefits1764615000000 is not reverted: roll forward with a new migration');
  }
}

const statements = [
  `CREATE TABLE beneficiary_attendance (
     id              uuid PRIMARY KEY,
     program_id      uuid NOT NULL REFERENCES programs(id),
     beneficiary_id  uuid NOT NULL REFERENCES beneficiaries(id),
     period          text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
     days            integer NOT NULL CHECK (days BETWEEN 0 AND 31),
     recorded_by     text NOT NULL,
     recorded_at     timestamptz NOT NULL,
     cycle_id        uuid REFERENCES disbursement_cycles(id),
     amount          numeric(18,2) CHECK (amount >= 0),
     UNIQUE (beneficiary_id, period)
   )`,
  `CREATE INDEX beneficiary_attendance_program ON beneficiary_attendance (program_id, period)`,
  `CREATE TABLE beneficiary_events (
     id              uuid PRIMARY KEY,
     program_id      uuid NOT NULL REFERENCES programs(id),
     beneficiary_id  uuid NOT NULL REFERENCES beneficiaries(id),
     kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
     occurred_on     date NOT NULL,
     evidence_ref    text NOT NULL CHECK (length(evidence_ref) BETWEEN 1 AND 200),
     recorded_by     text NOT NULL,
     recorded_at     timestamptz NOT NULL,
     cycle_id        uuid REFERENCES disbursement_cycles(id),
     amount          numeric(18,2) CHECK (amount > 0)
   )`,
  `CREATE INDEX beneficiary_events_beneficiary ON beneficiary_events (beneficiary_id, kind, occurred_on)`,
  `CREATE INDEX beneficiary_events_program ON beneficiary_events (program_id, occurred_on)`,
  `CREATE TABLE beneficiary_obligations (
     id              uuid PRIMARY KEY,
     program_id      uuid NOT NULL REFERENCES programs(id),
     beneficiary_id  uuid NOT NULL REFERENCES beneficiaries(id),
     kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
     period          text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
     met_on          date NOT NULL,
     recorded_by     text NOT NULL,
     recorded_at     timestamptz NOT NULL,
     UNIQUE (beneficiary_id, kind, period)
   )`,
  `CREATE INDEX beneficiary_obligations_program ON beneficiary_obligations (program_id, kind, period)`,
];
