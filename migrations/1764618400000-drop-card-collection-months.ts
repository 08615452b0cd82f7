import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Desempleo's `cardCollectionMonths` (rule 13, @868375) was a rule field no code read. The bank
 * issues and hands out the card and this system is not told of its collection, so the officer's
 * baja with cause card_not_collected applies the rule (fixture 05's notes). The field left the
 * rules schema; stored programs that carry it lose it here, or they would no longer parse.
 */
export class DropCardCollectionMonths1764618400000 implements MigrationInterface {
  name = 'DropCardCollectionMonths1764618400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE programs SET rules = rules - 'cardCollectionMonths' WHERE rules ? 'cardCollectionMonths'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE programs SET rules = rules || '{"cardCollectionMonths": 3}'::jsonb WHERE lineage = 'DESEMPLEO' AND NOT rules ? 'cardCollectionMonths'`);
  }
}
