import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deliveries in kind (issue 18, docs/in-kind.md): rations, packages and services of the in-kind
 * programs (Comedores Públicos, Aliméntate, Poblaciones en Situación de Calle), with their count
 * and value, who recorded them and when; they feed the programs' indicators, never the ledger.
 */
export class InKindDeliveries1764615000200 implements MigrationInterface {
  name = 'InKindDeliveries1764615000200';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('InKindDeliveries1764615000200 is not reverted: roll forward with a new migration');
  }
}

const statements = [
  `CREATE TABLE in_kind_deliveries (
     id              uuid PRIMARY KEY,
     program_id      uuid NOT NULL REFERENCES programs(id),
     kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
     delivered_on    date NOT NULL,
     count           integer NOT NULL CHECK (count BETWEEN 1 AND 1000000),
     value           numeric(18,2) CHECK (value >= 0),
     beneficiary_id  uuid REFERENCES beneficiaries(id),
     site            text CHECK (length(site) BETWEEN 1 AND 120),
     recorded_by     text NOT NULL,
     recorded_at     timestamptz NOT NULL
   )`,
  `CREATE INDEX in_kind_deliveries_program ON in_kind_deliveries (program_id, kind, delivered_on)`,
];
