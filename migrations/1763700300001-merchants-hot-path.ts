import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Redemption hot path (measured with `npm run bench -- redeem` and pg_stat_user_functions):
 * the foreign keys of redemptions to instruments, journal_entries and ledger_holds cost a
 * KEY SHARE row lock each per redemption (the instrument row is dirtied and WAL-logged on every
 * purchase) and ~40% of merchant_redeem's own time. They are dropped: the only writers of
 * redemptions are the merchant_* SQL functions, which insert ids they have just read or created
 * in the same transaction. The instrument index is dropped too (nothing queries by it yet).
 */
export class MerchantsHotPath1763700300001 implements MigrationInterface {
  name = 'MerchantsHotPath1763700300001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE redemptions
  DROP CONSTRAINT redemptions_instrument_id_fkey,
  DROP CONSTRAINT redemptions_entry_id_fkey,
  DROP CONSTRAINT redemptions_hold_id_fkey;
DROP INDEX redemptions_instrument;
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE INDEX redemptions_instrument ON redemptions (instrument_id);
ALTER TABLE redemptions
  ADD CONSTRAINT redemptions_instrument_id_fkey FOREIGN KEY (instrument_id) REFERENCES instruments(id),
  ADD CONSTRAINT redemptions_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES journal_entries(id),
  ADD CONSTRAINT redemptions_hold_id_fkey FOREIGN KEY (hold_id) REFERENCES ledger_holds(id);
`);
  }
}
