import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes that serve the ORDER BY of the cursor-paged lists (issue 19 item 4, issue 22 item 0):
 * with them a page reads its own rows from an index in order, whatever its depth, instead of
 * sorting every row of the filter. test/e2e/list-paging.spec.ts pages each list; the table in
 * docs/architecture.md ("Lists") says which index serves which list. Lists already served by an
 * existing index (programs by code, cycle lines, merchant transactions, seals, audit events,
 * statements, remittances and reintegros filtered by program and status) get none.
 */
export class ListIndexes1764601000000 implements MigrationInterface {
  name = 'ListIndexes1764601000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
-- GET /v1/programs/{id}/beneficiaries: WHERE program_id ORDER BY folio (folio alone is unique across programs).
CREATE INDEX beneficiaries_program_folio ON beneficiaries (program_id, folio);
-- GET /v1/reintegros?programId (no status): ORDER BY created_at, id within the program.
CREATE INDEX reintegros_program_created ON reintegros (program_id, created_at, id);
-- GET /v1/remittances without a program.
CREATE INDEX remittances_created ON remittances (created_at, id);
-- GET /v1/merchants.
CREATE INDEX merchants_created ON merchants (created_at, id);
-- GET /v1/merchant/settlements: the merchant's statements by (created_at, id).
CREATE INDEX settlements_merchant_created ON settlements (merchant_id, created_at, id);
-- GET /v1/settlements: latest business date first, then statement id; also serves business_date = D.
CREATE INDEX settlements_page ON settlements (business_date DESC, statement_id);
DROP INDEX settlements_date;
-- GET /v1/console/programs/{id}/cycles: (period, created_at, id) descending within the program.
CREATE INDEX disbursement_cycles_program_page ON disbursement_cycles (program_id, period, created_at, id);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE INDEX settlements_date ON settlements (business_date);
DROP INDEX disbursement_cycles_program_page, settlements_page, settlements_merchant_created, merchants_created, remittances_created,
  reintegros_program_created, beneficiaries_program_folio;
`);
  }
}
