import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { PadronImportService } from '../../src/beneficiaries/padron-import.service';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { createTestApp, TestApp } from '../support/app';

/**
 * Issue 22 item 6: bounds. Every string field of every request schema has a documented maximum
 * length; the standard beneficiary attributes are validated as their types wherever they are sent
 * (API and padrón file); a merchant's address has API.md's address shape.
 */
type Auth = { Authorization: string };
type Schema = { type?: string; enum?: unknown[]; maxLength?: number; properties?: Record<string, Schema>; items?: Schema; $ref?: string };

const fixtures = readProgramFixtures();
const pension = fixtures.find((f) => f.base === 'PENSION-AM')!;
const utiles = fixtures.find((f) => f.base === 'UTILES')!;
const suffix = () => randomUUID().slice(0, 6).toUpperCase().replace(/[^A-Z0-9]/g, 'X');
let homoclave = 0;
const curpFor = (birthDate: string) =>
  buildCurp({ givenNames: 'Rosa', firstSurname: 'Pérez', secondSurname: 'López', birthDate, sex: 'M', state: 'DF', homoclave: birthDate < '2000' ? String(homoclave++ % 10) : 'ABCDEFGHIJ'[homoclave++ % 10] });

describe('hardening: bounds (issue 22 item 6)', () => {
  let t: TestApp;
  let admin: Auth;
  let officer: Auth;
  let doc: { components: { schemas: Record<string, Schema> }; paths: Record<string, Record<string, any>> };

  const program = async (fixture: typeof pension) =>
    (
      await t.http
        .post('/v1/programs')
        .set(admin)
        .send({ code: `${fixture.base}-B${suffix()}`, name: fixture.name, fiscalYear: 2016, instrumentType: fixture.instrumentType, rules: fixture.rules })
        .expect(201)
    ).body as { id: string };

  const enrol = (programId: string, birthDate: string, attributes: Record<string, unknown>) =>
    t.http
      .post(`/v1/programs/${programId}/beneficiaries`)
      .set(officer)
      .send({ curp: curpFor(birthDate), givenNames: 'Rosa', surnames: 'Pérez López', birthDate, address: { state: 'DF' }, applicationDate: '2016-03-01', attributes });

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-06-15T17:00:00Z') });
    admin = (await t.staff('admin')).auth;
    officer = (await t.staff('program_officer')).auth;
    doc = (await t.http.get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  it('documents a maximum length for every string field of every request schema', () => {
    const unbounded: string[] = [];
    const visit = (name: string, s: Schema) => {
      if (s.$ref) return;
      if (s.type === 'string' && !s.enum && s.maxLength === undefined) unbounded.push(name);
      for (const [p, child] of Object.entries(s.properties ?? {})) visit(`${name}.${p}`, child);
      if (s.items) visit(`${name}[]`, s.items);
    };
    const requestSchemas = new Set<string>();
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        const ref: string | undefined = op.requestBody?.content?.['application/json']?.schema?.$ref;
        if (ref) requestSchemas.add(ref.split('/').pop()!);
      }
    }
    expect(requestSchemas.size).toBeGreaterThan(15);
    // Request bodies and the schemas they reference (nested DTOs such as AddressDto).
    for (const name of Object.keys(doc.components.schemas)) {
      if (requestSchemas.has(name) || /Request$|Dto$/.test(name)) visit(name, doc.components.schemas[name]);
    }
    expect(unbounded).toEqual([]);
  });

  it('documents the money pattern (at most 16 integer digits and 2 decimals)', () => {
    const amount = doc.components.schemas.AppropriationRequest.properties!.amount as Schema & { pattern?: string };
    expect(amount).toMatchObject({ type: 'string', maxLength: 19 });
    expect(new RegExp(amount.pattern!).test('9999999999999999.99')).toBe(true);
    expect(new RegExp(amount.pattern!).test('10000000000000000.00')).toBe(false);
  });

  it("refuses a string over its documented maximum with 400 validation_failed", async () => {
    const p = await program(pension);
    const long = await enrol(p.id, '1940-05-10', { residenceSince: '1990-01-01', folioIne: 'x'.repeat(201) });
    expect([long.status, long.body.code]).toEqual([400, 'validation_failed']);
    const longTimeZone = await t.http
      .post('/v1/programs')
      .set(admin)
      .send({ code: `TZ-${suffix()}`, name: 'x', fiscalYear: 2016, instrumentType: 'card', timeZone: 'A'.repeat(65), rules: pension.rules });
    expect([longTimeZone.status, longTimeZone.body.code]).toEqual([400, 'validation_failed']);
  });

  describe('standard attributes are validated as their types wherever they are sent', () => {
    it.each([
      ['schoolLevel not one of preescolar, primaria, secundaria', { schoolLevel: 'universidad' }],
      ['schoolLevel not a string', { schoolLevel: 3 }],
      ['lastPaymentAt not a date', { lastPaymentAt: 'last year' }],
      ['lastPaymentAt an impossible date', { lastPaymentAt: '2015-02-30' }],
      ['residenceSince a number', { residenceSince: 1990 }],
      ['residenceSince an impossible date', { residenceSince: '1990-13-01' }],
      ['an attribute holding an object', { extra: { nested: true } }],
    ])('API enrolment in a program whose rules do not use it: %s → 400 validation_failed', async (_what, bad) => {
      const p = await program(pension);
      const res = await enrol(p.id, '1940-05-10', { residenceSince: '1990-01-01', ...bad });
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      expect(JSON.stringify(res.body.errors)).toContain('attributes');
      const [n] = await t.db.query(`SELECT count(*)::int AS n FROM beneficiaries WHERE program_id = $1`, [p.id]);
      expect(n.n).toBe(0);
    });

    it('API enrolment with well-typed attributes passes (Útiles: schoolLevel; Pensión: residenceSince, lastPaymentAt)', async () => {
      const u = await program(utiles);
      await enrol(u.id, '2008-05-05', { schoolLevel: 'primaria' }).expect(201);
      const p = await program(pension);
      await enrol(p.id, '1940-05-10', { residenceSince: '1990-01-01', lastPaymentAt: '2015-12-01', folioIne: 'A1' }).expect(201);
    });

    it('the padrón file: a school_level outside the standard levels is refused on its line', async () => {
      const p = await program(pension);
      const dir = mkdtempSync(join(tmpdir(), 'padron-bounds-'));
      const file = join(dir, 'padron.csv');
      writeFileSync(
        file,
        [
          'curp,given_names,surnames,birth_date,state,application_date,residence_since,school_level',
          `${curpFor('1940-05-10')},Rosa,Pérez,1940-05-10,DF,2016-03-01,1990-01-01,`,
          `${curpFor('1940-05-10')},Juan,Pérez,1940-05-10,DF,2016-03-01,1990-01-01,universidad`,
        ].join('\n') + '\n',
      );
      const report = await t.app.get(PadronImportService).importFile(p.id, file, { actor: 'test' });
      expect(report.imported).toBe(1);
      expect(report.rejections).toEqual([{ line: 3, reason: expect.stringMatching(/^attributes\.schoolLevel must be one of preescolar, primaria, secundaria/) }]);
    });
  });

  describe("the merchant address has API.md's address shape", () => {
    it('documents it as the address schema', () => {
      expect(JSON.stringify(doc.components.schemas.CreateMerchantRequest.properties!.address)).toContain('#/components/schemas/AddressDto');
    });

    it.each([
      ['no state', { street: 'Av. Juárez 10' }],
      ['an unknown state', { state: 'XX' }],
      ['an unknown field', { state: 'DF', floor: 3 }],
      ['a postal code of 4 digits', { state: 'DF', postalCode: '0600' }],
      ['a street of 201 characters', { state: 'DF', street: 'x'.repeat(201) }],
      ['a number as street', { state: 'DF', street: 10 }],
    ])('%s → 400 validation_failed, no merchant', async (_what, address) => {
      const name = `Tienda ${randomUUID()}`;
      const res = await t.http.post('/v1/merchants').set(admin).send({ name, category: 'grocery', address });
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      const [n] = await t.db.query(`SELECT count(*)::int AS n FROM merchants WHERE name = $1`, [name]);
      expect(n.n).toBe(0);
    });

    it('the full shape is accepted and kept', async () => {
      const address = { street: 'Av. Juárez 10', colonia: 'Centro', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06000' };
      const res = await t.http.post('/v1/merchants').set(admin).send({ name: `Tienda ${suffix()}`, category: 'grocery', address }).expect(201);
      const [row] = await t.db.query(`SELECT address FROM merchants WHERE id = $1`, [res.body.id]);
      expect(row.address).toEqual(address);
    });
  });
});
