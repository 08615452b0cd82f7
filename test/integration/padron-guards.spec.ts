import { randomUUID } from 'node:crypto';
import { sqlState } from '../../src/common/db-errors';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createProgram } from '../support/merchant-fixtures';

/**
 * Cycle lines check their references once per statement (no foreign keys: docs/disbursements.md),
 * which holds because the rows they name are never deleted.
 */
describe('padrón rows are never deleted, and cycle lines name rows that exist', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const stateOf = (sql: string, params: unknown[] = []) =>
    t.db.query(sql, params).then(
      () => 'accepted',
      (error: unknown) => sqlState(error),
    );

  it('refuses DELETE and TRUNCATE of beneficiaries, instruments and grants', async () => {
    const ledger = t.app.get(LedgerService);
    const card = await createInstrument(t.db, ledger, await createProgram(t.db, ledger), { balance: '0.00' });
    expect(await stateOf(`DELETE FROM instruments WHERE id = $1`, [card.id])).toBe('MN003');
    expect(await stateOf(`DELETE FROM beneficiaries WHERE id = (SELECT beneficiary_id FROM instruments WHERE id = $1)`, [card.id])).toBe('MN003');
    expect(await stateOf(`DELETE FROM grants WHERE id = $1`, [randomUUID()])).toBe('MN003');
    expect(await stateOf(`TRUNCATE beneficiaries CASCADE`)).toBe('MN003');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM instruments WHERE id = $1`, [card.id])).toEqual([{ n: 1 }]);
  });

  it('refuses a cycle line naming a beneficiary, instrument, account or source account that does not exist (23503), and takes one that names real rows', async () => {
    const ledger = t.app.get(LedgerService);
    const program = await createProgram(t.db, ledger);
    const card = await createInstrument(t.db, ledger, program, { balance: '0.00' });
    const [b] = await t.db.query(`SELECT beneficiary_id AS id FROM instruments WHERE id = $1`, [card.id]);
    const line = async (beneficiary: string, instrument: string, account: string, source: string | null = null) => {
      const runner = t.db.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        const cycle = randomUUID();
        await runner.query(
          `INSERT INTO cycle_lines (cycle_id, line_no, beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount, source_account_id)
           VALUES ($1, 1, $2, $3, $4, 1, 1, 0, $5)`,
          [cycle, beneficiary, instrument, account, source],
        );
        return 'accepted';
      } catch (error) {
        return sqlState(error);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    };
    expect(await line(randomUUID(), card.id, card.accountId)).toBe('23503');
    expect(await line(b.id, randomUUID(), card.accountId)).toBe('23503');
    expect(await line(b.id, card.id, randomUUID())).toBe('23503');
    expect(await line(b.id, card.id, card.accountId, randomUUID())).toBe('23503');
    expect(await line(b.id, card.id, card.accountId)).toBe('accepted');
  });
});
