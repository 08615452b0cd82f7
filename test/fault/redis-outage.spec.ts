import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { LedgerService } from '../../src/ledger/ledger.service';
import { QUEUES } from '../../src/jobs/queues';
import { createTestApp, TestApp } from '../support/app';
import { sealAndCheckIntegrity, siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { createInstrument, createMerchant, createProgram, idem } from '../support/merchant-fixtures';
import { ThrowawayRedis } from '../support/throwaway-servers';

/** Redis goes away while merchants redeem: redemptions keep succeeding, jobs resume when it returns. */
describe('fault: Redis stopped while merchants redeem', () => {
  let redis: ThrowawayRedis;
  let t: TestApp;
  const saved = { url: process.env.REDIS_URL, prefix: process.env.QUEUE_PREFIX, database: process.env.DATABASE_URL };

  beforeAll(async () => {
    // A database of its own: the final integrity check covers exactly what this test did.
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('redisfault'));
    redis = await ThrowawayRedis.create();
    process.env.REDIS_URL = redis.url;
    process.env.QUEUE_PREFIX = 'fault-redis';
    t = await createTestApp({ role: 'all' });
  }, 60000);

  afterAll(async () => {
    process.env.REDIS_URL = saved.url;
    process.env.QUEUE_PREFIX = saved.prefix;
    process.env.DATABASE_URL = saved.database;
    await redis?.start(); // let the app close its connections cleanly (no-op if running)
    await t?.close();
    await redis?.stop();
    // Closing waits for every BullMQ worker to reconnect first, and after the outage BullMQ's
    // reconnect backoff grows towards 20 s per connection: a loaded CI machine needed over 60 s once.
  }, 180_000);

  it('serves redemptions from PostgreSQL alone and processes queued jobs after Redis returns', async () => {
    const ledger = t.app.get(LedgerService);
    const admin = await t.staff('admin');
    const program = await createProgram(t.db, ledger);
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const merchant = await createMerchant(t, admin);
    const redeem = () =>
      t.http
        .post('/v1/redemptions')
        .set(merchant.headers)
        .set(idem())
        .send({ instrumentNumber: card.number, pin: card.pin, amount: '2.50' });
    await redeem().expect(201);

    await redis.stop();
    const started = Date.now();
    const during = await Promise.all(Array.from({ length: 20 }, () => redeem()));
    expect(during.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(Date.now() - started).toBeLessThan(5000); // nobody waited on Redis
    expect((await t.http.get('/health/ready')).status).toBe(503);
    expect((await ledger.balance(card.accountId)).posted.toFixed(2)).toBe('47.50');

    // A job enqueued during the outage waits in the client, then runs once Redis is back.
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.holds));
    const added = queue.add('expire-holds', {}, { jobId: 'after-outage' });
    // A few seconds down: long enough that a client backing off between reconnects would still
    // be waiting when Redis returns (readiness must not lag behind it).
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    const job = await added;
    const deadline = Date.now() + 20000;
    let state = await job.getState();
    while (state !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      state = await job.getState();
    }
    expect(state).toBe('completed');
    // The empty Redis got its schedulers back.
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('expire-holds');
    const ready = await t.http.get('/health/ready');
    expect({ status: ready.status, body: ready.body }).toMatchObject({ status: 200, body: { status: 'ok' } });

    // The audit integrity check passes afterwards (every redemption balanced, totals = postings).
    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    expect(integrity.checkedEntries).toBeGreaterThanOrEqual(21);
  });
});
