import { ChildProcess, spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'pg';
import { hashApiKey, hashSecret, instrumentNumberHash, pinHash } from '../src/common/auth/secrets';
import { openLoop } from './open-loop';
import { freshBenchDatabase, option } from './support';

const BENCH_INSTRUMENT_SECRET = 'bench-only-instrument-number-secret';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon');

/**
 * `npm run bench -- redeem [--duration S] [--connections N] [--cards N] [--merchants N] [--pool N]
 *                          [--rate R] [--open-seconds S] [--cycle-cards N] [--closed-only]`
 *
 * HTTP load on POST /v1/redemptions over loopback: the real compiled API in its own process
 * against its own database (monedero_bench_redeem), cards and merchants seeded set-based, each
 * request a new Idempotency-Key.
 * 1. Closed loop (saturation), API alone (MONEDERO_ROLE=api), autocannon with 64 connections:
 *    (a) cards and merchants spread out; (b) every redemption at one merchant; and the
 *    authenticated GET baseline of the same process, the framework's ceiling here.
 * 2. Open loop (bench/open-loop.ts): a constant offered rate (default 3,000/s for 60 s), latency
 *    from each request's due time, against the service as `npm start` runs it (MONEDERO_ROLE=all:
 *    the audit sealer, hold expiry and the other jobs in the same process), then again while a
 *    disbursement cycle of --cycle-cards cards (default 1,000,000) is running in that process.
 * After each run the database is checked: one redemption per 2xx and the merchant payables add up.
 *
 * The per-key rate limit of the ops module is raised for the bench (MERCHANT_RATE_LIMIT_PER_SECOND)
 * since it measures the redemption path, not the limiter.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const duration = Number(option(args, 'duration') ?? 15);
  const connections = Number(option(args, 'connections') ?? 64);
  const cardCount = Number(option(args, 'cards') ?? 20000);
  const merchantCount = Number(option(args, 'merchants') ?? 200);
  const poolSize = Number(option(args, 'pool') ?? 20);
  const rate = Number(option(args, 'rate') ?? 3000);
  const openSeconds = Number(option(args, 'open-seconds') ?? 60);
  const cycleCards = Number(option(args, 'cycle-cards') ?? 1_000_000);
  const secret = BENCH_INSTRUMENT_SECRET;

  const url = await freshBenchDatabase('monedero_bench_redeem');
  const pool = new Pool({ connectionString: url, max: 4 });
  const seedStarted = Date.now();
  const { cards, merchants } = await seed(pool, cardCount, merchantCount, secret);
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  await pool.query('VACUUM ANALYZE');

  const port = await freePort();
  let server = await startApi(url, port, poolSize, secret, 'api');
  let closed: Record<string, unknown>;
  try {
    const base = `http://127.0.0.1:${port}`;
    // Warm-up: JIT, connection pool, plan caches.
    await load(base, cards, [merchants[0]], Math.min(5, duration), connections);
    const spread = await measure(pool, server.pid!, base, cards, merchants, duration, connections);
    const oneMerchant = await measure(pool, server.pid!, base, cards, [merchants[1]], duration, connections);
    // The framework's ceiling on this machine: an authenticated GET (API-key lookup + one small query).
    const ceiling = await autocannon({
      url: `${base}/v1/merchant/settlements?limit=1`,
      connections,
      duration: Math.min(5, duration),
      headers: { 'x-api-key': merchants[2].key },
    });
    const authenticatedReadBaseline = {
      requestsPerSecond: Math.round(ceiling['2xx'] / ceiling.duration),
      p50Ms: ceiling.latency.p50,
      p99Ms: ceiling.latency.p99,
      non2xx: ceiling.non2xx,
    };
    closed = {
      spread,
      oneMerchant,
      authenticatedReadBaseline,
      saturationShareOfBaseline: {
        spread: Number((spread.redemptionsPerSecond / authenticatedReadBaseline.requestsPerSecond).toFixed(3)),
        oneMerchant: Number((oneMerchant.redemptionsPerSecond / authenticatedReadBaseline.requestsPerSecond).toFixed(3)),
      },
      target: 'saturation ≥ 0.6 of the authenticated GET baseline',
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (args.includes('--closed-only')) {
    await pool.end();
    return { description: 'POST /v1/redemptions over loopback HTTP, synchronous commit', cpus: require('node:os').cpus().length, connections, durationSeconds: duration, cards: cardCount, merchants: merchantCount, dbPoolSize: poolSize, seedSeconds, closedLoop: closed };
  }

  // 2. Open loop against the service as `npm start` runs it: API and worker (sealer, jobs) in one process.
  server = await startApi(url, port, poolSize, secret, 'all');
  try {
    const base = `http://127.0.0.1:${port}`;
    await load(base, cards, [merchants[0]], 5, connections);
    const steady = await openLoopRun(pool, base, cards, merchants, rate, openSeconds);
    let duringCycle: Record<string, unknown> | null = null;
    if (cycleCards > 0) {
      const cycle = await prepareCycle(pool, base, cycleCards);
      const t0 = Date.now();
      const approved = await fetch(`${base}/v1/cycles/${cycle.id}/approve`, { method: 'POST', headers: cycle.approverHeaders, body: '{}' });
      if (approved.status !== 200) throw new Error(`approve: ${approved.status} ${await approved.text()}`);
      const running = openLoopRun(pool, base, cards, merchants, rate, openSeconds);
      const done = waitForCycle(pool, cycle.id).then(() => (Date.now() - t0) / 1000);
      const [underLoad, cycleSeconds] = await Promise.all([running, done]);
      const cycleRow = (await pool.query(`SELECT status, posted_count, control_count FROM disbursement_cycles WHERE id = $1`, [cycle.id])).rows[0];
      duringCycle = { cycleCards, cycleApprovalToCompletedSeconds: cycleSeconds, cycleStatus: cycleRow.status, cyclePosted: cycleRow.posted_count, ...underLoad };
    }
    return {
      description: 'POST /v1/redemptions over loopback HTTP, synchronous commit',
      cpus: require('node:os').cpus().length,
      connections,
      durationSeconds: duration,
      cards: cardCount,
      merchants: merchantCount,
      dbPoolSize: poolSize,
      seedSeconds,
      closedLoop: closed,
      openLoop: { process: 'MONEDERO_ROLE=all (API + worker: sealer, jobs)', steady, duringCycle, target: `p99 ≤ 25 ms and no error at ${rate}/s` },
    };
  } finally {
    server.kill('SIGTERM');
    await pool.end();
  }
}

async function openLoopRun(pool: Pool, base: string, cards: Card[], merchants: Merchant[], perSecond: number, seconds: number) {
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the warm-up's last requests
  const before = Number((await pool.query(`SELECT count(*)::int AS n FROM redemptions`)).rows[0].n);
  const run = randomUUID().slice(0, 8);
  const loadAvg = require('node:os').loadavg()[0];
  const r = await openLoop({
    url: base,
    perSecond,
    seconds,
    request: (i) => {
      const card = cards[randomInt(cards.length)];
      const merchant = merchants[randomInt(merchants.length)];
      const cents = 100 + randomInt(900);
      return {
        method: 'POST',
        path: '/v1/redemptions',
        headers: { 'content-type': 'application/json', 'x-api-key': merchant.key, 'idempotency-key': `open-${run}-${i}` },
        body: JSON.stringify({ instrumentNumber: card.number, pin: card.pin, amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}` }),
      };
    },
  });
  const after = Number((await pool.query(`SELECT count(*)::int AS n FROM redemptions`)).rows[0].n);
  return { ...r, loadAverageBefore: Number(loadAvg.toFixed(2)), rowsWritten: after - before, dbConsistent: after - before === r.ok };
}

/** A Pensión-like program with N active cards (set-based), its budget, two staff users, and a draft cycle made through the API. */
async function prepareCycle(pool: Pool, base: string, n: number): Promise<{ id: string; approverHeaders: Record<string, string> }> {
  const { rows: acc } = await pool.query(
    `INSERT INTO ledger_accounts (code, name, category, normal_side, no_negative_balance)
     VALUES ('program:cycle:budget', 'budget', 'program_budget', 'credit', true), ('program:cycle:reintegro', 'reintegro', 'reintegro_payable', 'credit', false)
     RETURNING id, code`,
  );
  const id = (code: string) => acc.find((a: { code: string }) => a.code === code).id;
  const rules = { benefit: { type: 'unidades_de_cuenta', unitValue: '71.68', factor: '15' }, schedule: { frequency: 'monthly', dayOfMonth: 1 } };
  const { rows: [{ id: programId }] } = await pool.query(
    `INSERT INTO programs (code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     VALUES ('PENSION-REDEEM-BENCH-2026', 'Pensión (bench)', 2026, 'card', $1, $2, $3) RETURNING id`,
    [JSON.stringify(rules), id('program:cycle:budget'), id('program:cycle:reintegro')],
  );
  const { rows: [treasury] } = await pool.query(`SELECT id FROM ledger_accounts WHERE code = 'treasury:MXN'`);
  await pool.query(
    `SELECT ledger_post('appropriation', 'bench:cycle-appropriation', now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[6676950641.00, 6676950641.00])`,
    [treasury.id, id('program:cycle:budget')],
  );
  await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     SELECT $1, 'C-' || g, 'CYCL' || lpad(g::text, 12, '0') || 'XX', 'Nombre', 'Apellido', DATE '1940-01-01', '{"state":"DF"}', DATE '2016-01-01', DATE '2016-01-01'
       FROM generate_series(1, $2::int) g`,
    [programId, n],
  );
  await pool.query(
    `WITH b AS MATERIALIZED (SELECT id AS beneficiary_id, gen_random_uuid() AS instrument_id, gen_random_uuid() AS account_id FROM beneficiaries WHERE program_id = $1),
     acc AS (
       INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id, no_negative_balance)
       SELECT account_id, 'instrument:' || instrument_id, 'instrument', 'instrument', 'credit', $1, 'instrument', instrument_id, true FROM b
       RETURNING id)
     INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, account_id, delivered_at)
     SELECT instrument_id, beneficiary_id, $1, 'card', 'cycle:' || instrument_id, '0000', 'active', account_id, now() FROM b`,
    [programId],
  );
  await pool.query(`VACUUM ANALYZE`);
  const password = 'bench only passphrase 0123';
  const hash = await hashSecret(password);
  await pool.query(
    `INSERT INTO staff_users (username, password_hash, role) VALUES ('bench-operator', $1, 'finance_operator'), ('bench-approver', $1, 'finance_approver')`,
    [hash],
  );
  const login = async (username: string) => {
    const res = await fetch(`${base}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return { authorization: `Bearer ${((await res.json()) as { accessToken: string }).accessToken}`, 'content-type': 'application/json' };
  };
  const operator = await login('bench-operator');
  const draft = await fetch(`${base}/v1/programs/${programId}/cycles`, {
    method: 'POST',
    headers: { ...operator, 'idempotency-key': `bench-cycle-${randomUUID()}` },
    body: JSON.stringify({ period: '2026-12', kind: 'deposit' }),
  });
  if (draft.status !== 201) throw new Error(`draft: ${draft.status} ${await draft.text()}`);
  return { id: ((await draft.json()) as { id: string }).id, approverHeaders: await login('bench-approver') };
}

async function waitForCycle(pool: Pool, cycleId: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(`SELECT status FROM disbursement_cycles WHERE id = $1`, [cycleId]);
    if (['completed', 'completed_with_exceptions'].includes(rows[0].status)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Card {
  number: string;
  pin: string;
}
interface Merchant {
  id: string;
  key: string;
  payableAccountId: string;
}

async function seed(pool: Pool, cardCount: number, merchantCount: number, secret: string): Promise<{ cards: Card[]; merchants: Merchant[] }> {
  const { rows: accts } = await pool.query(
    `INSERT INTO ledger_accounts (code, name, category, normal_side, no_negative_balance)
     VALUES ('treasury:MXN', 'Tesorería', 'treasury', 'debit', false), ('bench:budget', 'Budget', 'program_budget', 'credit', true),
            ('bench:reintegro', 'Reintegro', 'reintegro_payable', 'credit', false)
     RETURNING id, code`,
  );
  const id = (code: string) => accts.find((a: { code: string }) => a.code === code).id;
  const programId = randomUUID();
  await pool.query(
    `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     VALUES ($1, 'BENCH-2026', 'Bench program', 2026, 'card', '{"benefit":{"type":"fixed","amount":"100.00"}}', $2, $3)`,
    [programId, id('bench:budget'), id('bench:reintegro')],
  );
  await pool.query(`UPDATE ledger_accounts SET program_id = $1 WHERE code IN ('bench:budget', 'bench:reintegro')`, [programId]);

  const cards: Card[] = [];
  const ids: string[] = [];
  const hashes: string[] = [];
  const pins: string[] = [];
  for (let i = 0; i < cardCount; i++) {
    const number = `5${String(i).padStart(9, '0')}${String(randomInt(1_000_000)).padStart(6, '0')}`;
    const pin = String(randomInt(10_000)).padStart(4, '0');
    const h = instrumentNumberHash(number, secret);
    cards.push({ number, pin });
    ids.push(randomUUID());
    hashes.push(h);
    pins.push(pinHash(h, pin, secret));
  }
  await pool.query(
    `WITH a AS (
       INSERT INTO ledger_accounts (code, name, category, normal_side, program_id, owner_type, owner_id, no_negative_balance)
       SELECT 'instrument:' || t.id, 'Instrument', 'instrument', 'credit', $2, 'instrument', t.id, true
         FROM unnest($1::uuid[]) AS t(id)
       RETURNING id AS account_id, owner_id),
     b AS (
       INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
       SELECT t.id, $2, 'BENCH-' || t.id, 'BENCH' || lpad(t.n::text, 13, '0'), 'Bench', 'Bench', '1950-01-01', '{"state":"DF"}', '2026-01-01', '2026-01-01'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)
       RETURNING id)
     INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, pin_hash, account_id)
     SELECT t.id, t.id, $2, 'card', t.h, right(t.num, 4), 'active', t.p, a.account_id
       FROM unnest($1::uuid[], $3::text[], $4::text[], $5::text[]) AS t(id, h, p, num)
       JOIN a ON a.owner_id = t.id
      WHERE (SELECT count(*) FROM b) > 0`,
    [ids, programId, hashes, pins, cards.map((c) => c.number)],
  );
  // Fund: treasury → budget, then one deposit entry per card as a disbursement cycle would (set-based,
  // through the ledger's primitive), so the ledger tables hold a realistic history before the load
  // (and plans are made for it).
  const perCard = '100000.00';
  await pool.query(
    `SELECT ledger_post('appropriation', 'bench:appropriation', now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'],
                        ARRAY[$3::numeric, $3::numeric])`,
    [id('treasury:MXN'), id('bench:budget'), (BigInt(cardCount) * 100000n).toString()],
  );
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT ledger_stage()`);
    await c.query(
      `INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, created_by)
       SELECT ledger_uuid_v7(row_number() OVER ()), 'deposit', 'bench:deposit:' || account_id, now(), 'bench' FROM instruments`,
    );
    await c.query(
      `INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
       SELECT e.id, $1::uuid, 'debit', $2::numeric FROM ledger_staged_entries e
       UNION ALL
       SELECT e.id, substr(e.idempotency_key, 15)::uuid, 'credit', $2::numeric FROM ledger_staged_entries e`,
      [id('bench:budget'), perCard],
    );
    await c.query(`SELECT * FROM ledger_post_staged()`);
    await c.query('COMMIT');
  } finally {
    c.release();
  }

  const merchants: Merchant[] = [];
  for (let i = 0; i < merchantCount; i++) merchants.push({ id: randomUUID(), key: `mk_bench_${randomUUID()}`, payableAccountId: '' });
  const { rows } = await pool.query(
    `WITH a AS (
       INSERT INTO ledger_accounts (code, name, category, normal_side, owner_type, owner_id, deferred_totals)
       SELECT 'merchant:' || t.id || ':payable', 'Merchant payable', 'merchant_payable', 'credit', 'merchant', t.id, true
         FROM unnest($1::uuid[]) AS t(id)
       RETURNING id AS account_id, owner_id),
     m AS (
       INSERT INTO merchants (id, name, category, address, payable_account_id, created_at)
       SELECT a.owner_id, 'Bench shop', 'grocery', '{"state":"DF"}', a.account_id, now() FROM a
       RETURNING id, payable_account_id)
     INSERT INTO merchant_api_keys (merchant_id, key_prefix, key_hash)
     SELECT t.id, left(t.k, 10), t.h FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, k, h) JOIN m ON m.id = t.id
     RETURNING merchant_id, (SELECT payable_account_id FROM m WHERE m.id = merchant_id) AS payable`,
    [merchants.map((m) => m.id), merchants.map((m) => m.key), merchants.map((m) => hashApiKey(m.key))],
  );
  for (const r of rows) merchants.find((m) => m.id === r.merchant_id)!.payableAccountId = r.payable;
  return { cards, merchants };
}

async function load(base: string, cards: Card[], merchants: Merchant[], duration: number, connections: number) {
  let seq = 0;
  const run = randomUUID().slice(0, 8);
  return autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/v1/redemptions',
        setupRequest: (req: Record<string, unknown>) => {
          const card = cards[randomInt(cards.length)];
          const merchant = merchants[merchants.length === 1 ? 0 : randomInt(merchants.length)];
          const cents = 100 + randomInt(900);
          return {
            ...req,
            headers: { 'content-type': 'application/json', 'x-api-key': merchant.key, 'idempotency-key': `bench-${run}-${++seq}` },
            body: JSON.stringify({ instrumentNumber: card.number, pin: card.pin, amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}` }),
          };
        },
      },
    ],
  });
}

async function measure(pool: Pool, apiPid: number, base: string, cards: Card[], merchants: Merchant[], duration: number, connections: number) {
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the previous load's last requests finish
  const before = Number((await pool.query(`SELECT count(*)::int AS n FROM redemptions`)).rows[0].n);
  const backends = await databaseBackends(pool);
  const apiCpu0 = cpuMs(apiPid);
  const dbCpu0 = backends.reduce((s, pid) => s + cpuMs(pid), 0);
  const loadAvg = require('node:os').loadavg()[0];
  const selfCpu0 = process.cpuUsage();
  const machine0 = machineCpuMs();
  const api0 = await apiCounters(base);
  const r = await load(base, cards, merchants, duration, connections);
  const apiCpu = cpuMs(apiPid) - apiCpu0;
  const dbCpu = backends.reduce((s, pid) => s + cpuMs(pid), 0) - dbCpu0;
  const selfCpu = process.cpuUsage(selfCpu0);
  const machine = machineCpuMs() - machine0;
  const api1 = await apiCounters(base);
  await new Promise((resolve) => setTimeout(resolve, 500)); // requests still in flight when the load stopped
  const after = Number((await pool.query(`SELECT count(*)::int AS n FROM redemptions`)).rows[0].n);
  const check = await pool.query(
    `SELECT (SELECT coalesce(sum(amount), 0) FROM redemptions) = (SELECT coalesce(sum(posted_credits - posted_debits), 0) FROM ledger_balances WHERE category = 'merchant_payable') AS payables_match,
            (SELECT count(*) FROM ledger_balances WHERE category = 'instrument' AND posted - pending < 0) = 0 AS no_negative`,
  );
  const ok = r['2xx'] as number;
  return {
    requests: r.requests.total,
    redemptions: ok,
    redemptionsPerSecond: Math.round(ok / r.duration),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    failed: r.errors + r.timeouts + r.non2xx,
    // CPU spent per request by the API process and by the PostgreSQL backends serving it (from /proc).
    apiCpuMsPerRequest: Number((apiCpu / r.requests.total).toFixed(3)),
    dbCpuMsPerRequest: Number((dbCpu / r.requests.total).toFixed(3)),
    // autocannon itself (this process), and every core of the machine (kernel, WAL writer, all).
    loadGeneratorCpuMsPerRequest: Number(((selfCpu.user + selfCpu.system) / 1000 / r.requests.total).toFixed(3)),
    machineCpuMsPerRequest: Number((machine / r.requests.total).toFixed(3)),
    loadAverageBefore: Number(loadAvg.toFixed(2)),
    // Requests per merchant_redeem_batch transaction (the API's group commit).
    meanBatchSize: Number(((api1.items - api0.items) / Math.max(1, api1.batches - api0.batches)).toFixed(1)),
    // Garbage-collection pauses of the API's event loop, per request (part of its CPU above).
    apiGcMsPerRequest: Number((((api1.gcSeconds - api0.gcSeconds) * 1000) / r.requests.total).toFixed(3)),
    rowsWritten: after - before,
    // Every 2xx wrote one redemption (a few more may finish after autocannon stops counting).
    dbConsistent: after - before >= ok && after - before <= ok + connections && check.rows[0].payables_match && check.rows[0].no_negative,
  };
}

const BENCH_METRICS_TOKEN = 'bench-only-metrics-token-0123456789';

async function startApi(databaseUrl: string, port: number, poolSize: number, secret: string, role: 'api' | 'all'): Promise<ChildProcess> {
  // BENCH_NODE_ARGS (e.g. "--prof") profiles the API process.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: 'bench-only-jwt-secret-0123456789',
      INSTRUMENT_NUMBER_SECRET: secret,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      MONEDERO_ROLE: role,
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'false',
      DB_POOL_SIZE: String(poolSize),
      QUEUE_PREFIX: 'bench-redeem',
      MERCHANT_RATE_LIMIT_PER_SECOND: '1000000',
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: process.env.BENCH_API_CWD ?? process.cwd(),
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/live`);
      if (res.ok) return child;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('API did not start within 60 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The API's group-commit counters and garbage-collection time, read from its Prometheus endpoint. */
async function apiCounters(base: string): Promise<{ batches: number; items: number; gcSeconds: number }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const gcSeconds = [...text.matchAll(/^monedero_nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { batches: value('monedero_redemption_batch_size_count'), items: value('monedero_redemption_batch_size_sum'), gcSeconds };
}

/** PostgreSQL backends of the bench database other than ours (the API's pool, opened during warm-up). */
async function databaseBackends(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'monedero'`,
  );
  return rows.map((r: { pid: number }) => r.pid);
}

/** User + system CPU time of a process in ms (Linux /proc; 0 where unavailable). */
function cpuMs(pid: number): number {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine in ms, all cores (Linux /proc/stat; 0 where unavailable). */
function machineCpuMs(): number {
  try {
    const line = (require('node:fs').readFileSync('/proc/stat', 'utf8') as string).split('\n')[0];
    // cpu  user nice system idle iowait irq softirq steal …: everything but idle and iowait.
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return ((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1000) / 100;
  } catch {
    return 0;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
