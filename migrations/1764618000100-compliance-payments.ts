import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments once a fiscal year to a compliant recipient, against an invoice (issue 18,
 * docs/compliance.md; Comedores Comunitarios CC1–CC2: $10,000 per comedor in the last 10
 * business days of November). One row per recipient and fiscal year: the compliance recorded by
 * an officer (who, when, evidence), then the payment with its invoice, whose journal entry credits
 * the recipient's payable (paid by a beneficiaries payout batch to its CLABE).
 */
export class CompliancePayments1764618000100 implements MigrationInterface {
  name = 'CompliancePayments1764618000100';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('CompliancePayments1764618000100 is not reverted: roll forward with a new migration');
  }
}

const statements = [
  `CREATE TABLE compliance_payments (
     id              uuid PRIMARY KEY,
     program_id      uuid NOT NULL REFERENCES programs(id),
     beneficiary_id  uuid NOT NULL REFERENCES beneficiaries(id),
     fiscal_year     integer NOT NULL,
     status          text NOT NULL CHECK (status IN ('compliant', 'paid')),
     evidence_ref    text NOT NULL CHECK (length(evidence_ref) BETWEEN 1 AND 200),
     verified_on     date NOT NULL,
     recorded_by     text NOT NULL,
     recorded_at     timestamptz NOT NULL,
     invoice_ref     text CHECK (length(invoice_ref) BETWEEN 1 AND 200),
     invoice_date    date,
     invoice_amount  numeric(18,2) CHECK (invoice_amount > 0),
     amount          numeric(18,2) CHECK (amount > 0),
     entry_id        uuid,
     paid_by         text,
     paid_at         timestamptz,
     CHECK ((status = 'paid') = (entry_id IS NOT NULL AND invoice_ref IS NOT NULL AND amount IS NOT NULL)),
     -- Once a fiscal year per recipient (CC1: «Se otorgará un recurso de $10,000.00 … por Comedor Comunitario»).
     UNIQUE (program_id, beneficiary_id, fiscal_year)
   )`,
  `CREATE INDEX compliance_payments_beneficiary ON compliance_payments (beneficiary_id)`,
];
