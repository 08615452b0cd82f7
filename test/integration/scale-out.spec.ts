// Own queue prefix and database (set before the app and its config load).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:scaleout`;

import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { recreateDatabase } from '../../src/database/migrate';
import { MIGRATIONS } from '../../migrations';
import { QUEUES } from '../../src/jobs/queues';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram as createCycleProgram, ledgerTotalsOfCycle } from '../support/cycle-fixtures';
import { sealAndCheckIntegrity } from '../support/integrity';
import { createInstrument, createMerchant, createProgram, FixtureInstrument } from '../support/merchant-fixtures';
import { startServiceProcess } from '../support/service-child';

const LINES = 8000;
const CHUNK = 400;
const REDEMPTIONS = 240;
const DUPLICATED_KEYS = 20;

/** Two API and two worker processes (real child processes) on one PostgreSQL database and one Redis prefix. */
describe('scale-out: 2 API + 2 worker processes', () => {
  const children: Array<{ role: string; base: string | null; proc: ChildProcess }> = [];
  let t: TestApp;
  let databaseUrl: string;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    // An empty database of its own: the four processes migrate it together (advisory lock).
    const url = new URL(saved!);
    const name = `${url.pathname.slice(1).replace(/_test$/, '')}_scaleout_test`;
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    await recreateDatabase(databaseUrl);

    // Started together: they migrate the empty database under one advisory lock.
    const starts = await Promise.allSettled(
      ['api', 'api', 'worker', 'worker'].map((role) =>
        startServiceProcess({
          DATABASE_URL: databaseUrl,
          MONEDERO_ROLE: role,
          MIGRATIONS_RUN: 'true',
          DB_POOL_SIZE: '5',
          CYCLES_CONCURRENCY: '2',
          CYCLE_CHUNK_SIZE: String(CHUNK),
        }, 120000).then((child) => ({ role, ...child })),
      ),
    );
    // Every child that started is tracked (afterAll stops it) before a failed start is reported.
    for (const start of starts) if (start.status === 'fulfilled') children.push(start.value);
    for (const start of starts) if (start.status === 'rejected') throw start.reason;
    const deadline = Date.now() + 60000;
    for (const api of children.filter((c) => c.role === 'api')) {
      while ((await fetch(`${api.base}/health/ready`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline) throw new Error('API processes did not become ready');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    process.env.DATABASE_URL = databaseUrl;
    // In-process helper for fixtures and checks only (role api: it processes no jobs); traffic goes to the children.
    t = await createTestApp({ role: 'api' });
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.cycles));
    while ((await queue.getWorkers()).length < 2) {
      if (Date.now() > deadline) throw new Error('worker processes did not connect');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 150000);

  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            const timer = setTimeout(() => (c.proc.kill('SIGKILL'), resolve()), 5000);
            c.proc.once('exit', () => (clearTimeout(timer), resolve()));
          }),
      ),
    );
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  it('runs a cycle and redemption traffic across the processes; nothing is posted twice and integrity holds', async () => {
    const [api1, api2] = children.filter((c) => c.role === 'api').map((c) => c.base!);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const call = async (base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    };

    // Migrated once by four processes starting together.
    const [{ n: migrations }] = await t.db.query(`SELECT count(*)::int AS n FROM migrations`);
    expect(migrations).toBe(MIGRATIONS.length);

    const ledger = t.app.get(LedgerService);
    const operator = await t.staff('finance_operator');
    const approver = await t.staff('finance_approver');
    const admin = await t.staff('admin');
    const pension = await createCycleProgram(t.db, ledger, { rules: 'pension', budget: '50000000.00' });
    await addBeneficiaries(t.db, pension.id, LINES);
    const shop = await createProgram(t.db, ledger);
    const cards: FixtureInstrument[] = [];
    for (let i = 0; i < 24; i++) cards.push(await createInstrument(t.db, ledger, shop, { balance: '1000.00' }));
    const merchants = [await createMerchant(t, admin), await createMerchant(t, admin)];

    // Drafted through one API, approved through the other; the two workers share the chunks.
    const draft = await call(api1, 'POST', `/v1/programs/${pension.id}/cycles`, { Authorization: `Bearer ${operator.token}`, 'Idempotency-Key': randomUUID() }, { period: '2016-03', kind: 'deposit' });
    expect(draft.status).toBe(201);
    expect(draft.body.controlCount).toBe(LINES);
    const approved = await call(api2, 'POST', `/v1/cycles/${draft.body.id}/approve`, { Authorization: `Bearer ${approver.token}` }, {});
    expect(approved.status).toBe(200);

    // Meanwhile, redemptions spread over both APIs, 8 at a time; some keys sent to both APIs at once.
    const statusesPerApi = new Map<string, number[]>([[api1, []], [api2, []]]);
    const keys: string[] = [];
    const duplicated: Array<{ key: string; statuses: number[] }> = [];
    let next = 0;
    const redeem = async (base: string, i: number, key: string) => {
      const r = await call(base, 'POST', '/v1/redemptions', { ...merchants[i % 2].headers, 'Idempotency-Key': key }, {
        instrumentNumber: cards[i % cards.length].number,
        pin: cards[i % cards.length].pin,
        amount: `${1 + (i % 5)}.25`,
        reference: key,
      });
      statusesPerApi.get(base)!.push(r.status);
      return r.status;
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < REDEMPTIONS; i = next++) {
          const key = `so-${i}-${randomUUID().slice(0, 8)}`;
          keys.push(key);
          if (i < DUPLICATED_KEYS) {
            duplicated.push({ key, statuses: await Promise.all([redeem(api1, i, key), redeem(api2, i, key)]) });
          } else {
            await redeem(i % 2 ? api2 : api1, i, key);
          }
        }
      }),
    );

    // Watch the cycle complete through the first API.
    const deadline = Date.now() + 30000;
    let cycle = (await call(api1, 'GET', `/v1/cycles/${draft.body.id}`, { Authorization: `Bearer ${approver.token}` })).body;
    while (!['completed', 'completed_with_exceptions'].includes(cycle.status)) {
      if (Date.now() > deadline) throw new Error(`cycle still ${cycle.status}`);
      await new Promise((r) => setTimeout(r, 200));
      cycle = (await call(api1, 'GET', `/v1/cycles/${draft.body.id}`, { Authorization: `Bearer ${approver.token}` })).body;
    }

    // Both APIs served traffic; every request was answered without a fault.
    for (const statuses of statusesPerApi.values()) {
      expect(statuses.length).toBeGreaterThan(REDEMPTIONS / 3);
      expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    }
    for (const d of duplicated) expect(d.statuses).toContain(201);

    // Every cycle line posted exactly once; control totals = posted totals (from the ledger itself).
    expect(cycle).toMatchObject({ status: 'completed', postedCount: LINES, exceptionCount: 0 });
    expect(cycle.postedTotal).toBe(cycle.controlTotal);
    const totals = await ledgerTotalsOfCycle(t.db, draft.body.id);
    expect(totals).toEqual({ entries: LINES, duplicates: 0, debited: cycle.controlTotal, exceptions: 0 });

    // Each redemption key produced exactly one redemption and one entry, duplicates sent to both APIs included.
    const perKey: Array<{ reference: string; n: number }> = await t.db.query(
      `SELECT reference, count(*)::int AS n FROM redemptions WHERE reference = ANY($1::text[]) GROUP BY reference`,
      [keys],
    );
    expect(perKey).toHaveLength(REDEMPTIONS);
    expect(perKey.filter((r) => r.n !== 1)).toEqual([]);
    const [spent] = await t.db.query(
      `SELECT (SELECT sum(amount)::text FROM redemptions WHERE reference = ANY($1::text[]) AND status = 'captured') AS redeemed,
              (SELECT count(DISTINCT entry_id)::int FROM redemptions WHERE reference = ANY($1::text[])) AS entries,
              (SELECT (sum(posted_debits) - 0)::text FROM ledger_balances WHERE account_id = ANY($2::uuid[])) AS debited`,
      [keys, cards.map((c) => c.accountId)],
    );
    expect(spent.entries).toBe(REDEMPTIONS);
    expect(spent.debited).toBe(spent.redeemed);
    const [dupKeys] = await t.db.query(`SELECT count(*)::int AS n FROM (SELECT idempotency_key FROM journal_entries GROUP BY 1 HAVING count(*) > 1) d`);
    expect(dupKeys.n).toBe(0);

    // Balances = sums of postings, for every account (running totals and hot-account deltas included).
    const [off] = await t.db.query(
      `SELECT count(*)::int AS n FROM ledger_balances b
         LEFT JOIN (SELECT account_id, sum(amount) FILTER (WHERE side = 'debit') AS d, sum(amount) FILTER (WHERE side = 'credit') AS c
                      FROM postings GROUP BY account_id) p ON p.account_id = b.account_id
        WHERE b.posted_debits <> coalesce(p.d, 0) OR b.posted_credits <> coalesce(p.c, 0)`,
    );
    expect(off.n).toBe(0);

    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    expect(integrity.checkedEntries).toBeGreaterThan(LINES + REDEMPTIONS);
  }, 60000);
});
