import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { migrate } from '../../src/database/migrate';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { sealAndCheckIntegrity } from '../support/integrity';
import { fund, testAccount } from '../support/ledger-fixtures';
import { ThrowawayPostgres } from '../support/throwaway-servers';

/** PostgreSQL goes away and comes back: requests fail cleanly with 503, then the service recovers by itself. */
describe('fault: PostgreSQL restarted under the running service', () => {
  let pg: ThrowawayPostgres;
  let t: TestApp;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
    await migrate({ DATABASE_URL: pg.url, DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 10000 });
    process.env.DATABASE_URL = pg.url;
    t = await createTestApp();
  }, 60000);

  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await t?.close();
    await pg?.destroy();
  });

  it('answers 503 while the database is down and recovers without a restart', async () => {
    const ledger = t.app.get(LedgerService);
    const auditor = await t.staff('auditor');
    const account = await testAccount(ledger);
    await fund(ledger, account.id, '10.00');
    await t.http.get(`/v1/accounts/${account.id}`).set(auditor.auth).expect(200);

    await pg.stop();
    const during = await t.http.get(`/v1/accounts/${account.id}`).set(auditor.auth);
    expect(during.status).toBe(503);
    expect(during.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(during.body.code).toBe('service_unavailable');
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(503);
    await t.http.get('/health/live').expect(200);

    await pg.start();
    const deadline = Date.now() + 20000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await t.http.get(`/v1/accounts/${account.id}`).set(auditor.auth)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    await t.http.get('/health/ready').expect(200);
    // Writes work again, and nothing was lost.
    await ledger.post({
      kind: 'transfer',
      idempotencyKey: `after-restart:${randomUUID()}`,
      effectiveAt: new Date(),
      postings: [
        { accountId: account.id, side: 'debit', amount: money('4.00') },
        { accountId: (await testAccount(ledger)).id, side: 'credit', amount: money('4.00') },
      ],
    });
    expect((await ledger.balance(account.id)).posted.toFixed(2)).toBe('6.00');

    // After the outage the audit integrity check passes (seals, entries, totals) on this database.
    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    expect(integrity.checkedEntries).toBeGreaterThanOrEqual(2);
    expect(integrity.sealedEntries).toBe(integrity.checkedEntries);
  });
});
