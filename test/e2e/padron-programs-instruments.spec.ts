import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { PadronImportService } from '../../src/beneficiaries/padron-import.service';
import { instrumentNumberHash, pinHash } from '../../src/common/auth/secrets';
import { money } from '../../src/common/money';
import { loadConfig } from '../../src/config/config';
import { InstrumentsService } from '../../src/instruments/instruments.service';
import { isInstrumentNumber } from '../../src/instruments/instrument-number.rules';
import { LedgerService } from '../../src/ledger/ledger.service';
import { ProgramsService } from '../../src/programs/programs.service';
import { createTestApp, TestApp } from '../support/app';

type Auth = { Authorization: string };
const suffix = () => randomUUID().slice(0, 6).toUpperCase().replace(/[^A-Z0-9]/g, 'X');
let homoclave = 0;
/** A fresh valid CURP for a person born on birthDate. */
function curpFor(birthDate: string, state: 'DF' | 'MC' = 'DF') {
  const h = birthDate < '2000' ? String(homoclave++ % 10) : 'ABCDEFGHIJ'[homoclave++ % 10];
  const names = ['Rosa', 'Juan', 'Pedro', 'Lucía', 'Mario', 'Elena', 'Tomás', 'Irma', 'Hugo', 'Nora', 'Saúl', 'Olga'];
  const given = names[homoclave % names.length];
  return buildCurp({ givenNames: given, firstSurname: names[(homoclave * 7) % names.length] + 'ez', secondSurname: names[(homoclave * 5) % names.length], birthDate, sex: 'M', state, homoclave: h });
}

describe('programs, padrón and instruments (API.md)', () => {
  let t: TestApp;
  let admin: Auth;
  let officer: Auth;
  let finance: Auth;
  let auditor: Auth;
  let pension: { id: string; code: string; budgetAccountId: string; reintegroAccountId: string };
  let ledger: LedgerService;

  const pensionRules = {
    benefit: { type: 'unidades_de_cuenta', unitValue: '71.68', factor: '15' },
    schedule: { frequency: 'monthly', dayOfMonth: 1 },
    eligibility: { minAge: 68, minResidenceYears: 3, residenceStates: ['DF'] },
    reentryLimit: 3,
  };

  async function createProgram(body: Record<string, unknown>) {
    const res = await t.http.post('/v1/programs').set(admin).send(body);
    expect(res.status).toBe(201);
    return res.body;
  }

  async function enrol(programId: string, overrides: Record<string, unknown> = {}, auth: Auth = officer) {
    const birthDate = (overrides.birthDate as string) ?? '1940-05-10';
    return t.http
      .post(`/v1/programs/${programId}/beneficiaries`)
      .set(auth)
      .send({
        curp: curpFor(birthDate),
        givenNames: 'Rosa María',
        surnames: 'Pérez López',
        birthDate,
        address: { street: 'Dr. Lavista 181', colonia: 'Doctores', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06720' },
        applicationDate: '2016-03-01',
        attributes: { residenceSince: '1990-01-01' },
        ...overrides,
      });
  }

  /** Budget → instrument, as a cycle deposit would. */
  async function deposit(programBudget: string, instrumentAccount: string, amount: string) {
    await ledger.post({
      kind: 'deposit',
      idempotencyKey: `test-deposit:${randomUUID()}`,
      effectiveAt: t.clock.now(),
      postings: [
        { accountId: programBudget, side: 'debit', amount: money(amount) },
        { accountId: instrumentAccount, side: 'credit', amount: money(amount) },
      ],
    });
  }

  async function activeCard(programId: string) {
    const b = await enrol(programId);
    expect(b.status).toBe(201);
    const issued = await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(officer).expect(201);
    const delivered = await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer).send({ pin: '4321' }).expect(200);
    return { beneficiaryId: b.body.id as string, instrument: delivered.body, number: issued.body.number as string };
  }

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-06-15T17:00:00Z') });
    ledger = t.app.get(LedgerService);
    admin = (await t.staff('admin')).auth;
    officer = (await t.staff('program_officer')).auth;
    finance = (await t.staff('finance_operator')).auth;
    auditor = (await t.staff('auditor')).auth;
    pension = await createProgram({ code: `PENSION-T-${suffix()}`, name: 'Pensión test', fiscalYear: 2016, instrumentType: 'card', rules: pensionRules });
    await t.http.post(`/v1/programs/${pension.id}/appropriations`).set(finance).set('Idempotency-Key', `seed-${pension.id}`).send({ amount: '100000.00', reference: 'test' }).expect(201);
  });
  afterAll(() => t.close());

  describe('programs and appropriations', () => {
    it('creates a program with its two ledger accounts; only admins may', async () => {
      const body = { code: `X-${suffix()}`, name: 'x', fiscalYear: 2016, instrumentType: 'card', rules: pensionRules };
      await t.http.post('/v1/programs').set(officer).send(body).expect(403);
      const p = await createProgram(body);
      const budget = await ledger.findAccount(p.budgetAccountId);
      const reintegro = await ledger.findAccount(p.reintegroAccountId);
      expect(budget).toMatchObject({ code: `program:${p.id}:budget`, category: 'program_budget', noNegativeBalance: true });
      expect(reintegro).toMatchObject({ code: `program:${p.id}:reintegro`, category: 'reintegro_payable' });
      expect(p.budget).toEqual({ appropriated: '0.00', committed: '0.00', disbursed: '0.00', available: '0.00', reintegrated: '0.00' });
      const dup = await t.http.post('/v1/programs').set(admin).send(body).expect(409);
      expect(dup.body.code).toBe('duplicate_program');
    });

    it('validates rules as data: unknown fields, bad money, a voucher without expiry', async () => {
      const bad = await t.http
        .post('/v1/programs')
        .set(admin)
        .send({ code: `B-${suffix()}`, name: 'b', fiscalYear: 2016, instrumentType: 'card', rules: { benefit: { type: 'fixed', amount: '10.001' } } })
        .expect(400);
      expect(bad.body.code).toBe('validation_failed');
      expect(bad.body.detail).toMatch(/rules\.benefit\.amount/);
      const extra = await t.http
        .post('/v1/programs')
        .set(admin)
        .send({ code: `B-${suffix()}`, name: 'b', fiscalYear: 2016, instrumentType: 'card', rules: { benefit: { type: 'fixed', amount: '10.00' }, bogus: 1 } })
        .expect(400);
      expect(extra.body.code).toBe('validation_failed');
      const voucher = await t.http
        .post('/v1/programs')
        .set(admin)
        .send({ code: `B-${suffix()}`, name: 'b', fiscalYear: 2016, instrumentType: 'voucher', rules: { benefit: { type: 'fixed', amount: '10.00' } } })
        .expect(400);
      expect(voucher.body.detail).toMatch(/voucherExpiresOn/);
    });

    it('appropriates treasury money into the budget, idempotently, and reports the budget from the ledger', async () => {
      const p = await createProgram({ code: `AP-${suffix()}`, name: 'ap', fiscalYear: 2016, instrumentType: 'card', rules: pensionRules });
      const key = randomUUID();
      const first = await t.http.post(`/v1/programs/${p.id}/appropriations`).set(finance).set('Idempotency-Key', key).send({ amount: '5000.50', reference: 'oficio 1' }).expect(201);
      const again = await t.http.post(`/v1/programs/${p.id}/appropriations`).set(finance).set('Idempotency-Key', key).send({ amount: '5000.50', reference: 'oficio 1' }).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.journalEntryId).toBe(first.body.journalEntryId);
      const entry = await ledger.findEntry(first.body.journalEntryId);
      expect(entry.kind).toBe('appropriation');
      await t.http.post(`/v1/programs/${p.id}/appropriations`).set(finance).set('Idempotency-Key', randomUUID()).send({ amount: 5000, reference: 'x' }).expect(400);
      await t.http.post(`/v1/programs/${p.id}/appropriations`).set(finance).send({ amount: '1.00', reference: 'x' }).expect(400);
      await t.http.post(`/v1/programs/${p.id}/appropriations`).set(officer).set('Idempotency-Key', randomUUID()).send({ amount: '1.00', reference: 'x' }).expect(403);

      // Money leaves the budget to a card: disbursed = appropriated − available.
      const card = await activeCard(p.id);
      await deposit(p.budgetAccountId, card.instrument.accountId, '1075.20');
      const got = await t.http.get(`/v1/programs/${p.id}`).set(auditor).expect(200);
      expect(got.body.budget).toEqual({ appropriated: '5000.50', committed: '0.00', disbursed: '1075.20', available: '3925.30', reintegrated: '0.00' });
      const byCode = await t.http.get(`/v1/programs?code=${p.code}`).set(officer).expect(200);
      expect(byCode.body.data.map((x: { id: string }) => x.id)).toEqual([p.id]);
    });

    it('loads every seed fixture, idempotently, and with --fiscal-year moves its dates', async () => {
      const programs = t.app.get(ProgramsService);
      const year = 2090 + Math.floor(Math.random() * 9);
      const first = await programs.loadFixtures({ fiscalYear: year }, 'test');
      expect(first.map((r) => r.code)).toEqual(
        [
          'PENSION-AM', 'UNIFORMES', 'UTILES', 'SEGURO-VF', 'DESEMPLEO', 'PROFACE', 'COOPERATIVAS', 'ECONOMIA-SOCIAL', 'FONAES', 'FONDESOC',
          'REINSERCION', 'MI-PRIMER-TRABAJO', 'TRABAJO-DIGNO-SCAPAT', 'PACTYFP', 'COINVERSION', 'PROFAIS', 'COMEDORES-PUBLICOS', 'ALIMENTATE', 'CALLE',
          'CALI-FONDO-SOLIDARIO', 'CALI-CAPITAL-SEMILLA', 'COMEDORES-COMUNITARIOS',
        ].map((b) => `${b}-${year}`),
      );
      expect(first.every((r) => r.created)).toBe(true);
      // Only this load's accounts: other test files create accounts in the same database concurrently.
      const ids = first.map((r) => r.id);
      const countAccounts = async () =>
        (await t.db.query(`SELECT count(*)::int AS n FROM ledger_accounts WHERE program_id = ANY ($1) OR code = 'treasury:MXN'`, [ids]))[0].n;
      const accountsBefore = await countAccounts();
      const second = await programs.loadFixtures({ fiscalYear: year, appropriate: true }, 'test');
      const third = await programs.loadFixtures({ fiscalYear: year, appropriate: true }, 'test');
      expect(second.some((r) => r.created)).toBe(false);
      expect(third.map((r) => r.id)).toEqual(first.map((r) => r.id));
      // Only the treasury account may be new; appropriation posted once despite two loads.
      expect((await countAccounts()) - accountsBefore).toBeLessThanOrEqual(1);
      const uniformes = await programs.findByCode(`UNIFORMES-${year}`);
      expect(uniformes!.rules.voucherExpiresOn).toBe(`${year}-12-31`);
      expect(uniformes!.instrumentType).toBe('voucher');
      const seguro = await programs.findByCode(`SEGURO-VF-${year}`);
      expect(seguro!.confidential).toBe(true);
      const pensionSeed = await programs.findByCode(`PENSION-AM-${year}`);
      expect((await programs.budget(pensionSeed!)).appropriated.toFixed(2)).toBe('6676950641.00');
    });
  });

  describe('padrón', () => {
    it('enrols with a folio, incorporated on the application date (P20), and keeps who and when', async () => {
      const res = await enrol(pension.id);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'active', incorporatedOn: '2016-03-01' });
      expect(res.body.folio).toMatch(new RegExp(`^${pension.code}-\\d{8}$`));
      const history = await t.http.get(`/v1/beneficiaries/${res.body.id}/history`).set(auditor).expect(200);
      expect(history.body.data).toEqual([expect.objectContaining({ fromStatus: null, toStatus: 'active', cause: 'enrolment', actor: expect.stringMatching(/^user:program_officer-/) })]);
    });

    it('refuses an invalid CURP with 400 invalid_curp, and one that contradicts the birth date', async () => {
      const bad = await enrol(pension.id, { curp: 'HEGG560427MVZRRL05' });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('invalid_curp');
      const mismatch = await enrol(pension.id, { curp: 'HEGG560427MVZRRL04', birthDate: '1940-05-10' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.code).toBe('invalid_curp');
    });

    it('evaluates age at the application date: 67 at filing is refused even if 68 now (422 not_eligible)', async () => {
      const res = await enrol(pension.id, { birthDate: '1948-03-02', applicationDate: '2016-03-01' });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('not_eligible');
      expect(res.body.detail).toMatch(/eligibility\.minAge/);
      const ok = await enrol(pension.id, { birthDate: '1948-03-01', applicationDate: '2016-03-01' });
      expect(ok.status).toBe(201);
      const outside = await enrol(pension.id, { address: { state: 'MC' } });
      expect(outside.status).toBe(422);
      expect(outside.body.rule).toBe('eligibility.residenceStates');
    });

    it('answers 409 duplicate_beneficiary for a second active enrolment of the same CURP', async () => {
      const first = await enrol(pension.id);
      const curp = (await t.http.get(`/v1/beneficiaries/${first.body.id}`).set(officer).expect(200)).body.curp;
      const again = await enrol(pension.id, { curp });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('duplicate_beneficiary');
    });

    it('baja: blocks the card, voids its holds and moves the whole balance to reintegro in one entry', async () => {
      const { beneficiaryId, instrument } = await activeCard(pension.id);
      await deposit(pension.budgetAccountId, instrument.accountId, '2150.40');
      const hold = await ledger.authorizeHold({ accountId: instrument.accountId, amount: money('100.00'), expiresAt: new Date('2016-06-16T00:00:00Z'), now: t.clock.now() });
      const before = await t.http.get(`/v1/programs/${pension.id}`).set(auditor).expect(200);

      const res = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/deactivate`).set(officer).send({ cause: 'death', effectiveDate: '2016-06-10', note: 'acta 123' }).expect(200);
      expect(res.body).toMatchObject({ status: 'inactive', cause: 'death', instrumentsBlocked: 1, reintegro: { amount: '2150.40' } });
      const entry = await ledger.findEntry(res.body.reintegro.journalEntryId);
      expect(entry.kind).toBe('baja_reintegro');
      expect(entry.metadata).toMatchObject({ beneficiaryId, cause: 'death', instrumentIds: [instrument.id] });
      expect(entry.postings).toEqual(
        expect.arrayContaining([
          { accountId: instrument.accountId, side: 'debit', amount: '2150.40' },
          { accountId: pension.reintegroAccountId, side: 'credit', amount: '2150.40' },
        ]),
      );
      expect((await ledger.findHold(hold.holdId))!.status).toBe('voided');
      const card = await t.http.get(`/v1/instruments/${instrument.id}`).set(officer).expect(200);
      expect(card.body).toMatchObject({ status: 'blocked', blockedReason: 'baja', balance: { posted: '0.00', pending: '0.00', available: '0.00' } });
      const after = await t.http.get(`/v1/programs/${pension.id}`).set(auditor).expect(200);
      expect(money(after.body.budget.reintegrated).minus(before.body.budget.reintegrated).toFixed(2)).toBe('2150.40');
      const history = await t.http.get(`/v1/beneficiaries/${beneficiaryId}/history`).set(auditor).expect(200);
      expect(history.body.data[1]).toMatchObject({ fromStatus: 'active', toStatus: 'inactive', cause: 'death', effectiveDate: '2016-06-10', note: 'acta 123' });

      const again = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/deactivate`).set(officer).send({ cause: 'death', effectiveDate: '2016-06-10' });
      expect(again.status).toBe(409);
      const badCause = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/deactivate`).set(officer).send({ cause: 'moved', effectiveDate: '2016-06-10' });
      expect(badCause.status).toBe(400);
      const reentry = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/reactivate`).set(officer);
      expect(reentry.status).toBe(422);
      expect(reentry.body.code).toBe('reentry_not_allowed');
    });

    it('reingreso restores the card, re-incorporates from today, and the fourth is refused (P43)', async () => {
      const { beneficiaryId, instrument } = await activeCard(pension.id);
      for (let i = 1; i <= 3; i++) {
        await t.http.post(`/v1/beneficiaries/${beneficiaryId}/deactivate`).set(officer).send({ cause: 'not_located', effectiveDate: '2016-06-01' }).expect(200);
        const back = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/reactivate`).set(officer).expect(200);
        expect(back.body).toMatchObject({ status: 'active', reentryCount: i, incorporatedOn: '2016-06-15' });
      }
      const card = await t.http.get(`/v1/instruments/${instrument.id}`).set(officer).expect(200);
      expect(card.body.status).toBe('active');
      await t.http.post(`/v1/beneficiaries/${beneficiaryId}/deactivate`).set(officer).send({ cause: 'not_located', effectiveDate: '2016-06-01' }).expect(200);
      const fourth = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/reactivate`).set(officer);
      expect(fourth.status).toBe(422);
      expect(fourth.body.code).toBe('reentry_limit_reached');
      const history = await t.http.get(`/v1/beneficiaries/${beneficiaryId}/history`).set(auditor).expect(200);
      expect(history.body.data.map((h: { toStatus: string }) => h.toStatus)).toEqual(['active', 'inactive', 'active', 'inactive', 'active', 'inactive', 'active', 'inactive']);
    });

    it('baja for an uncollected card cancels it and reintegrates the full amount (P22)', async () => {
      const b = await enrol(pension.id);
      const issued = await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(officer).expect(201);
      await deposit(pension.budgetAccountId, (await t.http.get(`/v1/instruments/${issued.body.id}`).set(officer)).body.accountId, '1075.20');
      const res = await t.http.post(`/v1/beneficiaries/${b.body.id}/deactivate`).set(officer).send({ cause: 'card_not_collected', effectiveDate: '2016-06-14' }).expect(200);
      expect(res.body.reintegro.amount).toBe('1075.20');
      const card = await t.http.get(`/v1/instruments/${issued.body.id}`).set(officer).expect(200);
      expect(card.body.status).toBe('cancelled');
    });
  });

  describe('instruments', () => {
    it('issues a 16-digit Luhn number shown once, stored only as a hash; delivery sets a hashed PIN', async () => {
      const b = await enrol(pension.id);
      const issued = await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(officer).expect(201);
      expect(issued.body).toMatchObject({ kind: 'card', status: 'issued', expiresAt: null });
      expect(isInstrumentNumber(issued.body.number)).toBe(true);
      const row = (await t.db.query(`SELECT number_hash, last4, pin_hash FROM instruments WHERE id = $1`, [issued.body.id]))[0];
      const secret = loadConfig().INSTRUMENT_NUMBER_SECRET;
      expect(row.number_hash).toBe(instrumentNumberHash(issued.body.number, secret));
      expect(row.last4).toBe(issued.body.number.slice(-4));
      expect(row.pin_hash).toBeNull();
      const account = await ledger.findAccountByCode(`instrument:${issued.body.id}`);
      expect(account).toMatchObject({ category: 'instrument', noNegativeBalance: true, ownerType: 'instrument', programId: pension.id });

      const got = await t.http.get(`/v1/instruments/${issued.body.id}`).set(officer).expect(200);
      expect(got.body.number).toBeUndefined();
      expect(got.body.maskedNumber).toBe(`************${issued.body.number.slice(-4)}`);
      await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(officer).expect(409);

      await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer).send({ pin: '12' }).expect(400);
      await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer).send({ pin: 1234 }).expect(400);
      const delivered = await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer).send({ pin: '123456' }).expect(200);
      expect(delivered.body.status).toBe('active');
      const pinRow = (await t.db.query(`SELECT pin_hash FROM instruments WHERE id = $1`, [issued.body.id]))[0];
      expect(pinRow.pin_hash).toBe(pinHash(row.number_hash, '123456', secret));
      await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer).send({ pin: '1234' }).expect(409);
    });

    it('blocks and unblocks; unblock also clears a PIN lock', async () => {
      const { instrument } = await activeCard(pension.id);
      const blocked = await t.http.post(`/v1/instruments/${instrument.id}/block`).set(officer).expect(200);
      expect(blocked.body).toMatchObject({ status: 'blocked', blockedReason: 'manual' });
      const unblocked = await t.http.post(`/v1/instruments/${instrument.id}/unblock`).set(officer).expect(200);
      expect(unblocked.body).toMatchObject({ status: 'active', blockedReason: null });
      await t.http.post(`/v1/instruments/${instrument.id}/unblock`).set(officer).expect(409);
      await t.db.query(`UPDATE instruments SET failed_pin_attempts = 3, pin_locked = true WHERE id = $1`, [instrument.id]);
      const unlocked = await t.http.post(`/v1/instruments/${instrument.id}/unblock`).set(officer).expect(200);
      expect(unlocked.body).toMatchObject({ status: 'active', pinLocked: false, failedPinAttempts: 0 });
    });

    it('replacement moves the whole balance to the new card in one journal entry; the old one is replaced', async () => {
      const { beneficiaryId, instrument } = await activeCard(pension.id);
      await deposit(pension.budgetAccountId, instrument.accountId, '3225.60');
      const hold = await ledger.authorizeHold({ accountId: instrument.accountId, amount: money('10.00'), expiresAt: new Date('2016-06-16T00:00:00Z'), now: t.clock.now() });
      const refused = await t.http.post(`/v1/instruments/${instrument.id}/replace`).set(officer);
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('instrument_has_holds');
      await ledger.releaseHold(hold.holdId, 'voided', t.clock.now());

      const res = await t.http.post(`/v1/instruments/${instrument.id}/replace`).set(officer).expect(201);
      expect(res.body).toMatchObject({ status: 'issued', replacesId: instrument.id, balanceMoved: '3225.60', beneficiaryId });
      expect(isInstrumentNumber(res.body.number)).toBe(true);
      const entry = await ledger.findEntry(res.body.journalEntryId);
      expect(entry.kind).toBe('replacement');
      expect(entry.postings).toHaveLength(2);
      const old = await t.http.get(`/v1/instruments/${instrument.id}`).set(officer).expect(200);
      expect(old.body).toMatchObject({ status: 'replaced', balance: { posted: '0.00' } });
      const fresh = await t.http.get(`/v1/instruments/${res.body.id}`).set(officer).expect(200);
      expect(fresh.body.balance).toEqual({ posted: '3225.60', pending: '0.00', available: '3225.60' });
      await t.http.post(`/v1/instruments/${instrument.id}/replace`).set(officer).expect(409);
      // The replacement needs its own delivery with a new PIN.
      await t.http.post(`/v1/instruments/${res.body.id}/deliver`).set(officer).send({ pin: '9999' }).expect(200);
    });

    it('vouchers expire at the end of rules.voucherExpiresOn in the program time zone', async () => {
      const p = await createProgram({
        code: `UTILES-T-${suffix()}`,
        name: 'Útiles test',
        fiscalYear: 2016,
        instrumentType: 'voucher',
        rules: {
          benefit: { type: 'by_attribute', attribute: 'schoolLevel', amounts: { preescolar: '60.00', primaria: '110.00', secundaria: '150.00' } },
          voucherExpiresOn: '2016-12-31',
          eligibility: { residenceStates: ['DF'], schoolLevels: ['preescolar', 'primaria', 'secundaria'] },
        },
      });
      const noLevel = await enrol(p.id, { birthDate: '2008-05-05', attributes: {} });
      expect(noLevel.status).toBe(422);
      const pupil = await enrol(p.id, { birthDate: '2008-05-05', attributes: { schoolLevel: 'primaria' } });
      expect(pupil.status).toBe(201);
      const v = await t.http.post(`/v1/beneficiaries/${pupil.body.id}/instruments`).set(officer).expect(201);
      // Mexico City was UTC−6 on 1 January 2017: the voucher works through 31 December local time.
      expect(v.body).toMatchObject({ kind: 'voucher', expiresAt: '2017-01-01T06:00:00.000Z' });
    });
  });

  describe('data protection', () => {
    it('confidential programs hide identity from officers not assigned; auditors and assigned officers see it', async () => {
      const p = await createProgram({
        code: `SEGURO-T-${suffix()}`,
        name: 'Seguro test',
        fiscalYear: 2016,
        instrumentType: 'bank_account',
        confidential: true,
        rules: { benefit: { type: 'fixed', amount: '1537.00' }, eligibility: { minAge: 18, residenceStates: ['DF'] } },
      });
      const assigned = await t.staff('program_officer');
      const other = await t.staff('program_officer');
      const refused = await enrol(p.id, { birthDate: '1985-01-01' }, other.auth);
      expect(refused.status).toBe(403);
      await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [assigned.id, p.id]);
      const b = await enrol(p.id, { birthDate: '1985-01-01' }, assigned.auth);
      expect(b.status).toBe(201);

      const hidden = await t.http.get(`/v1/beneficiaries/${b.body.id}`).set(other.auth).expect(200);
      expect(hidden.body).toMatchObject({ identityWithheld: true, folio: b.body.folio });
      expect(hidden.body.curp).toBeUndefined();
      expect(hidden.body.givenNames).toBeUndefined();
      expect(hidden.body.address).toBeUndefined();
      const list = await t.http.get(`/v1/programs/${p.id}/beneficiaries`).set(other.auth).expect(200);
      expect(list.body.data[0].curp).toBeUndefined();
      await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(other.auth).expect(403);
      await t.http.post(`/v1/beneficiaries/${b.body.id}/deactivate`).set(other.auth).send({ cause: 'death', effectiveDate: '2016-06-01' }).expect(403);

      const seen = await t.http.get(`/v1/beneficiaries/${b.body.id}`).set(assigned.auth).expect(200);
      expect(seen.body).toMatchObject({ identityWithheld: false, givenNames: 'Rosa María' });
      const audited = await t.http.get(`/v1/beneficiaries/${b.body.id}`).set(auditor).expect(200);
      expect(audited.body.curp).toHaveLength(18);
      await t.http.get(`/v1/beneficiaries/${b.body.id}`).set(finance).expect(403);

      // X2/S11: a confidential program's padrón is not published at all.
      expect((await t.http.get(`/v1/programs/${p.id}/padron.csv`).expect(403)).body.code).toBe('forbidden');
      await t.http.get(`/v1/programs/${p.id}/padron.json`).expect(403);
    });

    it('the public padrón export has no CURP, birth date or address', async () => {
      const b = await enrol(pension.id);
      const full = (await t.http.get(`/v1/beneficiaries/${b.body.id}`).set(officer).expect(200)).body;
      const csv = await t.http.get(`/v1/programs/${pension.id}/padron.csv`).expect(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.text.split('\r\n')[0]).toBe('folio,given_names,surnames,sex,municipality,state,status,incorporated_on');
      expect(csv.text).toContain(full.folio);
      expect(csv.text).not.toContain(full.curp);
      expect(csv.text).not.toContain(full.birthDate);
      expect(csv.text).not.toContain('Dr. Lavista');
      expect(csv.text).not.toContain('06720');
      const json = await t.http.get(`/v1/programs/${pension.id}/padron.json`).expect(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const row = JSON.parse(json.text).find((r: { folio: string }) => r.folio === full.folio);
      expect(Object.keys(row)).toEqual(['folio', 'givenNames', 'surnames', 'sex', 'municipality', 'state', 'status', 'incorporatedOn']);
      expect(json.text).not.toContain(full.curp);
      expect(json.text).not.toContain(full.birthDate);
      expect(json.text).not.toContain('Dr. Lavista');
      await t.http.get(`/v1/programs/${randomUUID()}/padron.csv`).expect(404);
      await t.http.get(`/v1/programs/${randomUUID()}/padron.json`).expect(404);
    });
  });

  describe('bulk import and bulk issuance', () => {
    it('imports good lines set-based and reports bad ones with line number and reason', async () => {
      const p = await createProgram({ code: `IMP-${suffix()}`, name: 'import', fiscalYear: 2016, instrumentType: 'card', rules: pensionRules });
      const existing = await enrol(p.id);
      const existingCurp = (await t.http.get(`/v1/beneficiaries/${existing.body.id}`).set(officer)).body.curp;
      const good1 = curpFor('1940-01-02');
      const good2 = curpFor('1941-02-03');
      const young = curpFor('1990-01-01');
      const header = 'curp,given_names,surnames,birth_date,street,colonia,municipality,state,postal_code,application_date,residence_since,school_level,last_payment_at,attr_folio_ine';
      const rows = [
        `${good1},Ana,"Ruiz, Paz",1940-01-02,,,Tlalpan,DF,14000,2016-02-01,1980-01-01,,,A1`, // line 2
        `${young},Joven,Pérez,1990-01-01,,,,DF,,2016-02-01,1980-01-01,,,`, // line 3: too young
        `${good1.slice(0, 17)}${(Number(good1[17]) + 1) % 10},X,Y,1940-01-02,,,,DF,,2016-02-01,1980-01-01,,,`, // line 4: check digit
        `${good2},Luis,Gómez,1941-02-03,,,,DF,,2016-02-01,1980-01-01,,,`, // line 5
        `${good1},Ana,Ruiz,1940-01-02,,,,DF,,2016-02-01,1980-01-01,,,`, // line 6: same CURP as line 2
        `${existingCurp},Rosa,Pérez,1940-05-10,,,,DF,,2016-02-01,1980-01-01,,,`, // line 7: already active
        `too,few,fields`, // line 8
      ];
      const dir = mkdtempSync(join(tmpdir(), 'padron-'));
      const file = join(dir, 'p.csv');
      writeFileSync(file, [header, ...rows].join('\n') + '\n');
      const report = await t.app.get(PadronImportService).importFile(p.id, file, { actor: 'test' });
      expect(report).toMatchObject({ totalRows: 7, imported: 2, rejected: 5 });
      expect(report.rejections.map((r) => r.line)).toEqual([3, 4, 6, 7, 8]);
      expect(report.rejections[0].reason).toMatch(/^not_eligible: eligibility.minAge/);
      expect(report.rejections[1].reason).toMatch(/^invalid_curp/);
      expect(report.rejections[2].reason).toMatch(/same CURP appears on line 2/);
      expect(report.rejections[3].reason).toMatch(/already|exists/);
      expect(report.rejections[4].reason).toMatch(/expected 14 fields/);
      const imported = await t.http.get(`/v1/programs/${p.id}/beneficiaries?curp=${good1}`).set(officer).expect(200);
      expect(imported.body.data[0]).toMatchObject({ surnames: 'Ruiz, Paz', incorporatedOn: '2016-02-01', attributes: { residenceSince: '1980-01-01', folio_ine: 'A1' } });
      const history = await t.http.get(`/v1/beneficiaries/${imported.body.data[0].id}/history`).set(auditor).expect(200);
      expect(history.body.data).toHaveLength(1);

      // Importing the same file again creates nothing new.
      const again = await t.app.get(PadronImportService).importFile(p.id, file, { actor: 'test' });
      expect(again.imported).toBe(0);
      expect((await t.db.query(`SELECT count(*)::int AS n FROM beneficiaries WHERE program_id = $1`, [p.id]))[0].n).toBe(3);

      // Bulk issuance with delivery: every active beneficiary gets one live, active card with its own account.
      const numbers: string[] = [];
      const issued = await t.app.get(InstrumentsService).issueBulk(p.id, { pin: '2468', actor: 'test', chunkSize: 2, onNumbers: (r) => void numbers.push(...r.map((x) => x.number)) });
      expect(issued).toEqual({ issued: 3, delivered: 3 });
      expect(numbers.every(isInstrumentNumber)).toBe(true);
      const cards = await t.db.query(
        `SELECT i.status, i.number_hash, i.pin_hash, a.code, a.id = i.account_id AS linked FROM instruments i JOIN ledger_accounts a ON a.id = i.account_id WHERE i.program_id = $1`,
        [p.id],
      );
      expect(cards).toHaveLength(3);
      const secret = loadConfig().INSTRUMENT_NUMBER_SECRET;
      for (const c of cards) {
        expect(c.status).toBe('active');
        expect(c.pin_hash).toBe(pinHash(c.number_hash, '2468', secret));
      }
      expect(cards.map((c: { number_hash: string }) => c.number_hash).sort()).toEqual(numbers.map((n) => instrumentNumberHash(n, secret)).sort());
      expect((await t.app.get(InstrumentsService).issueBulk(p.id, { actor: 'test' })).issued).toBe(0);
    });
  });
});
