import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { isNoNegativeViolation } from '../../src/common/db-errors';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { fund, testAccount } from '../support/ledger-fixtures';

describe('ledger under concurrency', () => {
  let t: TestApp;
  let ledger: LedgerService;
  beforeAll(async () => {
    t = await createTestApp();
    ledger = t.app.get(LedgerService);
  });
  afterAll(() => t.close());

  it('200 concurrent debits of 1.00 on an account funded with 50.00: exactly 50 succeed', async () => {
    const card = await testAccount(ledger, { label: 'card' });
    const shop = await testAccount(ledger, { label: 'shop', guarded: false });
    await fund(ledger, card.id, '50.00');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        ledger.post({
          kind: 'redemption',
          idempotencyKey: `conc:${randomUUID()}`,
          effectiveAt: new Date(),
          postings: [
            { accountId: card.id, side: 'debit', amount: money('1.00') },
            { accountId: shop.id, side: 'credit', amount: money('1.00') },
          ],
        }),
      ),
    );
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(refused.every((r) => isNoNegativeViolation(r.reason))).toBe(true);
    const balance = await ledger.balance(card.id);
    expect(balance.posted.toFixed(2)).toBe('0.00');
    expect((await ledger.balance(shop.id)).posted.toFixed(2)).toBe('50.00');
    const rows = await t.db.query(`SELECT count(*)::int AS n FROM postings WHERE account_id = $1 AND side = 'debit'`, [card.id]);
    expect(rows[0].n).toBe(50);
  });

  it('200 concurrent credits to one hot (deferred) account lock no row and sum exactly', async () => {
    const hot = await testAccount(ledger, { label: 'hot-merchant', deferred: true });
    const cards = await Promise.all(Array.from({ length: 20 }, () => testAccount(ledger, { label: 'card' })));
    await Promise.all(cards.map((c) => fund(ledger, c.id, '100.00')));
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        ledger.post({
          kind: 'redemption',
          idempotencyKey: `hot:${randomUUID()}`,
          effectiveAt: new Date(),
          postings: [
            { accountId: cards[i % 20].id, side: 'debit', amount: money('3.33') },
            { accountId: hot.id, side: 'credit', amount: money('3.33') },
          ],
        }),
      ),
    );
    expect((await ledger.balance(hot.id)).posted.toFixed(2)).toBe('666.00');
    const row = await t.db.query(`SELECT posted_credits FROM ledger_accounts WHERE id = $1`, [hot.id]);
    expect(row[0].posted_credits).toBe('0.00'); // nothing touched the row yet
    expect(await ledger.rollup(hot.id)).toBe(200);
    const after = await t.db.query(`SELECT posted_credits FROM ledger_accounts WHERE id = $1`, [hot.id]);
    expect(after[0].posted_credits).toBe('666.00');
    expect((await ledger.balance(hot.id)).posted.toFixed(2)).toBe('666.00');
  });

  it('concurrent holds cannot reserve more than the available balance', async () => {
    const card = await testAccount(ledger, { label: 'card' });
    await fund(ledger, card.id, '10.00');
    const now = new Date();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        ledger.authorizeHold({ accountId: card.id, amount: money('0.75'), expiresAt: new Date('2999-01-01T00:00:00Z'), now }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(13); // 13 × 0.75 = 9.75
    const b = await ledger.balance(card.id);
    expect(b.pending.toFixed(2)).toBe('9.75');
    expect(b.available.toFixed(2)).toBe('0.25');
  });

  it('the same idempotency key posted concurrently yields one entry', async () => {
    const a = await testAccount(ledger);
    const b = await testAccount(ledger);
    await fund(ledger, a.id, '5.00');
    const key = `same:${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        ledger.post({
          kind: 'transfer',
          idempotencyKey: key,
          effectiveAt: new Date(),
          postings: [
            { accountId: a.id, side: 'debit', amount: money('1.00') },
            { accountId: b.id, side: 'credit', amount: money('1.00') },
          ],
        }),
      ),
    );
    expect(new Set(results.map((r) => r.entryId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await ledger.balance(a.id)).posted.toFixed(2)).toBe('4.00');
  });
});
