// Own queue prefix: this file's in-process worker must be the one that posts its cycle (counters are per process).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:ops`;
// The scrape token (test/e2e/metrics-auth.spec.ts tests it).
process.env.METRICS_TOKEN = 'ops-spec-metrics-token-0123456789';
const scrape = { Authorization: `Bearer ${process.env.METRICS_TOKEN}` };

import { CyclesService } from '../../src/disbursements/cycles.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram as createCycleProgram, waitForCycle } from '../support/cycle-fixtures';
import { createInstrument, createMerchant, createProgram, idem } from '../support/merchant-fixtures';

/** The value of one sample of the Prometheus text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inner.split(',').includes(w))) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return 0;
}

describe('operating the service: metrics and queue dashboard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
  });
  afterAll(() => t.close());

  it('exposes Prometheus metrics with request latency by route and queue depth', async () => {
    await t.http.get('/health/live').expect(200);
    const res = await t.http.get('/metrics').set(scrape).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/monedero_http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"[^}]*status="200"/);
    expect(res.text).toMatch(/monedero_queue_jobs\{queue="cycles",state="waiting"\} \d+/);
    expect(res.text).toContain('# TYPE monedero_redemptions_total counter');
  });

  it('keeps the queue dashboard behind an admin login', async () => {
    const anonymous = await t.http.get('/queues').expect(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(anonymous.body.code).toBe('unauthenticated');
    const auditor = await t.staff('auditor');
    const basic = (u: string) => `Basic ${Buffer.from(`${u}:correct horse battery staple`).toString('base64')}`;
    await t.http.get('/queues').set('Authorization', basic(auditor.username)).expect(401);
    const admin = await t.staff('admin');
    const page = await t.http.get('/queues').set('Authorization', basic(admin.username)).expect(200);
    expect(page.text).toMatch(/<html/i);
    const api = await t.http.get('/queues/api/queues').set('Authorization', basic(admin.username)).expect(200);
    expect(api.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['cycles', 'holds', 'settlement']));
  });

  it('counts redemptions by operation and outcome, and cycle lines posted by kind', async () => {
    const before = (await t.http.get('/metrics').set(scrape).expect(200)).text;
    // Redeem at today's date (other suites settle every merchant's captures before their own business dates).
    t.clock.set(new Date());
    const ledger = t.app.get(LedgerService);
    const admin = await t.staff('admin');
    const program = await createProgram(t.db, ledger);
    const card = await createInstrument(t.db, ledger, program, { balance: '10.00' });
    const merchant = await createMerchant(t, admin);
    const redeem = (amount: string, pin = card.pin) =>
      t.http.post('/v1/redemptions').set(merchant.headers).set(idem()).send({ instrumentNumber: card.number, pin, amount });
    await redeem('4.00').expect(201);
    await redeem('4.00').expect(201);
    const short = await redeem('4.00'); // 2.00 left
    expect(short.status).toBe(422);
    const wrongPin = card.pin === '0000' ? '1111' : '0000';
    const refused = await redeem('1.00', wrongPin);
    expect(refused.status).toBeGreaterThanOrEqual(400);

    t.clock.set('2016-02-25T18:00:00Z');
    const cycles = t.app.get(CyclesService);
    const pension = await createCycleProgram(t.db, ledger, { rules: 'pension', budget: '100000.00' });
    await addBeneficiaries(t.db, pension.id, 3);
    const d = await cycles.createDraft(pension.id, { period: '2016-03', kind: 'deposit' }, { userId: null, name: 'test:preparer' });
    await cycles.approve(d.id, { userId: null, name: 'test:approver' });
    await waitForCycle(t.db, d.id, ['completed'], 20000);

    const after = (await t.http.get('/metrics').set(scrape).expect(200)).text;
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('monedero_redemptions_total', { operation: 'redeem', outcome: 'captured' })).toBe(2);
    expect(delta('monedero_redemptions_total', { operation: 'redeem', outcome: short.body.code })).toBe(1);
    expect(delta('monedero_redemptions_total', { operation: 'redeem', outcome: refused.body.code })).toBe(1);
    // One after another, each of the four went alone in its group-commit batch.
    expect(delta('monedero_redemption_batch_size_bucket', { le: '1' })).toBe(4);
    expect(delta('monedero_cycle_lines_posted_total', { kind: 'cycle_deposit' })).toBe(3);
  });
});

describe('limits answer with clear problem documents', () => {
  let t: TestApp;
  const saved = process.env.MERCHANT_RATE_LIMIT_PER_SECOND;
  beforeAll(async () => {
    process.env.MERCHANT_RATE_LIMIT_PER_SECOND = '5';
    t = await createTestApp();
  });
  afterAll(async () => {
    process.env.MERCHANT_RATE_LIMIT_PER_SECOND = saved;
    await t.close();
  });

  it('limits each merchant API key per second: 429 rate_limited with Retry-After', async () => {
    const admin = await t.staff('admin');
    const m = await t.http
      .post('/v1/merchants')
      .set(admin.auth)
      .send({ name: 'Limited store', category: 'grocery', address: { state: 'DF' } })
      .expect(201);
    const replies = await Promise.all(Array.from({ length: 12 }, () => t.http.get('/v1/merchant/settlements').set('X-Api-Key', m.body.apiKey)));
    const limited = replies.filter((r) => r.status === 429);
    expect(replies.filter((r) => r.status === 200).length).toBeLessThanOrEqual(5);
    expect(limited.length).toBeGreaterThanOrEqual(7);
    expect(limited[0].headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited[0].body.code).toBe('rate_limited');
    expect(limited[0].headers['retry-after']).toBeDefined();
    // One budget per key across the merchant routes: another route is limited too.
    expect((await t.http.get('/v1/merchant/transactions').set('X-Api-Key', m.body.apiKey)).status).toBe(429);
    // Another key is counted on its own.
    const other = await t.http.post(`/v1/merchants/${m.body.id}/api-keys`).set(admin.auth).send({}).expect(201);
    await t.http.get('/v1/merchant/settlements').set('X-Api-Key', other.body.apiKey).expect(200);
  });

  it('refuses a body over 1 MiB with 413 payload_too_large, before any work', async () => {
    const huge = JSON.stringify({ username: 'x'.repeat(1024 * 1024 + 10), password: 'y' });
    const res = await t.http.post('/v1/auth/token').set('content-type', 'application/json').send(huge);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('payload_too_large');
  });
});
