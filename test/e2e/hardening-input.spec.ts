import { randomUUID } from 'node:crypto';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { MAX_JSON_DEPTH } from '../../src/common/input-guard';
import { LedgerService } from '../../src/ledger/ledger.service';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram as createMerchantProgram, FixtureMerchant, idem } from '../support/merchant-fixtures';

/**
 * Issue 22 item 1: hostile text and shapes are refused at the edge with a stable problem code and
 * write nothing. NUL characters and lone surrogates in any text field (PostgreSQL stores
 * neither), a 10,000-level nested body (under the body limit), and appropriations that would take
 * an account's running totals past NUMERIC(20,2).
 */
type Auth = { Authorization: string };

const pension = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;
const suffix = () => randomUUID().slice(0, 6).toUpperCase().replace(/[^A-Z0-9]/g, 'X');
let homoclave = 0;
const curp = () => buildCurp({ givenNames: 'Rosa', firstSurname: 'Pérez', secondSurname: 'López', birthDate: '1940-05-10', sex: 'M', state: 'DF', homoclave: String(homoclave++ % 10) });

describe('hardening: hostile input is refused at the edge (issue 22 item 1)', () => {
  let t: TestApp;
  let admin: Auth;
  let officer: Auth;
  let programId: string;
  let merchant: FixtureMerchant;

  const count = async (sql: string, params: unknown[] = []) => Number((await t.db.query(sql, params))[0].n);

  const person = (overrides: Record<string, unknown> = {}) => ({
    curp: curp(),
    givenNames: 'Rosa María',
    surnames: 'Pérez López',
    birthDate: '1940-05-10',
    address: { street: 'Dr. Lavista 181', colonia: 'Doctores', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06720' },
    applicationDate: '2016-03-01',
    attributes: { residenceSince: '1990-01-01' },
    ...overrides,
  });

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-06-15T17:00:00Z') });
    admin = (await t.staff('admin')).auth;
    officer = (await t.staff('program_officer')).auth;
    const program = await t.http
      .post('/v1/programs')
      .set(admin)
      .send({ code: `HARD-${suffix()}`, name: pension.name, fiscalYear: 2016, instrumentType: 'card', rules: pension.rules })
      .expect(201);
    programId = program.body.id;
    merchant = await createMerchant(t, { auth: admin });
  });
  afterAll(() => t.close());

  const beneficiaries = () => count(`SELECT count(*) AS n FROM beneficiaries WHERE program_id = $1`, [programId]);

  it('a valid enrolment still passes (the check refuses only what cannot be stored)', async () => {
    await t.http.post(`/v1/programs/${programId}/beneficiaries`).set(officer).send(person({ givenNames: 'José Ñandú 😀' })).expect(201);
  });

  it.each([
    ['givenNames', { givenNames: 'Rosa\u0000María' }, 'body.givenNames'],
    ['address.street', { address: { street: 'Calle\u00001', state: 'DF' } }, 'body.address.street'],
    ['a lone high surrogate in surnames', { surnames: 'Pérez \ud800' }, 'body.surnames'],
    ['a lone low surrogate in an attribute (jsonb)', { attributes: { residenceSince: '1990-01-01', folio: 'x\udc00' } }, 'body.attributes.folio'],
    ['a NUL in an attribute key', { attributes: { residenceSince: '1990-01-01', 'a\u0000b': 'x' } }, 'body.attributes.a\ufffdb'],
  ])('enrolment with %s → 400 invalid_text, nothing written', async (_what, overrides, field) => {
    const before = await beneficiaries();
    const res = await t.http.post(`/v1/programs/${programId}/beneficiaries`).set(officer).send(person(overrides));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'invalid_text', field });
    expect(await beneficiaries()).toBe(before);
  });

  it('a merchant name or address with a NUL or a lone surrogate → 400 invalid_text, no merchant', async () => {
    const before = await count(`SELECT count(*) AS n FROM merchants`);
    const nul = await t.http.post('/v1/merchants').set(admin).send({ name: 'Tienda\u0000', category: 'grocery', address: { state: 'DF' } });
    expect([nul.status, nul.body.code]).toEqual([400, 'invalid_text']);
    const surrogate = await t.http.post('/v1/merchants').set(admin).send({ name: 'Tienda', category: 'grocery', address: { street: '\udfff', state: 'DF' } });
    expect([surrogate.status, surrogate.body.code]).toEqual([400, 'invalid_text']);
    expect(await count(`SELECT count(*) AS n FROM merchants`)).toBe(before);
  });

  it('a redemption reference with a NUL on the till path → 400 invalid_text, no money moves', async () => {
    const ledger = t.app.get(LedgerService);
    const program = await createMerchantProgram(t.db, ledger);
    const card = await createInstrument(t.db, ledger, program, { balance: '500.00' });
    const res = await t.http
      .post('/v1/redemptions')
      .set(merchant.headers)
      .set(idem())
      .send({ instrumentNumber: card.number, pin: card.pin, amount: '10.00', reference: 'ticket\u00001' });
    expect([res.status, res.body.code]).toEqual([400, 'invalid_text']);
    expect(await count(`SELECT count(*) AS n FROM redemptions WHERE instrument_id = $1`, [card.id])).toBe(0);
    const [balance] = await t.db.query(`SELECT posted_credits - posted_debits AS b FROM ledger_accounts WHERE id = $1`, [card.accountId]);
    expect(balance.b).toBe('500.00');
  });

  it('a NUL in a query parameter → 400 invalid_text', async () => {
    const res = await t.http.get(`/v1/programs?code=PENSION%00`).set(admin);
    expect([res.status, res.body.code]).toEqual([400, 'invalid_text']);
  });

  it(`a 10,000-level nested body (about 60 KB, under the body limit) → 400 nesting_too_deep; ${MAX_JSON_DEPTH} levels are the limit`, async () => {
    let deep = '{}';
    for (let i = 0; i < 10000; i++) deep = `{"a":${deep}}`;
    expect(deep.length).toBeLessThan(1024 * 1024);
    const before = await count(`SELECT count(*) AS n FROM programs`);
    const body = `{"code":"DEEP-${suffix()}","name":"x","fiscalYear":2016,"instrumentType":"card","rules":${deep}}`;
    const res = await t.http.post('/v1/programs').set(admin).set('Content-Type', 'application/json').send(body);
    expect([res.status, res.body.code]).toEqual([400, 'nesting_too_deep']);
    const arrays = await t.http.post('/v1/auth/token').set('Content-Type', 'application/json').send('['.repeat(10000) + ']'.repeat(10000));
    expect([arrays.status, arrays.body.code]).toEqual([400, 'nesting_too_deep']);
    expect(await count(`SELECT count(*) AS n FROM programs`)).toBe(before);
    // Within the limit the request reaches validation as usual (the rules schema refuses the shape).
    let atLimit = '{}';
    for (let i = 0; i < MAX_JSON_DEPTH - 2; i++) atLimit = `{"a":${atLimit}}`;
    const ok = await t.http.post('/v1/programs').set(admin).set('Content-Type', 'application/json').send(`{"code":"DEEP-${suffix()}","name":"x","fiscalYear":2016,"instrumentType":"card","rules":${atLimit}}`);
    expect([ok.status, ok.body.code]).toEqual([400, 'validation_failed']);
  });

  it('appropriations that would overflow the running totals → 422 amount_out_of_range, nothing posted', async () => {
    // A currency of its own, so the treasury account whose totals are pushed to the limit is this test's.
    const currency = `Q${String.fromCharCode(65 + Math.floor(Math.random() * 26))}${String.fromCharCode(65 + Math.floor(Math.random() * 26))}`;
    const program = await t.http
      .post('/v1/programs')
      .set(admin)
      .send({ code: `OVER-${suffix()}`, name: pension.name, fiscalYear: 2016, instrumentType: 'card', currency, rules: pension.rules })
      .expect(201);
    const largest = '9999999999999999.99';
    let refused: { status: number; body: Record<string, unknown> } | null = null;
    let accepted = 0;
    const entries = () => count(`SELECT count(*) AS n FROM postings WHERE account_id = $1`, [program.body.budgetAccountId]);
    for (let i = 0; i < 200 && !refused; i++) {
      const before = await entries();
      const res = await t.http.post(`/v1/programs/${program.body.id}/appropriations`).set(admin).set(idem()).send({ amount: largest, reference: `over ${i}` });
      if (res.status === 201) accepted++;
      else {
        refused = res;
        expect(await entries()).toBe(before);
      }
    }
    expect(accepted).toBe(100);
    expect(refused).toMatchObject({ status: 422, body: { code: 'amount_out_of_range' } });
    const after = await t.http.get(`/v1/programs/${program.body.id}`).set(admin).expect(200);
    expect(after.body.budget.appropriated).toBe('999999999999999999.00');
  });
});
