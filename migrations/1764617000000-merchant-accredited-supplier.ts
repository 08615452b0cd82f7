import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merchant category `accredited_supplier` (issue 16, R001-04): the suppliers a program accredits to
 * deliver goods against its vouchers (Cali capital semilla: supplies for a business). The list is
 * src/programs/program-rules.ts MERCHANT_CATEGORIES; this keeps the table's CHECK equal to it.
 */
export class MerchantAccreditedSupplier1764617000000 implements MigrationInterface {
  name = 'MerchantAccreditedSupplier1764617000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE merchants DROP CONSTRAINT merchants_category_check;
ALTER TABLE merchants ADD CONSTRAINT merchants_category_check
  CHECK (category IN ('grocery', 'pharmacy', 'stationery', 'clothing', 'footwear', 'department_store', 'accredited_supplier', 'other'));
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE merchants DROP CONSTRAINT merchants_category_check;
ALTER TABLE merchants ADD CONSTRAINT merchants_category_check
  CHECK (category IN ('grocery', 'pharmacy', 'stationery', 'clothing', 'footwear', 'department_store', 'other'));
`);
  }
}
