import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Training paid per hour to suppliers (issue 18, docs/training.md; PACTyFP): the suppliers
 * (Oferentes de Capacitación) of a program, whose bank details are payee_bank_accounts rows of
 * owner kind supplier, and the training supports: a firm, a supplier, hours and price, the
 * program's share and the firm's co-payment, then the supplier's invoice, whose posting credits
 * the supplier's payable.
 */
export class TrainingSupports1764615000100 implements MigrationInterface {
  name = 'TrainingSupports1764615000100';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('TrainingSupports1764615000100 is not reverted: roll forward with a new migration');
  }
}

const statements = [
  `CREATE TABLE suppliers (
     id                 uuid PRIMARY KEY,
     program_id         uuid NOT NULL REFERENCES programs(id),
     name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
     rfc                text NOT NULL,
     stps_registration  text NOT NULL CHECK (length(stps_registration) BETWEEN 1 AND 60),
     created_by         text NOT NULL,
     created_at         timestamptz NOT NULL,
     UNIQUE (program_id, rfc)
   )`,
  `CREATE TABLE training_supports (
     id                   uuid PRIMARY KEY,
     program_id           uuid NOT NULL REFERENCES programs(id),
     beneficiary_id       uuid NOT NULL REFERENCES beneficiaries(id),
     supplier_id          uuid NOT NULL REFERENCES suppliers(id),
     firm_size            text NOT NULL,
     hours                integer NOT NULL CHECK (hours > 0),
     price_per_hour       numeric(18,2) NOT NULL CHECK (price_per_hour > 0),
     exceptional          boolean NOT NULL,
     total                numeric(18,2) NOT NULL,
     program_share        numeric(18,2) NOT NULL CHECK (program_share > 0),
     firm_copayment       numeric(18,2) NOT NULL CHECK (firm_copayment >= 0),
     status               text NOT NULL CHECK (status IN ('approved', 'invoiced')),
     invoice_ref          text,
     invoice_received_on  date,
     attendance_percent   integer CHECK (attendance_percent BETWEEN 0 AND 100),
     payment_due_on       date,
     invoice_entry_id     uuid,
     created_by           text NOT NULL,
     created_at           timestamptz NOT NULL,
     invoiced_by          text,
     invoiced_at          timestamptz,
     CHECK (total = program_share + firm_copayment),
     CHECK ((status = 'invoiced') = (invoice_entry_id IS NOT NULL))
   )`,
  // One support a firm a program (the 50-hour cap is per firm and fiscal year).
  `CREATE UNIQUE INDEX training_supports_one_per_firm ON training_supports (program_id, beneficiary_id)`,
  `CREATE INDEX training_supports_supplier ON training_supports (supplier_id)`,
];
