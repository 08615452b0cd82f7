import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { SQLSTATE, sqlState } from '../../src/common/db-errors';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { fund, testAccount } from '../support/ledger-fixtures';

/** The invariants hold against direct SQL, not only through the service. */
describe('ledger invariants enforced by PostgreSQL', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let entryId: string;
  let a: string;
  let b: string;
  beforeAll(async () => {
    t = await createTestApp();
    ledger = t.app.get(LedgerService);
    a = (await testAccount(ledger)).id;
    b = (await testAccount(ledger)).id;
    entryId = await fund(ledger, a, '100.00');
  });
  afterAll(() => t.close());

  const balanceOf = async (id: string) => (await t.db.query(`SELECT posted::text FROM ledger_balances WHERE account_id = $1`, [id]))[0].posted;

  const stateOf = async (sql: string, params: unknown[] = []) => {
    try {
      await t.db.query(sql, params);
      return 'accepted';
    } catch (error) {
      return sqlState(error);
    }
  };

  it('refuses a direct UPDATE, DELETE or TRUNCATE of postings and entries', async () => {
    expect(await stateOf(`UPDATE postings SET amount = 1 WHERE entry_id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`DELETE FROM postings WHERE entry_id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`UPDATE journal_entries SET kind = 'x' WHERE id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`DELETE FROM journal_entries WHERE id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`TRUNCATE postings CASCADE`)).toBe(SQLSTATE.immutable);
    const rows = await t.db.query(`SELECT amount FROM postings WHERE entry_id = $1 ORDER BY id`, [entryId]);
    expect(rows.map((r: { amount: string }) => r.amount)).toEqual(['100.00', '100.00']);
  });

  it('keeps postings immutable on their monthly partition itself: no direct UPDATE, DELETE, TRUNCATE, nor an INSERT that skips the balanced-entry check', async () => {
    const [{ part }] = await t.db.query(`SELECT tableoid::regclass::text AS part FROM postings WHERE entry_id = $1 LIMIT 1`, [entryId]);
    expect(part).toMatch(/^ledger_months\.postings_\d{4}_\d{2}$/);
    expect(await stateOf(`UPDATE ${part} SET amount = 1 WHERE entry_id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`DELETE FROM ${part} WHERE entry_id = $1`, [entryId])).toBe(SQLSTATE.immutable);
    expect(await stateOf(`TRUNCATE ${part}`)).toBe(SQLSTATE.immutable);
    expect(await stateOf(`TRUNCATE ledger_months.postings_default`)).toBe(SQLSTATE.immutable);
    // One-sided: the balanced-entry trigger of postings would refuse it, so the partition must refuse it itself.
    expect(await stateOf(`INSERT INTO ${part} (id, entry_id, account_id, side, amount, effective_at) SELECT -1, entry_id, account_id, side, 5, effective_at FROM postings WHERE entry_id = $1 LIMIT 1`, [entryId])).toBe(SQLSTATE.immutable);
    const rows = await t.db.query(`SELECT amount FROM postings WHERE entry_id = $1 ORDER BY id`, [entryId]);
    expect(rows.map((r: { amount: string }) => r.amount)).toEqual(['100.00', '100.00']);
    // The months ahead exist (the migration made three; the daily job keeps them ahead, idempotently), so
    // current postings never land in the default partition.
    expect(await ledger.ensurePostingsMonths(5)).toBe(6);
    expect(await ledger.ensurePostingsMonths(5)).toBe(6);
    const months = await t.db.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'postings'::regclass ORDER BY 1`);
    const ahead = new Date();
    ahead.setUTCMonth(ahead.getUTCMonth() + 5, 1);
    expect(months.map((r: { relname: string }) => r.relname)).toContain(`postings_${ahead.getUTCFullYear()}_${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`);
    // Other suites share this database and post entries on clocks of other years (2016 fixtures, 2030 and
    // 2999 test clocks), which land in the default partition by design; nothing of a month that exists may.
    expect((await t.db.query(
      `SELECT count(*)::int AS n FROM ledger_months.postings_default
        WHERE effective_at >= date_trunc('month', now()) AND effective_at < date_trunc('month', now()) + interval '6 months'`,
    ))[0].n).toBe(0);
  });

  it('refuses a posting effective at another instant than its entry (an entry lives in one month)', async () => {
    await inRolledBackTransaction(async (runner, attempt) => {
      const [{ id }] = await runner.query(`INSERT INTO journal_entries (kind, effective_at) VALUES ('manual', now()) RETURNING id`);
      const posting = `INSERT INTO postings (entry_id, account_id, side, amount, effective_at) VALUES ($1, $2, 'debit', 1, $4), ($1, $3, 'credit', 1, $4)`;
      expect(await attempt(posting, [id, a, b, new Date(Date.now() - 40 * 86_400_000)])).toBe(SQLSTATE.unbalancedEntry);
    });
  });

  /**
   * Runs `body` inside one transaction that is rolled back (so no empty entry is left behind for
   * other suites); `attempt` runs one statement under a savepoint and answers its SQLSTATE.
   */
  async function inRolledBackTransaction(
    body: (runner: QueryRunner, attempt: (sql: string, params?: unknown[]) => Promise<string | undefined>) => Promise<void>,
  ): Promise<void> {
    const runner = t.db.createQueryRunner();
    await runner.startTransaction();
    const attempt = async (sql: string, params: unknown[] = []) => {
      await runner.query('SAVEPOINT attempt');
      try {
        await runner.query(sql, params);
        return 'accepted';
      } catch (error) {
        return sqlState(error);
      } finally {
        await runner.query('ROLLBACK TO SAVEPOINT attempt');
      }
    };
    try {
      await body(runner, attempt);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  it('refuses postings and deltas that name an entry or account that does not exist, and deleting an account', async () => {
    // Statement triggers, not foreign keys (migration 1763700800000): same answer, no row lock on hot accounts.
    const posting = `INSERT INTO postings (entry_id, account_id, side, amount, effective_at) VALUES ($1, $2, 'debit', 1, now()), ($1, $3, 'credit', 1, now())`;
    await inRolledBackTransaction(async (runner, attempt) => {
      const [{ id }] = await runner.query(`INSERT INTO journal_entries (kind, effective_at) VALUES ('manual', now()) RETURNING id`);
      expect(await attempt(posting, [id, a, randomUUID()])).toBe('23503');
      expect(await attempt(posting, [randomUUID(), a, b])).toBe('23503');
      expect(await attempt(`INSERT INTO ledger_account_deltas (account_id, credits) VALUES ($1, 1)`, [randomUUID()])).toBe('23503');
      expect(await attempt(posting, [id, a, b])).toBe('accepted');
      expect(await attempt(`DELETE FROM ledger_accounts WHERE id = $1`, [b])).toBe(SQLSTATE.immutable);
      expect(await attempt(`TRUNCATE ledger_accounts CASCADE`)).toBe(SQLSTATE.immutable);
    });
  });

  it('refuses an unbalanced insert, a one-sided entry and appending to an existing entry', async () => {
    await inRolledBackTransaction(async (runner, attempt) => {
      const e = await runner.query(`INSERT INTO journal_entries (kind, effective_at) VALUES ('manual', now()) RETURNING id`);
      const id = e[0].id;
      const insert = `INSERT INTO postings (entry_id, account_id, side, amount, effective_at) VALUES `;
      expect(await attempt(`${insert} ($1, $2, 'debit', 10, now()), ($1, $3, 'credit', 9.99, now())`, [id, a, b])).toBe(SQLSTATE.unbalancedEntry);
      expect(await attempt(`${insert} ($1, $2, 'debit', 10, now())`, [id, a])).toBe(SQLSTATE.unbalancedEntry);
      // A balanced pair added later to an already-posted entry is still refused.
      expect(await attempt(`${insert} ($1, $2, 'debit', 1, now()), ($1, $3, 'credit', 1, now())`, [entryId, a, b])).toBe(SQLSTATE.unbalancedEntry);
      // …while a balanced, complete entry goes through (the check is not simply refusing everything).
      expect(await attempt(`${insert} ($1, $2, 'debit', 1, now()), ($1, $3, 'credit', 1, now())`, [id, a, b])).toBe('accepted');
    });
  });

  it('refuses an overdraft even through a direct UPDATE of the account totals', async () => {
    expect(await stateOf(`UPDATE ledger_accounts SET posted_debits = posted_credits + 0.01 WHERE id = $1`, [a])).toBe(SQLSTATE.checkViolation);
  });

  it('refuses amounts with a third decimal instead of rounding them', async () => {
    expect(
      await stateOf(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1.005, 1.005])`, [a, b]),
    ).toBe('MN006');
    expect(
      await stateOf(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[-1, -1])`, [a, b]),
    ).toBe('MN006');
    expect(
      await stateOf(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1, 2])`, [a, b]),
    ).toBe(SQLSTATE.unbalancedEntry);
  });

  it('refuses an entry whose accounts have different currencies, through ledger_post and the staged primitive alike', async () => {
    const usd = async (deferred = false) =>
      (await ledger.ensureAccount({ code: `test:usd:${randomUUID()}`, name: 'usd', category: 'test', currency: 'USD', deferredTotals: deferred })).id;
    const [u1, u2, hotUsd] = [await usd(), await usd(), await usd(true)];
    const before = money(await balanceOf(a));
    expect(await stateOf(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1, 1])`, [a, u1])).toBe('MN006');
    // A hot (deferred) account in another currency is caught too, though it is never locked.
    expect(await stateOf(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1, 1])`, [a, hotUsd])).toBe('MN006');
    expect(await balanceOf(a)).toBe(before.toFixed(2));
    // Two entries, each in one currency, in one staged set: both post.
    const runner = t.db.createQueryRunner();
    await runner.connect();
    try {
      const treasuryUsd = await ledger.ensureAccount({ code: 'treasury:USD', name: 'Tesorería USD', category: 'treasury', normalSide: 'debit', currency: 'USD' });
      await ledger.post({
        kind: 'appropriation',
        effectiveAt: new Date(),
        postings: [
          { accountId: treasuryUsd.id, side: 'debit', amount: money('10.00') },
          { accountId: u1, side: 'credit', amount: money('10.00') },
        ],
      });
      await runner.startTransaction();
      await runner.query(`SELECT ledger_stage()`);
      const [e1, e2] = [randomUUID(), randomUUID()];
      await runner.query(`INSERT INTO ledger_staged_entries (id, kind, effective_at) VALUES ($1, 'x', now()), ($2, 'x', now())`, [e1, e2]);
      await runner.query(
        `INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount) VALUES ($1, $3, 'debit', 1), ($1, $4, 'credit', 1), ($2, $5, 'debit', 2), ($2, $6, 'credit', 2)`,
        [e1, e2, a, b, u1, u2],
      );
      await runner.query(`SELECT * FROM ledger_post_staged()`);
      await runner.commitTransaction();
      expect(await t.db.query(`SELECT count(*)::int AS n FROM postings WHERE entry_id IN ($1, $2)`, [e1, e2])).toEqual([{ n: 4 }]);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await balanceOf(a)).toBe(before.minus(1).toFixed(2));
  });

  it('refuses a staged entry without postings, and writes nothing', async () => {
    const runner = t.db.createQueryRunner();
    await runner.connect();
    const empty = randomUUID();
    try {
      await runner.startTransaction();
      await runner.query(`SELECT ledger_stage()`);
      await runner.query(`INSERT INTO ledger_staged_entries (id, kind, effective_at) VALUES ($1, 'x', now())`, [empty]);
      await expect(runner.query(`SELECT * FROM ledger_post_staged()`)).rejects.toMatchObject({ code: 'MN006' });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE id = $1`, [empty])).toEqual([{ n: 0 }]);
  });

  it('refuses to stage a second set while one is pending, and a ledger function in between posts only its own entry', async () => {
    const runner = t.db.createQueryRunner();
    await runner.connect();
    const pending = randomUUID();
    try {
      await runner.startTransaction();
      await runner.query(`SELECT ledger_stage()`);
      await runner.query(`INSERT INTO ledger_staged_entries (id, kind, effective_at) VALUES ($1, 'x', now())`, [pending]);
      const [own] = await runner.query(`SELECT entry_id FROM ledger_post('x', NULL, now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1, 1])`, [a, b]);
      expect(await runner.query(`SELECT count(*)::int AS n FROM journal_entries WHERE id IN ($1, $2)`, [pending, own.entry_id])).toEqual([{ n: 1 }]);
      await expect(runner.query(`SELECT ledger_stage()`)).rejects.toMatchObject({ code: 'MN006' });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('refuses a guarded account that is also deferred (hot accounts cannot be guarded)', async () => {
    expect(
      await stateOf(
        `INSERT INTO ledger_accounts (code, name, category, normal_side, no_negative_balance, deferred_totals) VALUES ($1, 'x', 'test', 'credit', true, true)`,
        [`bad:${randomUUID()}`],
      ),
    ).toBe(SQLSTATE.checkViolation);
  });

  it('refuses to capture an expired hold even when the expiry job has not run', async () => {
    // Far-future instants, so no other test's expiry run (whatever its clock) touches this hold.
    const card = (await testAccount(ledger)).id;
    const shop = (await testAccount(ledger, { guarded: false })).id;
    await fund(ledger, card, '20.00');
    const now = new Date('2999-01-01T12:00:00Z');
    const expiresAt = new Date('2999-01-01T12:15:00Z');
    const { holdId } = await ledger.authorizeHold({ accountId: card, amount: money('15.00'), expiresAt, now });
    await expect(ledger.captureHold({ holdId, destinationAccountId: shop, now: expiresAt })).rejects.toMatchObject({
      code: SQLSTATE.holdNotCapturable,
    });
    expect((await ledger.findHold(holdId))!.status).toBe('authorized');

    // The set-based expiry releases it; run inside a rolled-back transaction so that other
    // tests' holds (due at that far-future instant too) are left alone.
    const runner = t.db.createQueryRunner();
    await runner.startTransaction();
    try {
      expect(await ledger.expireHolds(expiresAt, 100000, runner)).toBeGreaterThanOrEqual(1);
      expect((await ledger.findHold(holdId, runner))!.status).toBe('expired');
      const during = await ledger.balance(card, runner);
      expect([during.posted.toFixed(2), during.pending.toFixed(2)]).toEqual(['20.00', '0.00']);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await ledger.releaseHold(holdId, 'expired', expiresAt)).toBe(true);
    const bal = await ledger.balance(card);
    expect([bal.posted.toFixed(2), bal.pending.toFixed(2)]).toEqual(['20.00', '0.00']);
  });

  it('captures part of a hold, releases the rest, and refuses a second capture', async () => {
    const card = (await testAccount(ledger)).id;
    const shop = (await testAccount(ledger, { guarded: false })).id;
    await fund(ledger, card, '20.00');
    const now = new Date();
    const { holdId } = await ledger.authorizeHold({ accountId: card, amount: money('15.00'), expiresAt: new Date('2999-01-01T00:00:00Z'), now });
    await expect(ledger.captureHold({ holdId, amount: money('15.01'), destinationAccountId: shop, now })).rejects.toMatchObject({
      code: SQLSTATE.holdAmountExceeded,
    });
    await ledger.captureHold({ holdId, amount: money('12.50'), destinationAccountId: shop, now });
    const bal = await ledger.balance(card);
    expect([bal.posted.toFixed(2), bal.pending.toFixed(2), bal.available.toFixed(2)]).toEqual(['7.50', '0.00', '7.50']);
    await expect(ledger.captureHold({ holdId, destinationAccountId: shop, now })).rejects.toMatchObject({ code: SQLSTATE.holdNotCapturable });
    expect(await ledger.releaseHold(holdId, 'voided', now)).toBe(false);
  });

  it('reverses an entry once, and the reversal restores both balances', async () => {
    const x = (await testAccount(ledger)).id;
    const y = (await testAccount(ledger)).id;
    await fund(ledger, x, '10.00');
    const { entryId: moved } = await ledger.post({
      kind: 'transfer',
      effectiveAt: new Date(),
      postings: [
        { accountId: x, side: 'debit', amount: money('4.00') },
        { accountId: y, side: 'credit', amount: money('4.00') },
      ],
    });
    const first = await ledger.reverse(moved, { effectiveAt: new Date() });
    expect(first.replayed).toBe(false);
    expect((await ledger.balance(x)).posted.toFixed(2)).toBe('10.00');
    expect((await ledger.balance(y)).posted.toFixed(2)).toBe('0.00');
    const again = await ledger.reverse(moved, { effectiveAt: new Date() });
    expect(again).toEqual({ entryId: first.entryId, replayed: true });
    await expect(ledger.reverse(moved, { effectiveAt: new Date(), idempotencyKey: `other:${randomUUID()}` })).rejects.toMatchObject({
      code: SQLSTATE.uniqueViolation,
    });
  });

  it('answers the balance as of a date from the postings', async () => {
    const acct = (await testAccount(ledger)).id;
    const t0 = new Date('2016-03-01T06:00:00Z');
    const t1 = new Date('2016-04-01T06:00:00Z');
    const tr = await t.db.query(`SELECT id FROM ledger_accounts WHERE code = 'treasury:MXN'`);
    for (const [at, amt] of [
      [t0, '1075.20'],
      [t1, '1075.20'],
    ] as const) {
      await ledger.post({
        kind: 'deposit',
        effectiveAt: at,
        postings: [
          { accountId: tr[0].id, side: 'debit', amount: money(amt) },
          { accountId: acct, side: 'credit', amount: money(amt) },
        ],
      });
    }
    expect((await ledger.balanceAsOf(acct, new Date('2016-02-29T00:00:00Z'))).toFixed(2)).toBe('0.00');
    expect((await ledger.balanceAsOf(acct, new Date('2016-03-15T00:00:00Z'))).toFixed(2)).toBe('1075.20');
    expect((await ledger.balanceAsOf(acct, new Date('2016-05-01T00:00:00Z'))).toFixed(2)).toBe('2150.40');
  });
});
