import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * P54 (issue 20; docs/complaints.md "Receipt of the answer"): «El Derechohabiente o su
 * Representante Solidario firmarán de recibido la respuesta a su no conformidad» (002 part A
 * @46432). The complaint records who signed the receipt of its answer (the holder or their
 * representative) and when; the indicator P54 counts answers with a signed receipt.
 */
export class ComplaintAnswerReceipt1764618220000 implements MigrationInterface {
  name = 'ComplaintAnswerReceipt1764618220000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE complaints
      ADD COLUMN receipt_signed_by text CHECK (receipt_signed_by IN ('holder', 'representative')),
      ADD COLUMN receipt_on date,
      ADD CONSTRAINT complaints_receipt CHECK ((receipt_signed_by IS NULL) = (receipt_on IS NULL) AND (receipt_on IS NULL OR answered_on IS NOT NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT complaints_receipt, DROP COLUMN receipt_on, DROP COLUMN receipt_signed_by`);
  }
}
