// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:audit-indicators`;

import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries } from '../support/cycle-fixtures';
import { key, programFromFixture, runCycle, seedFixture } from '../support/payout-fixtures';

type Staff = Awaited<ReturnType<TestApp['staff']>>;
type Indicator = { id: string; numerator: string | null; denominator: string | null; value: string | null; unrecorded?: string[] };

let homoclave = 0;
function curp(birthDate: string) {
  const names = ['Rosa', 'Juan', 'Pedro', 'Lucía', 'Mario', 'Elena', 'Tomás', 'Irma'];
  homoclave++;
  return buildCurp({
    givenNames: names[homoclave % names.length],
    firstSurname: `${names[(homoclave * 3) % names.length]}ez`,
    secondSurname: names[(homoclave * 5) % names.length],
    birthDate,
    sex: 'M',
    state: 'DF',
    homoclave: String(homoclave % 10),
  });
}

/**
 * The indicators of the rules of operation (indicators.rules.ts) over programs made from the seed
 * fixtures, paid by real cycles and with cards delivered through the API: never synthetic entries.
 */
describe('audit: indicators of the rules of operation', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;
  let auditor: Staff;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  async function indicators(programId: string, query = '') {
    const res = await t.http.get(`/v1/audit/programs/${programId}/indicators${query}`).set(auditor.auth).expect(200);
    return { body: res.body, byId: Object.fromEntries((res.body.indicators as Indicator[]).map((i) => [i.id, i])) as Record<string, Indicator> };
  }

  it('P56, P57 (P21), P60: meta física from the padrón, card delivery in business days from arrival at the office, as of a date and per quarter', async () => {
    const program = await programFromFixture(t, 'PENSION-AM', { budget: '100000.00' });
    const target = String(seedFixture('PENSION-AM').rules.targetBeneficiaries);
    const people = [];
    for (let n = 0; n < 3; n++) {
      const b = await t.http
        .post(`/v1/programs/${program.id}/beneficiaries`)
        .set(officer.auth)
        .send({
          curp: curp('1940-05-10'),
          givenNames: 'Rosa',
          surnames: 'Pérez López',
          birthDate: '1940-05-10',
          address: { street: 'Dr. Lavista 181', colonia: 'Doctores', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06720' },
          applicationDate: '2016-02-01',
          attributes: { residenceSince: '1990-01-01' },
        })
        .expect(201);
      const card = await t.http.post(`/v1/beneficiaries/${b.body.id}/instruments`).set(officer.auth).expect(201);
      people.push({ beneficiaryId: b.body.id as string, cardId: card.body.id as string });
    }
    // Cards issued in February arrive at the central office on Thursday 17 March (P21 starts here).
    t.clock.set('2016-03-17T18:00:00Z');
    await t.http.post('/v1/card-arrivals').set(officer.auth).send({ instrumentIds: people.map((p) => p.cardId), arrivedOn: '2016-03-17' }).expect(200);
    // Delivered Tuesday 22 March: Friday 18 and Tuesday 22 count, Monday 21 is a holiday → 2 business days.
    t.clock.set('2016-03-22T18:00:00Z');
    await t.http.post(`/v1/instruments/${people[0].cardId}/deliver`).set(officer.auth).send({ pin: '4321' }).expect(200);
    // Delivered Friday 1 April → 10 business days (18, 22–25, 28–31 March, 1 April).
    t.clock.set('2016-04-01T18:00:00Z');
    await t.http.post(`/v1/instruments/${people[1].cardId}/deliver`).set(officer.auth).send({ pin: '4321' }).expect(200);
    expect(await runCycle(t, program.id, '2016-04', operator, approver)).toMatchObject({ status: 'completed' });
    // A baja in May leaves two in the padrón from then on.
    t.clock.set('2016-05-10T18:00:00Z');
    await t.http.post(`/v1/beneficiaries/${people[2].beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'death', effectiveDate: '2016-05-09' }).expect(200);
    t.clock.set('2016-07-05T18:00:00Z');

    const q1 = await indicators(program.id, '?quarter=2016-Q1');
    expect(q1.body.period).toEqual({ from: '2016-01-01', to: '2016-03-31', quarter: '2016-Q1' });
    expect(q1.byId.P57).toMatchObject({ numerator: '2', denominator: '1', value: '2.00' });
    expect(q1.byId.P56).toMatchObject({ numerator: '3', denominator: target });

    const q2 = await indicators(program.id, '?quarter=2016-Q2');
    expect(q2.byId.P57).toMatchObject({ numerator: '12', denominator: '2', value: '6.00' });
    expect(q2.byId.P56).toMatchObject({ numerator: '2', denominator: target });
    expect(q2.byId.P58).toMatchObject({ value: null, unrecorded: [expect.any(String), expect.any(String)] });

    const april = await indicators(program.id, '?asOf=2016-04-30');
    expect(april.byId.P56.numerator).toBe('3');
    expect(april.body.indicators.map((i: Indicator) => i.id)).toEqual(['P54', 'P56', 'P57', 'P58']);

    const csv = await t.http.get(`/v1/audit/programs/${program.id}/indicators?quarter=2016-Q2&format=csv`).set(auditor.auth).expect(200);
    expect(csv.text).toContain(`,P57,business_days,6.00,12,2`);
    await t.http.get(`/v1/audit/programs/${program.id}/indicators?quarter=2016-Q5`).set(auditor.auth).expect(400);
    await t.http.get(`/v1/audit/programs/${program.id}/indicators?asOf=2016-07-06`).set(auditor.auth).expect(400);
  });

  it('U20 (W8): vouchers dispersed are the vouchers a real load cycle credited, over the sujetos de derecho', async () => {
    t.clock.set('2016-07-20T18:00:00Z');
    const program = await programFromFixture(t, 'UNIFORMES', { budget: '10000.00' });
    await addBeneficiaries(t.db, program.id, 2, { instrumentKind: 'voucher', incorporatedOn: '2016-07-01', expiresAt: '2017-01-01T06:00:00Z' });
    await addBeneficiaries(t.db, program.id, 1, { instrument: 'none', incorporatedOn: '2016-07-01' });
    t.clock.set('2016-08-01T18:00:00Z');
    expect(await runCycle(t, program.id, '2016-08', operator, approver)).toMatchObject({ status: 'completed', postedTotal: '300.00' });
    t.clock.set('2016-09-01T18:00:00Z');

    const before = await indicators(program.id, '?asOf=2016-07-31');
    expect(before.byId.U20).toMatchObject({ numerator: '0', denominator: '3', value: '0.00' });
    const after = await indicators(program.id, '?quarter=2016-Q3');
    expect(after.byId.U20).toMatchObject({ numerator: '2', denominator: '3', value: '66.67' });
    expect(after.byId['U20.2']).toMatchObject({ numerator: '2', denominator: '3' });
  });

  it('T11, W8: Útiles vouchers dispersed and the money disbursed by school level come from the real load cycle', async () => {
    t.clock.set('2016-07-20T18:00:00Z');
    const program = await programFromFixture(t, 'UTILES', { budget: '10000.00' });
    await addBeneficiaries(t.db, program.id, 3, {
      instrumentKind: 'voucher',
      incorporatedOn: '2016-07-01',
      expiresAt: '2017-01-01T06:00:00Z',
      attributesSql: `jsonb_build_object('schoolLevel', (ARRAY['preescolar','primaria','secundaria'])[g])`,
    });
    t.clock.set('2016-08-01T18:00:00Z');
    expect(await runCycle(t, program.id, '2016-08', operator, approver)).toMatchObject({ status: 'completed', postedTotal: '320.00' });
    t.clock.set('2016-09-01T18:00:00Z');
    const r = await indicators(program.id);
    expect(r.byId.T11).toMatchObject({ numerator: '3', denominator: '3', value: '100.00' });
    expect(r.body.disbursedByLevel).toEqual([
      { level: 'preescolar', beneficiaries: 1, disbursed: '60.00' },
      { level: 'primaria', beneficiaries: 1, disbursed: '110.00' },
      { level: 'secundaria', beneficiaries: 1, disbursed: '150.00' },
    ]);
  });

  it('SD-17.2: presupuesto ejercido / presupuesto total from the appropriation and the real cycle; SD-17.1 says what it cannot know', async () => {
    t.clock.set('2016-08-20T18:00:00Z');
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00' });
    await addBeneficiaries(t.db, program.id, 2, { instrument: 'none', incorporatedOn: '2016-08-01', bankAccount: true });
    t.clock.set('2016-09-01T18:00:00Z');
    expect(await runCycle(t, program.id, '2016-09', operator, approver)).toMatchObject({ status: 'completed', postedTotal: '4300.80' });
    t.clock.set('2016-10-03T18:00:00Z');

    const before = await indicators(program.id, '?asOf=2016-08-31');
    expect(before.byId['SD-17.2']).toMatchObject({ numerator: '0.00', denominator: '100000.00', value: '0.00' });
    const after = await indicators(program.id, '?quarter=2016-Q3');
    expect(after.byId['SD-17.2']).toMatchObject({ numerator: '4300.80', denominator: '100000.00', value: '4.30' });
    expect(after.byId['SD-17.1']).toMatchObject({ numerator: '2', denominator: null, value: null, unrecorded: [expect.stringContaining('outside statistic')] });
  });

  it('P54: answers whose receipt the holder or their Representante Solidario signed, over the answers given in the period', async () => {
    t.clock.set('2016-08-01T18:00:00Z');
    const program = await programFromFixture(t, 'PENSION-AM');
    const file = async () =>
      (await t.http.post('/v1/complaints').set(officer.auth).set('Idempotency-Key', key()).send({ programId: program.id, channel: 'writing', subject: 'card_balance', description: 'Saldo incorrecto' }).expect(201)).body.id as string;
    const [a, b] = [await file(), await file()];
    await file(); // never answered: not in the denominator
    const answer = (id: string) => t.http.post(`/v1/complaints/${id}/answer`).set(officer.auth).send({ answer: 'Se verificó el saldo.', outcome: 'refute' }).expect(200);
    const receipt = (id: string, signedBy: string) => t.http.post(`/v1/complaints/${id}/receipt`).set(officer.auth).send({ signedBy });
    expect((await receipt(a, 'holder').expect(409)).body.code).toBe('invalid_status_transition'); // nothing answered yet
    t.clock.set('2016-08-03T18:00:00Z');
    await answer(a);
    await answer(b);
    await receipt(a, 'neighbour').expect(400);
    await receipt(a, 'auditor').expect(400);
    await receipt(a, 'holder').set(auditor.auth).expect(403);
    t.clock.set('2016-08-05T18:00:00Z');
    expect((await receipt(a, 'representative').expect(200)).body).toMatchObject({ receiptSignedBy: 'representative', receiptOn: '2016-08-05' });
    expect((await receipt(a, 'holder').expect(409)).body.code).toBe('invalid_status_transition');

    t.clock.set('2016-10-10T18:00:00Z');
    const q3 = await indicators(program.id, '?quarter=2016-Q3');
    expect(q3.byId.P54).toMatchObject({ numerator: '1', denominator: '2', value: '50.00' });
    // As of the day before the receipt was signed, it does not count yet.
    expect((await indicators(program.id, '?asOf=2016-08-04')).byId.P54).toMatchObject({ numerator: '0', denominator: '2' });
    expect((await indicators(program.id, '?quarter=2016-Q2')).byId.P54).toMatchObject({ numerator: '0', denominator: '0', value: null });
  });
});
