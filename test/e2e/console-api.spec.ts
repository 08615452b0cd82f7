// Own BullMQ prefix (under the run's prefix, so global setup clears it).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-api`;

import { LedgerService } from '../../src/ledger/ledger.service';
import { inlineScriptHashes } from '../../src/console/console-static';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram } from '../support/cycle-fixtures';

/** What the web console needs from the service: its static files, "who am I", and a program's cycles. */
describe('console: static assets, GET /v1/auth/me, GET /v1/console/programs/:id/cycles', () => {
  let t: TestApp;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let auditor: Awaited<ReturnType<TestApp['staff']>>;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-02-25T18:00:00Z') });
    [operator, approver, auditor, officer] = await Promise.all([
      t.staff('finance_operator'),
      t.staff('finance_approver'),
      t.staff('auditor'),
      t.staff('program_officer'),
    ]);
  });
  afterAll(() => t?.close());

  it('serves the console at /console without credentials, with its import map allowed by hash in the CSP', async () => {
    const redirect = await t.http.get('/console').expect(302);
    expect(redirect.headers.location).toBe('/console/');
    const index = await t.http.get('/console/').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.text).toContain('<script type="importmap">');
    const csp = index.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    const hashes = inlineScriptHashes(index.text);
    expect(hashes).toHaveLength(1);
    expect(csp).toContain(hashes[0]);
    expect(index.headers['x-content-type-options']).toBe('nosniff');

    const app = await t.http.get('/console/app.js').expect(200);
    expect(app.headers['content-type']).toMatch(/javascript/);
    for (const vendor of ['preact.mjs', 'hooks.mjs', 'htm.mjs']) {
      const res = await t.http.get(`/console/vendor/${vendor}`).expect(200);
      expect(res.headers['content-type']).toMatch(/javascript/);
      expect(res.text.length).toBeGreaterThan(500);
    }
    // Nothing outside console/ is reachable, and unknown files are problem documents.
    const missing = await t.http.get('/console/nope.js').expect(404);
    expect(missing.body.code).toBe('not_found');
    const traversal = await t.http.get('/console/%2e%2e/package.json');
    expect([400, 403, 404]).toContain(traversal.status);
    expect(traversal.text).not.toContain('"dependencies"');
  });

  it('GET /v1/auth/me tells who the token belongs to, for every staff role; 401 without a token', async () => {
    for (const who of [operator, approver, auditor, officer]) {
      const me = await t.http.get('/v1/auth/me').set(who.auth).expect(200);
      expect(me.body).toEqual({ userId: who.id, username: who.username, role: who.username.replace(/-[0-9a-f]{8}$/, '') });
    }
    const admin = await t.staff('admin');
    expect((await t.http.get('/v1/auth/me').set(admin.auth).expect(200)).body.role).toBe('admin');
    const anonymous = await t.http.get('/v1/auth/me').expect(401);
    expect(anonymous.body.code).toBe('unauthenticated');
    const forged = await t.http.get('/v1/auth/me').set('Authorization', 'Bearer not.a.token').expect(401);
    expect(forged.body.code).toBe('unauthenticated');
  });

  it("lists a program's cycles newest first, as GET /v1/cycles/{id} shows them, with status filter and cursor", async () => {
    const ledger = t.app.get(LedgerService);
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '100000.00' });
    await addBeneficiaries(t.db, program.id, 3);
    const ids: string[] = [];
    for (const period of ['2016-03', '2016-04', '2016-05']) {
      const res = await t.http
        .post(`/v1/programs/${program.id}/cycles`)
        .set(operator.auth)
        .set('Idempotency-Key', `console-api-${++key}-${Date.now()}`)
        .send({ period, kind: 'deposit' });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await t.http.post(`/v1/cycles/${ids[0]}/cancel`).set(operator.auth).expect(200);

    const all = await t.http.get(`/v1/console/programs/${program.id}/cycles`).set(auditor.auth).expect(200);
    expect(all.body.data.map((c: { id: string }) => c.id)).toEqual([...ids].reverse());
    expect(all.body.nextCursor).toBeNull();
    const one = await t.http.get(`/v1/cycles/${ids[1]}`).set(auditor.auth).expect(200);
    expect(all.body.data[1]).toEqual(one.body);
    expect(all.body.data[1]).toMatchObject({ status: 'draft', controlCount: 3, controlTotal: '3225.60', preparedBy: `user:${operator.username}` });

    const drafts = await t.http.get(`/v1/console/programs/${program.id}/cycles?status=draft`).set(approver.auth).expect(200);
    expect(drafts.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const cancelled = await t.http.get(`/v1/console/programs/${program.id}/cycles?status=cancelled`).set(operator.auth).expect(200);
    expect(cancelled.body.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);

    // Page by page: two pages of one and two, no cycle twice.
    const p1 = await t.http.get(`/v1/console/programs/${program.id}/cycles?limit=1`).set(auditor.auth).expect(200);
    expect(p1.body.data).toHaveLength(1);
    expect(p1.body.nextCursor).toEqual(expect.any(String));
    const p2 = await t.http.get(`/v1/console/programs/${program.id}/cycles?limit=5&cursor=${p1.body.nextCursor}`).set(auditor.auth).expect(200);
    expect([...p1.body.data, ...p2.body.data].map((c: { id: string }) => c.id)).toEqual([...ids].reverse());
    expect(p2.body.nextCursor).toBeNull();
  });

  it('refuses bad input with problem documents, unknown programs with 404, and roles without access with 403', async () => {
    const program = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension' });
    const base = `/v1/console/programs/${program.id}/cycles`;
    for (const query of ['status=paid', 'limit=0', 'limit=501', 'limit=abc', 'colour=red', 'cursor=bm9wZQ', 'cursor=%5B%5D']) {
      const res = await t.http.get(`${base}?${query}`).set(auditor.auth);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'validation_failed' });
    }
    expect((await t.http.get(`${base}`).set(auditor.auth).expect(200)).body).toEqual({ data: [], nextCursor: null });
    const unknown = await t.http.get('/v1/console/programs/00000000-0000-4000-8000-000000000000/cycles').set(auditor.auth).expect(404);
    expect(unknown.body.code).toBe('not_found');
    await t.http.get('/v1/console/programs/not-a-uuid/cycles').set(auditor.auth).expect(400);
    const officerRes = await t.http.get(base).set(officer.auth).expect(403);
    expect(officerRes.body.code).toBe('forbidden');
    await t.http.get(base).expect(401);
  });
});
