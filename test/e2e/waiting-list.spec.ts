// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:waiting`;

import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram, fixtureRules, waitForCycle } from '../support/cycle-fixtures';

/** The waiting list and incorporation (issue 14; P16–P18, P20; W4), on the Pensión fixture's rules. */
describe('waiting list and incorporation', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;
  let day = 1;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-01-10T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  const at = (iso: string) => t.clock.set(new Date(iso));
  const applicant = (applicationDate: string) => {
    const birthDate = `1940-05-${String(day++).padStart(2, '0')}`;
    return {
      curp: buildCurp({ givenNames: 'Rosa', firstSurname: 'Pérez', secondSurname: 'López', birthDate, sex: 'M', state: 'DF', homoclave: '0' }),
      givenNames: 'Rosa',
      surnames: 'Pérez López',
      birthDate,
      address: { state: 'DF', municipality: 'Coyoacán' },
      applicationDate,
      attributes: { residenceSince: '2000-01-01' },
    };
  };
  const file = (programId: string, body: Record<string, unknown>) => t.http.post(`/v1/programs/${programId}/waiting-list`).set(officer.auth).send(body);
  const incorporate = (id: string, body: Record<string, unknown>) => t.http.post(`/v1/waiting-list/${id}/incorporate`).set(officer.auth).send(body);
  const runToEnd = async (programId: string, period: string) => {
    const d = await t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', `k-${++key}-${Date.now()}`).send({ period, kind: 'deposit' }).expect(201);
    await t.http.post(`/v1/cycles/${d.body.id}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
    return (await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200)).body;
  };

  it('P17 P18 P20: applicants wait in filing order, are incorporated on a date of record and paid from the first period on or after it, never before', async () => {
    at('2016-01-10T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM'), budget: '100000.00' });
    const a = applicant('2016-01-05');
    const first = await file(program.id, a).expect(201);
    const second = await file(program.id, applicant('2016-01-08')).expect(201);
    await file(program.id, applicant('2016-01-09')).expect(201);
    expect(first.body).toMatchObject({ status: 'waiting', applicationDate: '2016-01-05', overdue: false, deadline: '2016-07-05' });
    expect(first.body.curp).toBeUndefined();
    expect((await file(program.id, a).expect(409)).body.code).toBe('duplicate_applicant');
    const list = await t.http.get(`/v1/programs/${program.id}/waiting-list`).set(officer.auth).expect(200);
    expect(list.body.data.map((w: { applicationDate: string }) => w.applicationDate)).toEqual(['2016-01-05', '2016-01-08', '2016-01-09']);

    at('2016-03-15T18:00:00Z');
    // P18: filing order, unless a priority (marginación) is recorded.
    expect((await incorporate(second.body.id, { incorporatedOn: '2016-03-10' }).expect(409)).body.code).toBe('out_of_filing_order');
    const b = await incorporate(second.body.id, { incorporatedOn: '2016-03-10', priorityReason: 'zona de muy alta marginación' }).expect(201);
    expect(b.body).toMatchObject({ status: 'incorporated', incorporatedOn: '2016-03-10', priorityReason: 'zona de muy alta marginación' });
    // P20: never before the application, never in the future.
    expect((await incorporate(first.body.id, { incorporatedOn: '2016-01-04' }).expect(422)).body.code).toBe('incorporation_before_application');
    expect((await incorporate(first.body.id, { incorporatedOn: '2016-03-16' }).expect(422)).body.code).toBe('incorporation_in_future');
    const inc = await incorporate(first.body.id, { incorporatedOn: '2016-03-10' }).expect(201);
    expect((await incorporate(first.body.id, { incorporatedOn: '2016-03-10' }).expect(409)).body.code).toBe('applicant_not_waiting');
    // W4: the application date and the incorporation date are both on record.
    const [row] = await t.db.query(`SELECT to_char(application_date, 'YYYY-MM-DD') AS app, to_char(incorporated_on, 'YYYY-MM-DD') AS inc FROM beneficiaries WHERE id = $1`, [inc.body.beneficiaryId]);
    expect(row).toEqual({ app: '2016-01-05', inc: '2016-03-10' });

    for (const w of [inc.body, b.body]) {
      const card = (await t.http.post(`/v1/beneficiaries/${w.beneficiaryId}/instruments`).set(officer.auth).expect(201)).body;
      await t.http.post(`/v1/instruments/${card.id}/deliver`).set(officer.auth).send({ pin: '4321' }).expect(200);
    }
    // March began before the incorporation: never paid, not even as arrears (P20); April is.
    const march = await runToEnd(program.id, '2016-03');
    expect(march).toMatchObject({ controlCount: 0 });
    expect(march.exclusions).toEqual({ not_yet_incorporated: 2 });
    at('2016-04-02T18:00:00Z');
    expect(await runToEnd(program.id, '2016-04')).toMatchObject({ controlCount: 2, postedTotal: '2150.40' });
    expect((await t.http.get(`/v1/programs/${program.id}/arrears?upTo=2016-04`).set(approver.auth).expect(200)).body.data).toEqual([]);
  });

  it('P17: applicants waiting longer than the six months the RO allows are reported', async () => {
    at('2016-01-10T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM') });
    const late = await file(program.id, applicant('2016-01-09')).expect(201);
    await file(program.id, applicant('2016-01-10')).expect(201);
    const overdue = async () => (await t.http.get(`/v1/programs/${program.id}/waiting-list?overdueOnly=true`).set(officer.auth).expect(200)).body.data;
    at('2016-07-09T18:00:00Z');
    expect(await overdue()).toEqual([]);
    at('2016-07-10T18:00:00Z');
    expect(await overdue()).toEqual([expect.objectContaining({ id: late.body.id, overdue: true, deadline: '2016-07-09', waitingDays: 183 })]);
  });

  it('P18: nobody is incorporated beyond the meta física (rules.targetBeneficiaries)', async () => {
    at('2016-01-10T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: { ...fixtureRules('PENSION-AM'), targetBeneficiaries: 1 } });
    await addBeneficiaries(t.db, program.id, 1);
    const w = await file(program.id, applicant('2016-01-09')).expect(201);
    expect((await incorporate(w.body.id, { incorporatedOn: '2016-01-10' }).expect(422)).body.code).toBe('meta_fisica_reached');
  });
});
