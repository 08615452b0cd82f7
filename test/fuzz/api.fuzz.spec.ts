import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { createTestApp, TestApp } from '../support/app';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';

/**
 * Thousands of generated requests against every route of the OpenAPI document: bodies, headers
 * and paths. No request may get a 500, and no refused request (4xx) may change the ledger.
 * Runs on a database of its own so the ledger fingerprint is not moved by other test files.
 * The seed is fixed (FUZZ_SEED overrides it) and printed, so a failure replays exactly. Besides
 * the generated requests, the hostile inputs of issue 22 are sent to every route on every run:
 * NUL characters and lone surrogates in each field, a 10,000-level nested body, and
 * appropriations until the running totals are full.
 */
interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  fields: string[];
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** Text PostgreSQL cannot store (400 invalid_text), the largest money amount, and a body nested 10,000 levels (400 nesting_too_deep). */
const HOSTILE_TEXTS = ['a\u0000b', '\u0000', 'x\ud800', '\udfffy', '\ude00\ud83d'];
const LARGEST_AMOUNT = '9999999999999999.99';
const DEEP_BODY = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);

describe('API fuzz: generated requests never cause a 500 or a ledger change when refused', () => {
  let t: TestApp;
  let routes: Route[];
  let adminAuth: string;
  let merchantKey: string;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('fuzz'));
    t = await createTestApp();
    adminAuth = (await t.staff('admin')).auth.Authorization;
    const merchant = await t.http
      .post('/v1/merchants')
      .set('Authorization', adminAuth)
      .send({ name: 'Fuzz store', category: 'grocery', address: { street: 'Calle 1', state: 'DF', postalCode: '06000' } })
      .expect(201);
    merchantKey = merchant.body.apiKey;
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    routes = [];
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const schemaRef: string | undefined = op.requestBody?.content?.['application/json']?.schema?.$ref;
        const schema = schemaRef ? doc.components.schemas[schemaRef.split('/').pop()!] : undefined;
        routes.push({ method: method as Route['method'], path, fields: Object.keys(schema?.properties ?? {}) });
      }
    }
  }, 60000);

  afterAll(async () => {
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  const ledgerFingerprint = async () =>
    JSON.stringify(
      await t.db.query(`SELECT (SELECT count(*) FROM postings) AS postings, (SELECT count(*) FROM journal_entries) AS entries,
                               (SELECT count(*) FROM ledger_holds) AS holds,
                               (SELECT coalesce(sum(pending_debits), 0) FROM ledger_accounts) AS pending`),
    );

  const jsonValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('10.00', '0.00', '-1.00', '1.005', '1e9', '99999999999999999999', LARGEST_AMOUNT, '', 'MXN', randomUUID(), '2016-03', '2016-02-30'),
    fc.constantFrom(...HOSTILE_TEXTS),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  );

  /** A request that must be refused (or pass) with a problem document, never a 500, and when refused leave the ledger as it was. */
  async function expectNoServerFault(label: string, send: () => Promise<{ status: number; headers: Record<string, string>; body: any }>) {
    const before = await ledgerFingerprint();
    const res = await send();
    if (res.status >= 500) throw new Error(`${label} → ${res.status} ${JSON.stringify(res.body)}`);
    if (res.status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(typeof res.body.code).toBe('string');
      expect(await ledgerFingerprint()).toBe(before);
    }
    return res;
  }

  const call = (route: Route, path: string) => {
    const req = t.http[route.method](path).set('Authorization', adminAuth).set('X-Api-Key', merchantKey).set('Idempotency-Key', randomUUID());
    return req;
  };

  it('refuses NUL characters and lone surrogates in every field of every route with 400 invalid_text', async () => {
    let refused = 0;
    for (const route of routes.filter((r) => r.method !== 'get' && r.fields.length)) {
      const path = route.path.replace(/\{[^}]+\}/g, () => randomUUID());
      for (const field of route.fields) {
        for (const text of HOSTILE_TEXTS.slice(0, 3)) {
          const res = await expectNoServerFault(`${route.method.toUpperCase()} ${route.path} ${field}=${JSON.stringify(text)}`, () =>
            call(route, path).send({ [field]: text }),
          );
          expect([res.status, res.body.code]).toEqual([400, 'invalid_text']);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(50);
  }, 120000);

  it('refuses a 10,000-level nested body on every route with 400 nesting_too_deep', async () => {
    for (const route of routes.filter((r) => r.method !== 'get')) {
      const path = route.path.replace(/\{[^}]+\}/g, () => randomUUID());
      const res = await expectNoServerFault(`${route.method.toUpperCase()} ${route.path} (deep body)`, () =>
        call(route, path).set('Content-Type', 'application/json').send(DEEP_BODY),
      );
      expect([res.status, res.body.code]).toEqual([400, 'nesting_too_deep']);
    }
  }, 120000);

  it('appropriates the largest amount until the running totals are full: then 422 amount_out_of_range, never a 500', async () => {
    const fixture = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;
    const program = await t.http
      .post('/v1/programs')
      .set('Authorization', adminAuth)
      .send({ code: 'FUZZ-OVERFLOW', name: fixture.name, fiscalYear: 2016, instrumentType: 'card', rules: fixture.rules })
      .expect(201);
    let accepted = 0;
    for (let i = 0; i < 150; i++) {
      const res = await expectNoServerFault(`appropriation ${i}`, () =>
        t.http.post(`/v1/programs/${program.body.id}/appropriations`).set('Authorization', adminAuth).set('Idempotency-Key', randomUUID()).send({ amount: LARGEST_AMOUNT, reference: `overflow ${i}` }),
      );
      if (res.status === 201) accepted++;
      else {
        expect([res.status, res.body.code]).toEqual([422, 'amount_out_of_range']);
        break;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(100);
  }, 120000);

  it(`survives ${RUNS} generated requests (seed ${SEED})`, async () => {
    console.log(`API fuzz: seed ${SEED}, ${RUNS} runs (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);
    expect(routes.length).toBeGreaterThan(3);
    const requestArb = fc.record({
      route: fc.constantFrom(...routes),
      pathParam: fc.oneof(fc.uuid(), fc.constantFrom('..', '%00', 'x'.repeat(300), '1', "'; DROP TABLE postings; --", 'ñ', '%ZZ')),
      knownFields: fc.dictionary(fc.constantFrom('amount', 'pin', 'curp', 'period', 'kind', 'username', 'password', 'programId', 'cause', 'code'), jsonValue, { maxKeys: 4 }),
      extraFields: fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 }),
      bodyShape: fc.constantFrom('object', 'object', 'object', 'array', 'string', 'none', 'garbage', 'deep'),
      auth: fc.constantFrom('admin', 'admin', 'none', 'garbage', 'merchant'),
      idempotencyKey: fc.oneof(fc.constant(undefined), fc.uuid(), fc.string({ maxLength: 300 })),
      contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
      query: fc.constantFrom('', '?limit=0', '?limit=501', '?limit=abc', '?cursor=zzz', '?asOf=not-a-date', '?from=2016-01-01&to=2015-01-01'),
    });

    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const fieldBody: Record<string, unknown> = { ...r.extraFields, ...r.knownFields };
        for (const f of r.route.fields) if (!(f in fieldBody) && r.knownFields[f as never] === undefined) fieldBody[f] = fc.sample(jsonValue, 1)[0];
        const path = r.route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.pathParam)) + r.query;
        const before = await ledgerFingerprint();
        let req = t.http[r.route.method](path);
        if (r.auth === 'admin') req = req.set('Authorization', adminAuth);
        if (r.auth === 'garbage') req = req.set('Authorization', 'Bearer x.y.z').set('X-Api-Key', 'nope');
        if (r.auth === 'merchant') req = req.set('X-Api-Key', merchantKey);
        if (r.idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(r.idempotencyKey)) req = req.set('Idempotency-Key', r.idempotencyKey);
        let res;
        if (r.route.method === 'get' || r.bodyShape === 'none') res = await req;
        else {
          const raw =
            r.bodyShape === 'object' ? JSON.stringify(fieldBody)
            : r.bodyShape === 'array' ? JSON.stringify([fieldBody])
            : r.bodyShape === 'string' ? JSON.stringify('text')
            : r.bodyShape === 'deep' ? DEEP_BODY
            : '{"unterminated": ';
          res = await req.set('Content-Type', r.contentType).send(raw);
        }
        if (res.status >= 500) {
          throw new Error(`${r.route.method.toUpperCase()} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
        }
        if (res.status >= 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(typeof res.body.code).toBe('string');
          expect(await ledgerFingerprint()).toBe(before);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 300000);
});
