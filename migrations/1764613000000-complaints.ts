import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Complaints (quejas, issue 20, docs/complaints.md): intake with channel, subject, program,
 * optional beneficiary, area and owner; the business-day deadline of each step of the program's
 * procedure; the written answer (P53), escalation (X6) and the commitments an answer makes.
 */
export class Complaints1764613000000 implements MigrationInterface {
  name = 'Complaints1764613000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('Complaints1764613000000 is not reverted: roll forward with a new migration');
  }
}

const statements: string[] = [
  `CREATE SEQUENCE complaint_folio_seq`,
  String.raw`CREATE TABLE complaints (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  folio           text NOT NULL UNIQUE,
  program_id      uuid NOT NULL REFERENCES programs(id),
  beneficiary_id  uuid REFERENCES beneficiaries(id),
  channel         text NOT NULL,
  subject         text NOT NULL,
  description     text NOT NULL CHECK (length(description) BETWEEN 1 AND 4000),
  area            text NOT NULL,
  owner           text NOT NULL,
  received_on     date NOT NULL,
  -- The program's procedure frozen at intake: [{"step":"answer","businessDays":10,"dueOn":"2016-03-15"}, …]
  steps           jsonb NOT NULL,
  deadline_rule   text NOT NULL,
  due_on          date NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'escalated')),
  answer          text,
  outcome         text CHECK (outcome IN ('refute', 'confirm', 'remedy')),
  answered_on     date,
  answered_by     text,
  escalated_to    text,
  escalated_on    date,
  escalated_by    text,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL,
  CONSTRAINT complaints_answered CHECK ((answer IS NULL) = (answered_on IS NULL) AND (answer IS NULL) = (outcome IS NULL)),
  CONSTRAINT complaints_escalated CHECK ((status = 'escalated') = (escalated_to IS NOT NULL))
)`,
  `CREATE INDEX complaints_program_status ON complaints (program_id, status, due_on)`,
  `CREATE INDEX complaints_status_due ON complaints (status, due_on)`,
  String.raw`CREATE TABLE complaint_commitments (
  complaint_id   uuid NOT NULL REFERENCES complaints(id),
  commitment_no  integer NOT NULL CHECK (commitment_no > 0),
  description    text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
  due_on         date NOT NULL,
  fulfilled_on   date,
  fulfilled_by   text,
  PRIMARY KEY (complaint_id, commitment_no)
)`,
  `CREATE INDEX complaint_commitments_open ON complaint_commitments (due_on) WHERE fulfilled_on IS NULL`,
];
