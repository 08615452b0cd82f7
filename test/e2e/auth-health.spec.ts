import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { createTestApp, TestApp } from '../support/app';

describe('health, login and roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('reports live and ready (PostgreSQL and Redis reachable)', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body.details).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  it('answers every request with an X-Request-Id, keeping a well-formed one the client sent', async () => {
    const fresh = await t.http.get('/health/live').expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.http.get('/v1/programs').set('X-Request-Id', 'till-7.req_42').expect(401);
    expect(kept.headers['x-request-id']).toBe('till-7.req_42');
    const replaced = await t.http.get('/v1/programs').set('X-Request-Id', 'not a valid id').expect(401);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one line per request with its id, method, path without query and status, and none for /health', async () => {
    const root = PinoLogger.root;
    const level = root.level;
    root.level = 'info';
    const info = jest.spyOn(root, 'info');
    try {
      const res = await t.http.get('/v1/programs?secret=1').set('X-Request-Id', 'till-9.req_1').expect(401);
      await t.http.get('/health/live').expect(200);
      const lines = info.mock.calls.filter(([, msg]) => msg === 'request completed');
      expect(lines).toHaveLength(1);
      // As written: through the root logger's own serializers.
      const serializers = (root as unknown as Record<symbol, Record<string, (v: unknown) => unknown>>)[pino.symbols.serializersSym];
      const line = lines[0][0] as { req: unknown; res: unknown };
      expect(serializers.req(line.req)).toEqual({ id: 'till-9.req_1', method: 'GET', path: '/v1/programs' });
      expect(serializers.res(line.res)).toEqual({ statusCode: 401 });
      expect(res.headers['x-request-id']).toBe('till-9.req_1');
    } finally {
      info.mockRestore();
      root.level = level;
    }
  });

  it('issues a JWT for a good password and refuses a bad one with problem+json', async () => {
    const staff = await t.staff('auditor');
    expect(staff.token.split('.')).toHaveLength(3);
    const bad = await t.http.post('/v1/auth/token').send({ username: staff.username, password: 'wrong password' }).expect(401);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Unauthorized' });
  });

  it('locks an account after five failed logins', async () => {
    const staff = await t.staff('auditor');
    for (let i = 0; i < 5; i++) {
      await t.http.post('/v1/auth/token').send({ username: staff.username, password: 'nope nope' }).expect(401);
    }
    const locked = await t.http.post('/v1/auth/token').send({ username: staff.username, password: 'correct horse battery staple' });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('account_locked');
  });

  it('rejects unknown fields and wrong types with 400 validation_failed', async () => {
    const extra = await t.http.post('/v1/auth/token').send({ username: 'a', password: 'b', admin: true }).expect(400);
    expect(extra.body.code).toBe('validation_failed');
    const wrongType = await t.http.post('/v1/auth/token').send({ username: 5, password: 'b' }).expect(400);
    expect(wrongType.body.code).toBe('validation_failed');
    const notJson = await t.http.post('/v1/auth/token').set('content-type', 'application/json').send('{"username":').expect(400);
    expect(notJson.body.code).toBe('validation_failed');
  });

  it('requires a token, and the right role, for staff routes', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const anon = await t.http.get(`/v1/accounts/${id}`).expect(401);
    expect(anon.body.code).toBe('unauthenticated');
    const garbage = await t.http.get(`/v1/accounts/${id}`).set('Authorization', 'Bearer not-a-jwt').expect(401);
    expect(garbage.body.code).toBe('unauthenticated');
    const officer = await t.staff('program_officer');
    const forbidden = await t.http.get(`/v1/accounts/${id}`).set(officer.auth).expect(403);
    expect(forbidden.body.code).toBe('forbidden');
    const auditor = await t.staff('auditor');
    const missing = await t.http.get(`/v1/accounts/${id}`).set(auditor.auth).expect(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('publishes the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain('/v1/auth/token');
  });
});
