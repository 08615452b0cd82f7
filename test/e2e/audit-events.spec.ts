import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../support/app';

describe('audit: staff action log', () => {
  let t: TestApp;
  let auditor: { auth: { Authorization: string }; username: string; id: string };

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-07-01T15:00:00Z') });
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  it('records logins and failed logins with the username attempted, never the password', async () => {
    const officer = await t.staff('program_officer');
    await t.http.post('/v1/auth/token').send({ username: officer.username, password: 'not the password' }).expect(401);
    const res = await t.http.get('/v1/audit/events').query({ actor: officer.username }).set(auditor.auth).expect(200);
    const kinds = res.body.data.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['login_failed', 'login']);
    expect(res.body.data[1]).toMatchObject({ role: 'program_officer', actorId: officer.id, status: 200, outcome: 'success', action: 'POST /v1/auth/token' });
    expect(res.body.data[0]).toMatchObject({ status: 401, outcome: 'failure', problemCode: 'unauthenticated' });
    expect(res.body.data[1].handler).toMatch(/^AuthController\.\w+$/);
    expect(JSON.stringify(res.body)).not.toContain('not the password');
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE target::text LIKE '%password%'`);
    expect(n).toBe(0);
  });

  it('records refused state-changing requests with who, role, route, target, ip and outcome', async () => {
    const target = randomUUID();
    await t.http.post(`/v1/programs/${target}/appropriations`).set(auditor.auth).set('Idempotency-Key', 'k1').send({ amount: '1.00', reference: 'x' }).expect(403);
    const res = await t.http
      .get('/v1/audit/events')
      .query({ actor: auditor.username, action: 'POST /v1/programs/:id/appropriations', outcome: 'failure' })
      .set(auditor.auth)
      .expect(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({
      kind: 'request',
      actorType: 'staff',
      actor: auditor.username,
      role: 'auditor',
      method: 'POST',
      route: '/v1/programs/:id/appropriations',
      target: { id: target },
      status: 403,
      outcome: 'failure',
      problemCode: 'forbidden',
      at: '2016-07-01T15:00:00.000Z',
    });
    expect(res.body.data[0].ip).toBeTruthy();
  });

  it('pages with limit and cursor, filters by time, and refuses UPDATE and DELETE', async () => {
    for (let i = 0; i < 3; i++) await t.http.delete(`/v1/merchants/${randomUUID()}/api-keys/${randomUUID()}`).set(auditor.auth);
    const p1 = await t.http.get('/v1/audit/events').query({ actor: auditor.username, limit: 2 }).set(auditor.auth).expect(200);
    expect(p1.body.data).toHaveLength(2);
    expect(p1.body.nextCursor).toEqual(expect.any(String));
    const p2 = await t.http.get('/v1/audit/events').query({ actor: auditor.username, limit: 2, cursor: p1.body.nextCursor }).set(auditor.auth).expect(200);
    expect(p2.body.data.length).toBeGreaterThan(0);
    expect(Number(p2.body.data[0].id)).toBeLessThan(Number(p1.body.data[1].id));
    const none = await t.http.get('/v1/audit/events').query({ actor: auditor.username, to: '2016-06-30' }).set(auditor.auth).expect(200);
    expect(none.body.data).toEqual([]);
    await t.http.get('/v1/audit/events').query({ limit: 501 }).set(auditor.auth).expect(400);
    await expect(t.db.query(`UPDATE audit_events SET status = 200 WHERE actor = $1`, [auditor.username])).rejects.toThrow(/immutable/);
    await expect(t.db.query(`DELETE FROM audit_events WHERE actor = $1`, [auditor.username])).rejects.toThrow(/immutable/);
    const officer = await t.staff('program_officer');
    await t.http.get('/v1/audit/events').set(officer.auth).expect(403);
  });
});
