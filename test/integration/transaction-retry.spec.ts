import { randomInt } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiProblem } from '../../src/common/problem';
import { withTransaction } from '../../src/database/transaction';
import { createTestApp, TestApp } from '../support/app';

/**
 * The transaction helper of staff use cases (src/database/transaction.ts) against a real
 * PostgreSQL deadlock: two transactions take the same two locks in opposite orders; PostgreSQL
 * aborts one of them with 40P01. Through the helper both end up committed; through a plain
 * transaction the victim's error reaches the caller (before the helper, a 500).
 */
describe('transactions: deadlocks and serialization failures are retried', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    db = t.db;
  });
  afterAll(() => t.close());

  /** Two pieces of work that deadlock on their first run: each holds one advisory lock and waits for the other's. */
  function crossedLocks() {
    const [a, b] = [randomInt(1, 2 ** 31), randomInt(1, 2 ** 31)];
    let release!: () => void;
    const bothHoldTheirFirst = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const step = async (m: EntityManager, first: number, second: number) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [first]);
      if (++holding === 2) release();
      await bothHoldTheirFirst; // on a retry this is already settled
      await m.query('SELECT pg_advisory_xact_lock($1)', [second]);
      return m.query('SELECT txid_current()::text AS txid');
    };
    return { one: (m: EntityManager) => step(m, a, b), two: (m: EntityManager) => step(m, b, a) };
  }

  it('provokes a real deadlock: a plain transaction fails with 40P01', async () => {
    const { one, two } = crossedLocks();
    const results = await Promise.allSettled([db.transaction(one), db.transaction(two)]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toMatchObject({ code: '40P01' });
  });

  it('withTransaction runs the deadlock victim again: both commit, one retry', async () => {
    const { one, two } = crossedLocks();
    const retries: string[] = [];
    const onRetry = (_attempt: number, error: unknown) => retries.push((error as { code: string }).code);
    const results = await Promise.allSettled([withTransaction(db, one, { onRetry }), withTransaction(db, two, { onRetry })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(retries).toEqual(['40P01']);
  });

  it('retries a serialization failure (40001) of a SERIALIZABLE transaction, and gives up with 503 transaction_conflict', async () => {
    // Two SERIALIZABLE transactions that each read what the other writes: one must fail with 40001.
    const key = `help-ssi-${randomInt(1, 2 ** 31)}`;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const work = (mine: string, theirs: string) => async (m: EntityManager) => {
      await m.query(`SELECT count(*) FROM idempotency_keys WHERE scope = $1 AND key = $2`, [key, theirs]);
      if (++reads === 2) release();
      await bothRead;
      await m.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_until) VALUES ($1, $2, 'x', 'in_flight', now())`,
        [key, mine],
      );
    };
    const retries: string[] = [];
    const onRetry = (_attempt: number, error: unknown) => retries.push((error as { code: string }).code);
    const results = await Promise.allSettled([
      withTransaction(db, work('a', 'b'), { isolation: 'SERIALIZABLE', onRetry }),
      withTransaction(db, work('b', 'a'), { isolation: 'SERIALIZABLE', onRetry }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(retries).toEqual(['40001']);
    await db.query(`DELETE FROM idempotency_keys WHERE scope = $1`, [key]);

    const always = () => Promise.reject(Object.assign(new Error('could not serialize access'), { code: '40001' }));
    await expect(withTransaction(db, always, { attempts: 2 })).rejects.toEqual(expect.any(ApiProblem));
    await expect(withTransaction(db, always, { attempts: 2 })).rejects.toMatchObject({ status: 503, code: 'transaction_conflict' });
    // Other errors are not retried.
    let runs = 0;
    await expect(withTransaction(db, async () => { runs++; throw new Error('boom'); })).rejects.toThrow('boom');
    expect(runs).toBe(1);
  });
});
