import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../support/app';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';

/**
 * Thousands of generated requests against every route of the OpenAPI document: bodies, headers
 * and paths. No request may get a 500, and no refused request (4xx) may change the ledger.
 * Runs on a database of its own so the ledger fingerprint is not moved by other test files.
 */
interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  fields: string[];
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);

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
    fc.constantFrom('10.00', '0.00', '-1.00', '1.005', '1e9', '99999999999999999999', '', 'MXN', randomUUID(), '2016-03', '2016-02-30'),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  );

  it(`survives ${RUNS} generated requests`, async () => {
    expect(routes.length).toBeGreaterThan(3);
    const requestArb = fc.record({
      route: fc.constantFrom(...routes),
      pathParam: fc.oneof(fc.uuid(), fc.constantFrom('..', '%00', 'x'.repeat(300), '1', "'; DROP TABLE postings; --", 'ñ', '%ZZ')),
      knownFields: fc.dictionary(fc.constantFrom('amount', 'pin', 'curp', 'period', 'kind', 'username', 'password', 'programId', 'cause', 'code'), jsonValue, { maxKeys: 4 }),
      extraFields: fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 }),
      bodyShape: fc.constantFrom('object', 'object', 'object', 'array', 'string', 'none', 'garbage'),
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
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 300000);
});
