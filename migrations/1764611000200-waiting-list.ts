import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The waiting list (issue 14, P16–P18, P20; docs/programs-padron.md "Waiting list"): filed
 * applications in filing order until their incorporation on a date of record.
 */
export class WaitingList1764611000200 implements MigrationInterface {
  name = 'WaitingList1764611000200';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('WaitingList1764611000200 is not reverted: roll forward with a new migration');
  }
}

const statements: string[] = [
  `CREATE TABLE waiting_list (
     id               uuid PRIMARY KEY,
     program_id       uuid NOT NULL REFERENCES programs(id),
     curp             char(18) NOT NULL,
     application_date date NOT NULL,
     -- The application as filed (the alta's body), enrolled as it is at incorporation.
     applicant        jsonb NOT NULL,
     status           text NOT NULL CHECK (status IN ('waiting', 'incorporated', 'withdrawn')),
     beneficiary_id   uuid REFERENCES beneficiaries(id),
     incorporated_on  date,
     priority_reason  text,
     created_by       text NOT NULL,
     created_at       timestamptz NOT NULL,
     CHECK ((status = 'incorporated') = (beneficiary_id IS NOT NULL AND incorporated_on IS NOT NULL)),
     CHECK (incorporated_on IS NULL OR incorporated_on >= application_date)
   )`,
  `CREATE UNIQUE INDEX waiting_list_one_per_curp ON waiting_list (program_id, curp) WHERE status = 'waiting'`,
  `CREATE INDEX waiting_list_filing_order ON waiting_list (program_id, application_date, created_at, id) WHERE status = 'waiting'`,
];
