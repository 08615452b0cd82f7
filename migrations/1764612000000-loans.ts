import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Loans and revolving funds (issue 16, docs/loans.md): loans with their life cycle, the schedule
 * fixed at disbursement, repayments and their imports, and one counter row per loan program (the
 * count cap is checked on it atomically). No SQL functions: the money moves through the ledger's
 * primitive (LedgerService).
 */
export class Loans1764612000000 implements MigrationInterface {
  name = 'Loans1764612000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('Loans1764612000000 is not reverted: roll forward with a new migration');
  }
}

const statements: string[] = [
  String.raw`CREATE SEQUENCE loan_number_seq`,
  String.raw`CREATE TABLE loans (
  id                   uuid PRIMARY KEY,
  number               text NOT NULL UNIQUE,
  program_id           uuid NOT NULL REFERENCES programs(id),
  beneficiary_id       uuid NOT NULL REFERENCES beneficiaries(id),
  line                 text,
  principal            numeric(18,2) NOT NULL CHECK (principal > 0),
  status               text NOT NULL CHECK (status IN ('applied', 'approved', 'disbursed', 'delinquent', 'repaid', 'written_off')),
  applied_on           date NOT NULL,
  applied_by           text NOT NULL,
  applied_at           timestamptz NOT NULL,
  approved_by          text,
  approved_by_user_id  uuid,
  approved_at          timestamptz,
  approval_entry_id    uuid,
  accepted_at          timestamptz,
  acceptance_document_ref text,
  acceptance_recorded_by text,
  acceptance_recorded_at timestamptz,
  disbursed_by         text,
  disbursed_at         timestamptz,
  disbursed_on         date,
  disbursement_entry_id uuid,
  payable_account_id   uuid,
  grace_months         integer CHECK (grace_months >= 0),
  instalment_count     integer CHECK (instalment_count >= 1),
  repaid               numeric(18,2) NOT NULL DEFAULT 0 CHECK (repaid >= 0),
  written_off          numeric(18,2) NOT NULL DEFAULT 0 CHECK (written_off >= 0),
  past_due_since       date,
  write_off_reason     text,
  write_off_requested_by text,
  write_off_requested_by_user_id uuid,
  write_off_requested_at timestamptz,
  written_off_by       text,
  written_off_at       timestamptz,
  write_off_entry_id   uuid,
  CHECK (repaid + written_off <= principal),
  CHECK ((status IN ('applied', 'approved')) = (disbursed_at IS NULL))
)`,
  String.raw`CREATE INDEX loans_program_status ON loans (program_id, status)`,
  String.raw`CREATE INDEX loans_beneficiary ON loans (beneficiary_id)`,
  String.raw`CREATE TABLE loan_instalments (
  loan_id    uuid NOT NULL REFERENCES loans(id),
  number     integer NOT NULL CHECK (number >= 1),
  due_on     date NOT NULL,
  amount     numeric(18,2) NOT NULL CHECK (amount > 0),
  paid       numeric(18,2) NOT NULL DEFAULT 0 CHECK (paid >= 0 AND paid <= amount),
  status     text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'late', 'paid', 'written_off')),
  paid_on    date,
  PRIMARY KEY (loan_id, number)
)`,
  String.raw`CREATE INDEX loan_instalments_open_due ON loan_instalments (due_on) WHERE status IN ('due', 'late')`,
  String.raw`CREATE TABLE loan_program_counters (
  program_id  uuid PRIMARY KEY REFERENCES programs(id),
  approved    integer NOT NULL DEFAULT 0 CHECK (approved >= 0)
)`,
  String.raw`CREATE TABLE loan_repayment_imports (
  id          uuid PRIMARY KEY,
  program_id  uuid NOT NULL REFERENCES programs(id),
  sha256      text NOT NULL,
  line_count  integer NOT NULL,
  applied     integer NOT NULL,
  unchanged   integer NOT NULL,
  refused     integer NOT NULL,
  imported_by text NOT NULL,
  created_at  timestamptz NOT NULL
)`,
  String.raw`CREATE TABLE loan_repayments (
  id          uuid PRIMARY KEY,
  loan_id     uuid NOT NULL REFERENCES loans(id),
  program_id  uuid NOT NULL REFERENCES programs(id),
  amount      numeric(18,2) NOT NULL CHECK (amount > 0),
  paid_on     date NOT NULL,
  reference   text NOT NULL,
  allocation  jsonb NOT NULL,
  entry_id    uuid NOT NULL,
  import_id   uuid REFERENCES loan_repayment_imports(id),
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL,
  UNIQUE (program_id, reference)
)`,
  String.raw`CREATE INDEX loan_repayments_loan ON loan_repayments (loan_id, recorded_at)`,
];
