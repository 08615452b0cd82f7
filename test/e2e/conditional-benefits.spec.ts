// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:conditional`;

import { SeguroSignatureObligation1764618000000 } from '../../migrations/1764618000000-seguro-signature-obligation';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { ProgramRules } from '../../src/programs/program-rules';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf } from '../support/cycle-fixtures';
import { award, enrolCollective, loadGrantProgram, randomRfc, runTrancheCycle } from '../support/grant-fixtures';
import { approveBatch, balanceByCode, batchLines, clabe, draftBatch, key, payableOf, postResults, programFromFixture, runCycle, seedFixture } from '../support/payout-fixtures';

/**
 * Conditional and variable benefits end to end on their fixture files (fixtures/programs/11–13):
 * enrol → record attendance, events or obligations → cycle → the amounts the seed computes →
 * reconciliation. docs/conditional.md.
 */
type Staff = Awaited<ReturnType<TestApp['staff']>>;

let born = 0;
/** An enrolment body for a person born in `year` (a fresh birth date each time, so a fresh CURP). */
function person(year: number, attributes: Record<string, unknown>, applicationDate: string) {
  born++;
  const birthDate = `${year}-${String((born % 12) + 1).padStart(2, '0')}-${String((born % 27) + 1).padStart(2, '0')}`;
  const curp = buildCurp({ givenNames: 'Rosa', firstSurname: 'Pérez', secondSurname: 'Ruiz', birthDate, sex: 'M', state: 'DF', homoclave: year < 2000 ? String(born % 10) : 'ABCDEFGHIJ'[born % 10] });
  return { curp, givenNames: 'Rosa', surnames: 'Pérez Ruiz', birthDate, address: { state: 'DF' }, applicationDate, attributes };
}

describe('conditional and variable benefits', () => {
  let t: TestApp;
  let operator: Staff;
  let approver: Staff;
  let officer: Staff;
  let auditor: Staff;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-01T18:00:00Z') });
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    officer = await t.staff('program_officer');
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  const at = (date: string) => t.clock.set(`${date}T18:00:00Z`);
  async function enrol(programId: string, body: object): Promise<string> {
    const res = await t.http.post(`/v1/programs/${programId}/beneficiaries`).set(officer.auth).send(body);
    expect(res.status).toBe(201);
    return res.body.id;
  }
  async function card(beneficiaryId: string): Promise<string> {
    const issued = await t.http.post(`/v1/beneficiaries/${beneficiaryId}/instruments`).set(officer.auth).expect(201);
    const delivered = await t.http.post(`/v1/instruments/${issued.body.id}/deliver`).set(officer.auth).send({ pin: '4321' }).expect(200);
    const [row] = await t.db.query(`SELECT account_id FROM instruments WHERE id = $1`, [delivered.body.id]);
    return row.account_id;
  }
  const post = (path: string, body: object) => t.http.post(path).set(officer.auth).send(body);
  async function reconciled(programId: string) {
    const rec = await t.http.get(`/v1/audit/programs/${programId}/reconciliation`).set(auditor.auth).expect(200);
    expect(rec.body.ok).toBe(true);
    return rec.body;
  }

  it('TD-SCAPAT @1019682 @1019966 @1024418: Trabajo Digno pays 1, 1.5 or 2 UC a day attended plus $20 transport, the month after; a late record is paid by the next cycle; a cancelled draft frees its records', async () => {
    at('2016-02-01');
    const program = await programFromFixture(t, 'TRABAJO-DIGNO-SCAPAT', { budget: '100000.00' });
    const ana = await enrol(program.id, person(1990, { schooling: 'bachillerato', transportJustified: true }, '2016-02-01'));
    const beto = await enrol(program.id, person(1985, { schooling: 'licenciatura_80', transportJustified: false }, '2016-02-01'));
    const caro = await enrol(program.id, person(1970, { schooling: 'bachillerato_trunco' }, '2016-02-01'));
    // Rule 1: 16 or older.
    await t.http.post(`/v1/programs/${program.id}/beneficiaries`).set(officer.auth).send(person(2002, { schooling: 'bachillerato' }, '2016-02-01')).expect(422);
    const [anaCard, betoCard, caroCard] = [await card(ana), await card(beto), await card(caro)];

    at('2016-03-31');
    const a = await post(`/v1/beneficiaries/${ana}/attendance`, { period: '2016-03', days: 20 }).expect(201);
    expect(a.body).toMatchObject({ period: '2016-03', days: 20, amount: '2550.40', paidByCycleOf: '2016-04', recordedBy: `user:${officer.username}` });
    expect((await post(`/v1/beneficiaries/${beto}/attendance`, { period: '2016-03', days: 18 }).expect(201)).body.amount).toBe('2580.48');
    expect((await post(`/v1/beneficiaries/${ana}/attendance`, { period: '2016-03', days: 21 }).expect(409)).body.code).toBe('record_exists');
    expect((await post(`/v1/beneficiaries/${ana}/attendance`, { period: '2016-04', days: 1 }).expect(422)).body.code).toBe('record_not_allowed');
    expect((await post(`/v1/beneficiaries/${beto}/attendance`, { period: '2016-02', days: 30 }).expect(400)).body.code).toBe('validation_failed');
    expect((await post(`/v1/beneficiaries/${beto}/events`, { kind: 'hiring', occurredOn: '2016-03-01', evidenceRef: 'x' }).expect(422)).body.code).toBe('record_not_supported');

    // April's cycle pays March: 20 × (107.52 + 20) and 18 × 143.36; Caro recorded nothing.
    at('2016-04-05');
    const april = await runCycle(t, program.id, '2016-04', operator, approver);
    expect(april).toMatchObject({ status: 'completed', controlCount: 2, controlTotal: '5130.88', postedTotal: '5130.88', exclusions: { nothing_recorded: 1 } });
    expect([await balanceOf(t.db, anaCard), await balanceOf(t.db, betoCard), await balanceOf(t.db, caroCard)]).toEqual(['2550.40', '2580.48', '0.00']);

    // Caro's March is recorded late: the May cycle pays it with Ana's April (19 × 127.52).
    at('2016-04-29');
    expect((await post(`/v1/beneficiaries/${caro}/attendance`, { period: '2016-03', days: 10 }).expect(201)).body.amount).toBe('716.80');
    await post(`/v1/beneficiaries/${ana}/attendance`, { period: '2016-04', days: 19 }).expect(201);
    at('2016-05-02');
    const draft = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-05', kind: 'deposit' }).expect(201);
    expect(draft.body).toMatchObject({ controlCount: 2, controlTotal: '3139.68' });
    await t.http.post(`/v1/cycles/${draft.body.id}/cancel`).set(operator.auth).expect(200);
    const may = await runCycle(t, program.id, '2016-05', operator, approver);
    expect(may).toMatchObject({ status: 'completed', controlCount: 2, controlTotal: '3139.68', exclusions: { nothing_recorded: 1 } });
    expect([await balanceOf(t.db, anaCard), await balanceOf(t.db, caroCard)]).toEqual(['4973.28', '716.80']);
    // Each record is paid once, by the cycle that claimed it.
    const claimed = await t.db.query(`SELECT a.period, a.amount::text, c.period AS "cyclePeriod" FROM beneficiary_attendance a JOIN disbursement_cycles c ON c.id = a.cycle_id WHERE a.program_id = $1 ORDER BY a.amount`, [program.id]);
    expect(claimed).toEqual([
      { period: '2016-03', amount: '716.80', cyclePeriod: '2016-05' },
      { period: '2016-04', amount: '2422.88', cyclePeriod: '2016-05' },
      { period: '2016-03', amount: '2550.40', cyclePeriod: '2016-04' },
      { period: '2016-03', amount: '2580.48', cyclePeriod: '2016-04' },
    ]);
    const rec = await reconciled(program.id);
    expect(rec.disbursed).toBe('8270.56');
  });

  it('MPT-3, MPT-SAPLA, MPT-SAEP: Mi Primer Trabajo pays $1,000 on hiring and $2,000 still employed at 3 months, $3,000/$3,500 a SAPLA month, $4,000 a SAEP month; parallel reports never pass the 3-month cap', async () => {
    at('2016-03-01');
    const program = await programFromFixture(t, 'MI-PRIMER-TRABAJO', { budget: '100000.00' });
    const diego = await enrol(program.id, person(1994, { subprogram: 'SAEV' }, '2016-03-01'));
    const eva = await enrol(program.id, person(1995, { subprogram: 'SAPLA', jobLevel: 'basic' }, '2016-03-01'));
    const fer = await enrol(program.id, person(1993, { subprogram: 'SAPLA', jobLevel: 'technical' }, '2016-03-01'));
    const gabi = await enrol(program.id, person(1992, { subprogram: 'SAEP' }, '2016-03-01'));
    // Rule 2: 16 to 29.
    await t.http.post(`/v1/programs/${program.id}/beneficiaries`).set(officer.auth).send(person(1980, { subprogram: 'SAEV' }, '2016-03-01')).expect(422);
    const cards = { diego: await card(diego), eva: await card(eva), fer: await card(fer), gabi: await card(gabi) };

    at('2016-03-09');
    const ev = (who: string, kind: string, occurredOn: string) => post(`/v1/beneficiaries/${who}/events`, { kind, occurredOn, evidenceRef: `REPORTE-${kind}` });
    expect((await ev(diego, 'hiring', '2016-03-07').expect(201)).body).toMatchObject({ kind: 'hiring', amount: '1000.00', evidenceRef: 'REPORTE-hiring' });
    expect((await ev(diego, 'still_employed', '2016-03-08').expect(422)).body).toMatchObject({ code: 'record_not_allowed', detail: expect.stringMatching(/only from 2016-06-07/) });
    expect((await ev(diego, 'hiring', '2016-03-08').expect(422)).body.detail).toMatch(/at most 1 time/);
    expect((await ev(eva, 'practice_month', '2016-03-08').expect(201)).body.amount).toBe('3000.00');
    expect((await ev(fer, 'practice_month', '2016-03-08').expect(201)).body.amount).toBe('3500.00');
    expect((await ev(gabi, 'internship_month', '2016-03-08').expect(201)).body.amount).toBe('4000.00');
    expect((await ev(gabi, 'hiring', '2016-03-08').expect(422)).body.detail).toMatch(/subprogram is SAEV/);
    expect((await ev(gabi, 'internship_month', '2016-03-10').expect(422)).body.detail).toMatch(/future/);
    expect((await post(`/v1/beneficiaries/${gabi}/attendance`, { period: '2016-03', days: 3 }).expect(422)).body.code).toBe('record_not_supported');

    at('2016-03-10');
    const march = await runCycle(t, program.id, '2016-03', operator, approver);
    expect(march).toMatchObject({ status: 'completed', controlCount: 4, controlTotal: '11500.00' });

    // Twenty reports of Eva's practice months at once: she already has one, so exactly two more pass (SAPLA: three months at most).
    at('2016-04-08');
    const parallel = await Promise.all(Array.from({ length: 20 }, () => ev(eva, 'practice_month', '2016-04-08')));
    expect(parallel.filter((r) => r.status === 201)).toHaveLength(2);
    expect(parallel.filter((r) => r.status === 422)).toHaveLength(18);
    at('2016-04-10');
    const april = await runCycle(t, program.id, '2016-04', operator, approver);
    expect(april).toMatchObject({ controlCount: 1, controlTotal: '6000.00', exclusions: { nothing_recorded: 3 } });

    // Still employed three months after the hiring: the second part.
    at('2016-06-09');
    expect((await ev(diego, 'still_employed', '2016-06-07').expect(201)).body.amount).toBe('2000.00');
    at('2016-06-10');
    const june = await runCycle(t, program.id, '2016-06', operator, approver);
    expect(june).toMatchObject({ controlCount: 1, controlTotal: '2000.00' });
    expect(await Promise.all([cards.diego, cards.eva, cards.fer, cards.gabi].map((c) => balanceOf(t.db, c)))).toEqual(['3000.00', '9000.00', '3500.00', '4000.00']);
    expect((await reconciled(program.id)).disbursed).toBe('19500.00');
  });

  it('R7, R8: Reinserción pays $1,000 rent a month to her bank account; an unsigned month suspends the next payment (never paid back); two in a row end the support (baja breach_of_commitment)', async () => {
    at('2016-01-01');
    const program = await programFromFixture(t, 'REINSERCION', { budget: '50000.00' });
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const [hilda, ines, juana] = [
      await enrol(program.id, person(1980, {}, '2016-01-01')),
      await enrol(program.id, person(1982, {}, '2016-01-01')),
      await enrol(program.id, person(1984, {}, '2016-01-01')),
    ];
    for (const [i, id] of [hilda, ines, juana].entries()) {
      await t.http.put(`/v1/beneficiaries/${id}/bank-account`).set(officer.auth).send({ clabe: clabe(500 + i), holderName: `TITULAR ${i}` }).expect(200);
    }
    const sign = (who: string, period: string, metOn: string) => post(`/v1/beneficiaries/${who}/obligations`, { kind: 'monthly_signature', period, metOn });
    const standing = async (who: string) => (await t.http.get(`/v1/beneficiaries/${who}/obligations`).set(officer.auth).expect(200)).body;

    const jan = await runCycle(t, program.id, '2016-01', operator, approver);
    expect(jan).toMatchObject({ controlCount: 3, controlTotal: '3000.00' });

    at('2016-01-20');
    expect((await sign(hilda, '2016-01', '2016-01-20').expect(201)).body.status).toBe('active');
    await sign(juana, '2016-01', '2016-01-20').expect(201);
    expect((await sign(juana, '2016-01', '2016-01-19').expect(409)).body.code).toBe('record_exists');
    expect((await sign(juana, '2016-02', '2016-01-20').expect(422)).body.code).toBe('record_not_allowed');
    expect((await sign(juana, '2016-01', '2016-01-25').expect(422)).body.detail).toMatch(/future/);
    expect((await post(`/v1/beneficiaries/${juana}/obligations`, { kind: 'cartilla', period: '2016-01', metOn: '2016-01-20' }).expect(422)).body.code).toBe('record_not_supported');

    // February: Inés did not sign January's list.
    at('2016-02-01');
    const feb = await runCycle(t, program.id, '2016-02', operator, approver);
    expect(feb).toMatchObject({ controlCount: 2, controlTotal: '2000.00', exclusions: { suspended: 1 } });
    expect(await standing(ines)).toMatchObject({ status: 'suspended', obligations: [{ kind: 'monthly_signature', missedInRow: 1, periods: [{ period: '2016-01', verdict: 'missed' }] }] });

    at('2016-02-15');
    await sign(hilda, '2016-02', '2016-02-15').expect(201);
    expect((await sign(ines, '2016-02', '2016-02-15').expect(201)).body.status).toBe('suspended');

    // March: Inés signed February and is paid again (January is not paid back); Juana did not sign February.
    at('2016-03-01');
    expect((await standing(ines)).status).toBe('active');
    const mar = await runCycle(t, program.id, '2016-03', operator, approver);
    expect(mar).toMatchObject({ controlCount: 2, controlTotal: '2000.00', exclusions: { suspended: 1 } });
    const paid = await t.db.query(
      `SELECT l.beneficiary_id AS id, count(*)::int AS n FROM cycle_lines l JOIN disbursement_cycles c ON c.id = l.cycle_id WHERE c.program_id = $1 GROUP BY 1`,
      [program.id],
    );
    expect(Object.fromEntries(paid.map((r: { id: string; n: number }) => [r.id, r.n]))).toEqual({ [hilda]: 3, [ines]: 2, [juana]: 2 });

    at('2016-03-15');
    await sign(hilda, '2016-03', '2016-03-15').expect(201);
    await sign(ines, '2016-03', '2016-03-15').expect(201);

    // April: Juana missed February and March → baja before the draft, dated the day after March's deadline.
    at('2016-04-01');
    expect((await standing(juana)).pendingBaja).toEqual({ cause: 'breach_of_commitment', on: '2016-04-01', kind: 'monthly_signature' });
    const apr = await runCycle(t, program.id, '2016-04', operator, approver);
    expect(apr).toMatchObject({ controlCount: 2, controlTotal: '2000.00', exclusions: {} });
    const gone = await t.http.get(`/v1/beneficiaries/${juana}`).set(officer.auth).expect(200);
    expect(gone.body).toMatchObject({ status: 'inactive', deactivationCause: 'breach_of_commitment', deactivatedOn: '2016-04-01' });
    const history = await t.http.get(`/v1/beneficiaries/${juana}/history`).set(officer.auth).expect(200);
    expect(history.body.data.at(-1)).toMatchObject({ toStatus: 'inactive', cause: 'breach_of_commitment', actor: 'system:obligations' });
    expect((await standing(juana)).status).toBe('inactive');
    expect((await sign(juana, '2016-03', '2016-03-31').expect(409)).body.code).toBe('invalid_status_transition');

    // The rent reaches the banks; what Juana was paid stays hers (onBaja keep).
    const batch = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(batch.body).toMatchObject({ controlCount: 3, controlTotal: '9000.00' });
    await approveBatch(t, batch.body.id, approver).expect(200);
    const lines = await batchLines(t, batch.body.id, operator);
    await postResults(t, batch.body.id, operator, lines.map((l) => ({ lineId: l.id, status: 'paid' }))).expect(200);
    const rec = await reconciled(program.id);
    expect(rec).toMatchObject({ disbursed: '9000.00', paidOut: '9000.00', payables: '0.00', inTransit: '0.00' });
  });

  /** Active beneficiaries' paid lines per person in a program. */
  async function linesPerPerson(programId: string): Promise<Record<string, number>> {
    const rows = await t.db.query(
      `SELECT l.beneficiary_id AS id, count(*)::int AS n FROM cycle_lines l JOIN disbursement_cycles c ON c.id = l.cycle_id WHERE c.program_id = $1 GROUP BY 1`,
      [programId],
    );
    return Object.fromEntries(rows.map((r: { id: string; n: number }) => [r.id, r.n]));
  }
  async function withBankAccounts(ids: string[], from: number) {
    for (const [i, id] of ids.entries()) {
      await t.http.put(`/v1/beneficiaries/${id}/bank-account`).set(officer.auth).send({ clabe: clabe(from + i), holderName: `TITULAR ${i}` }).expect(200);
    }
  }

  it('S5 @236711, S6 @237240: Seguro contra la Violencia Familiar suspends the deposit after an unsigned delivery list (never paid back) and gives the baja breach_of_commitment after two months in a row', async () => {
    at('2016-01-01');
    const program = await programFromFixture(t, 'SEGURO-VF', { budget: '50000.00' });
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const [ana, berta, carla] = [
      await enrol(program.id, person(1981, {}, '2016-01-01')),
      await enrol(program.id, person(1983, {}, '2016-01-01')),
      await enrol(program.id, person(1985, {}, '2016-01-01')),
    ];
    await withBankAccounts([ana, berta, carla], 600);
    const sign = (who: string, period: string, metOn: string) => post(`/v1/beneficiaries/${who}/obligations`, { kind: 'monthly_signature', period, metOn });
    const standing = async (who: string) => (await t.http.get(`/v1/beneficiaries/${who}/obligations`).set(officer.auth).expect(200)).body;

    // $1,537.00 a month: $1,500.00 to her payable, $37.00 to the insurer's.
    expect(await runCycle(t, program.id, '2016-01', operator, approver)).toMatchObject({ controlCount: 3, controlTotal: '4611.00' });
    at('2016-01-29');
    const signed = await sign(ana, '2016-01', '2016-01-29').expect(201);
    expect(signed.body).toMatchObject({ kind: 'monthly_signature', period: '2016-01', metOn: '2016-01-29', status: 'active' });
    await sign(berta, '2016-01', '2016-01-29').expect(201);
    expect((await post(`/v1/beneficiaries/${ana}/obligations`, { kind: 'cartilla', period: '2016-01', metOn: '2016-01-29' }).expect(422)).body.code).toBe('record_not_supported');
    const [who] = await t.db.query(`SELECT recorded_by AS "recordedBy", recorded_at AS "recordedAt" FROM beneficiary_obligations WHERE beneficiary_id = $1`, [ana]);
    expect(who).toEqual({ recordedBy: `user:${officer.username}`, recordedAt: new Date('2016-01-29T18:00:00Z') });

    // February: Carla did not sign January's list → no deposit for her.
    at('2016-02-01');
    expect(await runCycle(t, program.id, '2016-02', operator, approver)).toMatchObject({ controlCount: 2, controlTotal: '3074.00', exclusions: { suspended: 1 } });
    expect(await standing(carla)).toMatchObject({ status: 'suspended', obligations: [{ kind: 'monthly_signature', missedInRow: 1 }] });
    at('2016-02-26');
    await sign(ana, '2016-02', '2016-02-26').expect(201);
    expect((await sign(carla, '2016-02', '2016-02-26').expect(201)).body.status).toBe('suspended');

    // March: Carla signed February and is paid again (January is not paid back); Berta did not sign February.
    at('2016-03-01');
    expect((await standing(carla)).status).toBe('active');
    expect(await runCycle(t, program.id, '2016-03', operator, approver)).toMatchObject({ controlCount: 2, controlTotal: '3074.00', exclusions: { suspended: 1 } });
    at('2016-03-30');
    await sign(ana, '2016-03', '2016-03-30').expect(201);
    await sign(carla, '2016-03', '2016-03-30').expect(201);

    // April: Berta left February and March unsigned → baja definitiva before the draft, the day after March ended.
    at('2016-04-01');
    expect((await standing(berta)).pendingBaja).toEqual({ cause: 'breach_of_commitment', on: '2016-04-01', kind: 'monthly_signature' });
    expect(await runCycle(t, program.id, '2016-04', operator, approver)).toMatchObject({ controlCount: 2, controlTotal: '3074.00', exclusions: {} });
    const gone = await t.http.get(`/v1/beneficiaries/${berta}`).set(officer.auth).expect(200);
    expect(gone.body).toMatchObject({ status: 'inactive', deactivationCause: 'breach_of_commitment', deactivatedOn: '2016-04-01' });
    const history = await t.http.get(`/v1/beneficiaries/${berta}/history`).set(officer.auth).expect(200);
    expect(history.body.data.at(-1)).toMatchObject({ toStatus: 'inactive', cause: 'breach_of_commitment', actor: 'system:obligations' });
    expect(await linesPerPerson(program.id)).toEqual({ [ana]: 4, [berta]: 2, [carla]: 3 });
    // What Berta was paid stays hers (onBaja default keep): her payable still holds her two months.
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', berta))).toBe('3000.00');
    const rec = await reconciled(program.id);
    expect(rec.disbursed).toBe('13833.00');
  });

  it('S6 @237240: migration 1764618000000 rewrites a stored program\'s old monthlySignature field into the monthly_signature obligation of the fixture', async () => {
    const f = seedFixture('SEGURO-VF');
    const { obligations, ...rest } = f.rules;
    const old = { ...rest, monthlySignature: { missedMonthsForBaja: 2 } };
    const program = await programFromFixture(t, 'SEGURO-VF');
    await t.db.query(`UPDATE programs SET rules = $2 WHERE id = $1`, [program.id, JSON.stringify(old)]);
    expect(ProgramRules.safeParse(old).success).toBe(false);
    const runner = t.db.createQueryRunner();
    try {
      await new SeguroSignatureObligation1764618000000().up(runner);
    } finally {
      await runner.release();
    }
    const [row] = await t.db.query(`SELECT rules FROM programs WHERE id = $1`, [program.id]);
    expect(row.rules).not.toHaveProperty('monthlySignature');
    expect(ProgramRules.parse(row.rules).obligations).toEqual(obligations);
  });

  it('SD-9 @864126 @864690, SD-12 @867698 @867917, SD-11 cause 4 @866731: Seguro de Desempleo suspends the deposit while a cartilla is missing, a cure within 30 days restores the next deposits (the withheld one is not paid), no cure → baja', async () => {
    at('2016-01-01');
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '50000.00' });
    const [dora, emilio, fabi] = [
      await enrol(program.id, person(1976, {}, '2016-01-01')),
      await enrol(program.id, person(1978, {}, '2016-01-01')),
      await enrol(program.id, person(1979, {}, '2016-01-01')),
    ];
    await withBankAccounts([dora, emilio, fabi], 700);
    const cartilla = (who: string, period: string, metOn: string) => post(`/v1/beneficiaries/${who}/obligations`, { kind: 'cartilla', period, metOn });
    const standing = async (who: string) => (await t.http.get(`/v1/beneficiaries/${who}/obligations`).set(officer.auth).expect(200)).body;

    // January and February: no cartilla is due yet (the first is February's, due on 15 February).
    expect(await runCycle(t, program.id, '2016-01', operator, approver)).toMatchObject({ controlCount: 3, controlTotal: '6451.20' });
    at('2016-02-01');
    expect(await runCycle(t, program.id, '2016-02', operator, approver)).toMatchObject({ controlCount: 3, controlTotal: '6451.20', exclusions: {} });
    at('2016-02-10');
    expect((await cartilla(dora, '2016-01', '2016-01-29').expect(422)).body).toMatchObject({ code: 'record_not_allowed', detail: expect.stringMatching(/starts with 2016-02/) });
    expect((await cartilla(dora, '2016-02', '2016-02-10').expect(201)).body.status).toBe('active');

    // March: Emilio's and Fabi's February cartillas are missing; their 30-day cure runs to 16 March.
    at('2016-03-01');
    expect(await runCycle(t, program.id, '2016-03', operator, approver)).toMatchObject({ controlCount: 1, controlTotal: '2150.40', exclusions: { suspended: 2 } });
    expect(await standing(fabi)).toMatchObject({ status: 'suspended', pendingBaja: null, obligations: [{ kind: 'cartilla', periods: [{ period: '2016-02', dueOn: '2016-02-15', verdict: 'pending' }] }] });
    at('2016-03-10');
    expect((await cartilla(emilio, '2016-02', '2016-03-10').expect(201)).body.status).toBe('active');
    await cartilla(emilio, '2016-03', '2016-03-10').expect(201);
    await cartilla(dora, '2016-03', '2016-03-10').expect(201);
    // Only periods whose deadline has passed are listed: March's is due on 14 March.
    expect((await standing(emilio)).obligations[0].periods).toEqual([{ period: '2016-02', dueOn: '2016-02-15', verdict: 'cured' }]);

    // April: Emilio is paid again, March is not paid back; Fabi did not cure February by 16 March → baja dated 17 March.
    at('2016-04-01');
    expect((await standing(fabi)).pendingBaja).toEqual({ cause: 'breach_of_commitment', on: '2016-03-17', kind: 'cartilla' });
    expect(await runCycle(t, program.id, '2016-04', operator, approver)).toMatchObject({ controlCount: 2, controlTotal: '4300.80', exclusions: {} });
    const gone = await t.http.get(`/v1/beneficiaries/${fabi}`).set(officer.auth).expect(200);
    expect(gone.body).toMatchObject({ status: 'inactive', deactivationCause: 'breach_of_commitment', deactivatedOn: '2016-03-17' });
    expect(await linesPerPerson(program.id)).toEqual({ [dora]: 4, [emilio]: 3, [fabi]: 2 });
    const rec = await reconciled(program.id);
    expect(rec.disbursed).toBe('19353.60');
  });

  it('PACTyFP @762329 @764733 @765364 @789007 @790733 @803034: the supplier is paid 80 % / 70 % of min(price, $600) per hour through a suppliers payout batch, the firm co-pays the rest, and the 45-business-day term is measured', async () => {
    at('2016-03-01');
    const program = await programFromFixture(t, 'PACTYFP', { budget: '100000.00' });
    const micro = await enrolCollective(t, officer, program.id, { kind: 'firm', members: 3 });
    const small = await enrolCollective(t, officer, program.id, { kind: 'firm', members: 20 });
    const supplierBody = { name: 'CAPACITACIÓN INTEGRAL SC', rfc: randomRfc(), stpsRegistration: 'STPS-ACE-0001', clabe: clabe(700), holderName: 'CAPACITACION INTEGRAL SC' };
    expect((await post(`/v1/programs/${program.id}/suppliers`, { ...supplierBody, clabe: '012180000000000011' }).expect(400)).body.code).toBe('invalid_clabe');
    const supplier = (await post(`/v1/programs/${program.id}/suppliers`, supplierBody).expect(201)).body;
    expect(supplier.bankAccount).toMatchObject({ ownerKind: 'supplier', ownerId: supplier.id, clabe: clabe(700) });
    expect((await post(`/v1/programs/${program.id}/suppliers`, supplierBody).expect(409)).body.code).toBe('supplier_exists');

    // 50 h at $650: the program recognises $600 → 0.8 × 600 × 50 = $24,000; the firm pays $32,500 − $24,000.
    const support = (path: string, body: object) => post(path, body);
    const s1 = (await support(`/v1/programs/${program.id}/training-supports`, { beneficiaryId: micro.id, supplierId: supplier.id, firmSize: 'micro', hours: 50, pricePerHour: '650.00' }).expect(201)).body;
    expect(s1).toMatchObject({ status: 'approved', recognisedPricePerHour: '600.00', total: '32500.00', programShare: '24000.00', firmCoPayment: '8500.00' });
    expect((await support(`/v1/programs/${program.id}/training-supports`, { beneficiaryId: small.id, supplierId: supplier.id, firmSize: 'small', hours: 70, pricePerHour: '500.00' }).expect(422)).body.code).toBe('support_not_allowed');
    // Exceptionally 70 h: 0.7 × 500 × 70 = $24,500.
    const s2 = (await support(`/v1/programs/${program.id}/training-supports`, { beneficiaryId: small.id, supplierId: supplier.id, firmSize: 'small', hours: 70, pricePerHour: '500.00', exceptional: true }).expect(201)).body;
    expect(s2).toMatchObject({ programShare: '24500.00', firmCoPayment: '10500.00' });
    expect((await support(`/v1/programs/${program.id}/training-supports`, { beneficiaryId: micro.id, supplierId: supplier.id, firmSize: 'micro', hours: 10, pricePerHour: '100.00' }).expect(409)).body.code).toBe('support_exists');

    at('2016-05-02');
    const invoice = (id: string, body: object, k = key()) => t.http.post(`/v1/training-supports/${id}/invoice`).set(operator.auth).set('Idempotency-Key', k).send(body);
    const inv1 = { invoiceRef: 'FACT-A-1', receivedOn: '2016-05-02', amount: '24000.00', attendancePercent: 92 };
    expect((await invoice(s1.id, { ...inv1, attendancePercent: 79 }).expect(422)).body.code).toBe('attendance_below_minimum');
    expect((await invoice(s1.id, { ...inv1, amount: '32500.00' }).expect(422)).body.code).toBe('invoice_amount_mismatch');
    await t.http.post(`/v1/training-supports/${s1.id}/invoice`).set(operator.auth).send(inv1).expect(400);
    const k1 = key();
    const first = await invoice(s1.id, inv1, k1).expect(200);
    expect(first.body).toMatchObject({ status: 'invoiced', paymentDueOn: '2016-07-04', invoiceRef: 'FACT-A-1' });
    const replay = await invoice(s1.id, inv1, k1).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await invoice(s1.id, inv1).expect(409)).body.code).toBe('invalid_status_transition');
    await invoice(s2.id, { invoiceRef: 'FACT-A-2', receivedOn: '2016-04-01', amount: '24500.00', attendancePercent: 85 }).expect(200);
    expect(await balanceByCode(t, payableOf(program.id, 'supplier', supplier.id))).toBe('48500.00');

    // One suppliers batch pays both invoices; the bank answers on 30 June.
    const batch = await draftBatch(t, program.id, 'suppliers', operator).expect(201);
    expect(batch.body).toMatchObject({ kind: 'suppliers', controlCount: 1, controlTotal: '48500.00' });
    await approveBatch(t, batch.body.id, approver).expect(200);
    at('2016-06-30');
    const [line] = await batchLines(t, batch.body.id, operator);
    expect(line).toMatchObject({ payeeKind: 'supplier', payeeId: supplier.id, amount: '48500.00' });
    await postResults(t, batch.body.id, operator, [{ lineId: line.id, status: 'paid' }]).expect(200);

    // OPOCC: 43 business days from 2 May (on time), 64 from 1 April (late).
    const indicator = (await t.http.get(`/v1/programs/${program.id}/training-supports/payment-indicator`).set(auditor.auth).expect(200)).body;
    expect(indicator).toMatchObject({ termBusinessDays: 45, invoiced: 2, paid: 2, paidOnTime: 1, overdueUnpaid: 0, averageBusinessDays: '53.50' });
    expect(indicator.data.map((d: Record<string, unknown>) => [d.invoiceReceivedOn, d.paidOn, d.businessDays, d.onTime])).toEqual([
      ['2016-04-01', '2016-06-30', 64, false],
      ['2016-05-02', '2016-06-30', 43, true],
    ]);
    const rec = await reconciled(program.id);
    expect(rec).toMatchObject({ disbursed: '48500.00', paidOut: '48500.00', payables: '0.00', inTransit: '0.00' });
  });

  it('CO1, CO3, PF2 @389435, PROFAIS @385312: grants to civil organisations; an OSC funded by Coinversión in 2016 is refused by PROFAIS; PROFAIS awards between $50,000 and $700,000; each first ministración reaches the OSC\'s bank account', async () => {
    at('2016-03-15');
    const coinversion = await loadGrantProgram(t, 'COINVERSION', { appropriate: '1000000.00' });
    const profais = await loadGrantProgram(t, 'PROFAIS', { appropriate: '1000000.00' });
    const rfcA = randomRfc();
    const oscA = await enrolCollective(t, officer, coinversion.id, { kind: 'civil_organisation', rfc: rfcA, members: 3 });
    const oscAinProfais = await enrolCollective(t, officer, profais.id, { kind: 'civil_organisation', rfc: rfcA, members: 3 });
    const oscB = await enrolCollective(t, officer, profais.id, { kind: 'civil_organisation', members: 4 });

    const small = await award(t, operator, coinversion.id, { beneficiaryId: oscA.id, awardAmount: '99999.99' });
    expect([small.status, small.body.code]).toEqual([422, 'award_out_of_range']);
    const gA = (await award(t, operator, coinversion.id, { beneficiaryId: oscA.id, awardAmount: '300000.00' }).expect(201)).body;
    expect(gA.plan.map((p: { amount: string }) => p.amount)).toEqual(['150000.00', '150000.00']);

    // PF2: the same OSC (its RFC) already has a 2016 award of another financing program.
    const refused = await award(t, operator, profais.id, { beneficiaryId: oscAinProfais.id, awardAmount: '200000.00' });
    expect([refused.status, refused.body.code, refused.body.rule]).toEqual([422, 'support_already_received', 'PF2']);
    for (const amount of ['700000.01', '49999.99']) {
      const out = await award(t, operator, profais.id, { beneficiaryId: oscB.id, awardAmount: amount });
      expect([out.status, out.body.code]).toEqual([422, 'award_out_of_range']);
    }
    const gB = (await award(t, operator, profais.id, { beneficiaryId: oscB.id, awardAmount: '700000.00' }).expect(201)).body;
    // CO3 the other way: OSC B, funded by PROFAIS, cannot then be funded by Coinversión.
    const oscBinCoinversion = await enrolCollective(t, officer, coinversion.id, { kind: 'civil_organisation', rfc: oscB.rfc, members: 4 });
    const co3 = await award(t, operator, coinversion.id, { beneficiaryId: oscBinCoinversion.id, awardAmount: '100000.00' });
    expect([co3.status, co3.body.rule]).toEqual([422, 'CO3']);

    for (const [i, id] of [oscA.id, oscB.id].entries()) {
      await t.http.put(`/v1/beneficiaries/${id}/bank-account`).set(officer.auth).send({ clabe: clabe(800 + i), holderName: `OSC ${i}` }).expect(200);
    }
    at('2016-04-01');
    expect(await runTrancheCycle(t, operator, approver, coinversion.id, '2016-04')).toMatchObject({ controlCount: 1, postedTotal: '150000.00' });
    expect(await runTrancheCycle(t, operator, approver, profais.id, '2016-04')).toMatchObject({ controlCount: 1, postedTotal: '350000.00' });
    for (const [program, amount] of [[coinversion, '150000.00'], [profais, '350000.00']] as const) {
      const batch = await draftBatch(t, program.id, 'grants', operator).expect(201);
      expect(batch.body).toMatchObject({ controlCount: 1, controlTotal: amount });
      await approveBatch(t, batch.body.id, approver).expect(200);
      const lines = await batchLines(t, batch.body.id, operator);
      await postResults(t, batch.body.id, operator, lines.map((l) => ({ lineId: l.id, status: 'paid' }))).expect(200);
      expect(await reconciled(program.id)).toMatchObject({ disbursed: amount, paidOut: amount, inTransit: '0.00' });
    }
    expect([gA.awardAmount, gB.awardAmount]).toEqual(['300000.00', '700000.00']);
  });

  it('CP14 @360003, A @424593, CA1 @275729: Comedores Públicos, Aliméntate and Calle record rations, packages and services with count and value; no cash, no instrument, no cycle', async () => {
    at('2016-03-02');
    const comedores = await programFromFixture(t, 'COMEDORES-PUBLICOS', { budget: '100000.00' });
    const alimentate = await programFromFixture(t, 'ALIMENTATE', { budget: '100000.00' });
    const calle = await programFromFixture(t, 'CALLE', { budget: '100000.00' });
    const deliver = (programId: string, body: object) => post(`/v1/programs/${programId}/deliveries`, body);

    const site = 'Comedor Público Tlalpan 3';
    expect((await deliver(comedores.id, { kind: 'ration', deliveredOn: '2016-03-01', count: 120, site }).expect(201)).body).toMatchObject({ count: 120, value: null, site });
    await deliver(comedores.id, { kind: 'ration', deliveredOn: '2016-03-02', count: 130, value: '3150.00', site }).expect(201);
    expect((await deliver(comedores.id, { kind: 'ration', deliveredOn: '2016-03-03', count: 1, site }).expect(422)).body.code).toBe('record_not_allowed');
    expect((await deliver(comedores.id, { kind: 'food_package', deliveredOn: '2016-03-01', count: 1 }).expect(422)).body.code).toBe('record_not_supported');
    const draft = await t.http.post(`/v1/programs/${comedores.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-03', kind: 'deposit' }).expect(422);
    expect(draft.body.code).toBe('cycle_kind_not_supported');

    const family = await enrol(alimentate.id, person(1975, {}, '2016-02-01'));
    expect((await t.http.post(`/v1/beneficiaries/${family}/instruments`).set(officer.auth).expect(422)).body.code).toBe('instrument_not_supported');
    expect((await deliver(alimentate.id, { kind: 'food_package', deliveredOn: '2016-02-15', count: 1, beneficiaryId: family }).expect(201)).body.value).toBe('190.00');
    await deliver(alimentate.id, { kind: 'food_package', deliveredOn: '2016-03-01', count: 1, beneficiaryId: family }).expect(201);
    expect((await deliver(alimentate.id, { kind: 'food_package', deliveredOn: '2016-03-01', count: 1 }).expect(422)).body.code).toBe('record_not_allowed');

    await deliver(calle.id, { kind: 'assistance_service', deliveredOn: '2016-03-01', count: 40, site: 'Brigada Centro' }).expect(201);

    const summary = async (programId: string, q = '') => (await t.http.get(`/v1/programs/${programId}/deliveries/summary${q}`).set(auditor.auth).expect(200)).body.kinds;
    expect(await summary(comedores.id)).toEqual([{ kind: 'ration', label: 'ración de alimento gratuita', delivered: 250, value: '3150.00', beneficiaries: 0, sites: 1, target: 3000000, progressPercent: '0.01' }]);
    expect(await summary(comedores.id, '?from=2016-03-02&to=2016-03-31')).toMatchObject([{ delivered: 130 }]);
    expect(await summary(alimentate.id)).toMatchObject([{ kind: 'food_package', delivered: 2, value: '380.00', beneficiaries: 1, target: 315348, progressPercent: '0.00' }]);
    expect(await summary(calle.id)).toMatchObject([{ kind: 'assistance_service', delivered: 40, value: '0.00', sites: 1, target: 36000, progressPercent: '0.11' }]);
    for (const p of [comedores, alimentate, calle]) expect((await reconciled(p.id)).disbursed).toBe('0.00');
  });

  it('CC1 @129432 @129726, CC2 @129860 @130067: Comedores Comunitarios pays $10,000 once to each compliant comedor, against its invoice, only in the last 10 business days of November; parallel requests pay once', async () => {
    at('2016-11-01');
    const program = await programFromFixture(t, 'COMEDORES-COMUNITARIOS', { budget: '100000.00' });
    const [a, b, c] = [
      await enrolCollective(t, officer, program.id, { kind: 'group', members: 3, applicationDate: '2016-11-01' }),
      await enrolCollective(t, officer, program.id, { kind: 'group', members: 5, applicationDate: '2016-11-01' }),
      await enrolCollective(t, officer, program.id, { kind: 'group', members: 4, applicationDate: '2016-11-01' }),
    ];
    await withBankAccounts([a.id, b.id, c.id], 800);
    const comply = (id: string, verifiedOn: string) => post(`/v1/beneficiaries/${id}/compliance`, { verifiedOn, evidenceRef: `DGIDS/CC/${id.slice(0, 4)}` });
    const pay = (id: string, invoiceAmount = '10000.00', invoiceDate = '2016-11-14') =>
      t.http.post(`/v1/beneficiaries/${id}/compliance-payment`).set(operator.auth).set('Idempotency-Key', key()).send({ invoiceRef: `FAC-${id.slice(0, 6)}`, invoiceDate, invoiceAmount });
    // Never through a cycle.
    const cycle = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-11', kind: 'deposit' });
    expect(cycle.body).toMatchObject({ status: 422, code: 'cycle_kind_not_supported' });

    at('2016-11-10');
    const recorded = await comply(a.id, '2016-11-10').expect(201);
    expect(recorded.body).toMatchObject({ beneficiaryId: a.id, fiscalYear: 2016, status: 'compliant', verifiedOn: '2016-11-10', recordedBy: `user:${officer.username}` });
    await comply(b.id, '2016-11-09').expect(201);
    expect((await comply(a.id, '2016-11-10').expect(409)).body.code).toBe('record_exists');
    expect((await comply(c.id, '2016-11-11').expect(422)).body.code).toBe('record_not_allowed');
    await t.http.post(`/v1/beneficiaries/${c.id}/compliance`).set(operator.auth).send({ verifiedOn: '2016-11-10', evidenceRef: 'x' }).expect(403);

    // 15 November is before the window (16–30 November 2016).
    at('2016-11-15');
    expect((await pay(a.id).expect(422)).body).toMatchObject({ code: 'outside_payment_window', detail: expect.stringMatching(/2016-11-16 to 2016-11-30/) });
    at('2016-11-16');
    expect((await pay(c.id).expect(422)).body.code).toBe('compliance_not_recorded');
    expect((await pay(a.id, '9999.99').expect(422)).body.code).toBe('invoice_amount_below_support');
    expect((await pay(a.id, '10000.00', '2016-11-17').expect(422)).body.code).toBe('invoice_not_allowed');
    await t.http.post(`/v1/beneficiaries/${a.id}/compliance-payment`).set(officer.auth).set('Idempotency-Key', key()).send({ invoiceRef: 'F', invoiceDate: '2016-11-14', invoiceAmount: '10000.00' }).expect(403);

    // Ten payment requests for comedor A at once: one pays, nine are refused as already paid.
    const parallel = await Promise.all(Array.from({ length: 10 }, () => pay(a.id)));
    expect(parallel.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect(parallel.filter((r) => r.status === 409).every((r) => r.body.code === 'already_paid')).toBe(true);
    at('2016-11-30');
    expect((await pay(b.id, '12480.50', '2016-11-29').expect(200)).body).toMatchObject({ status: 'paid', amount: '10000.00', invoiceAmount: '12480.50', paidBy: `user:${operator.username}` });
    at('2016-12-01');
    expect((await pay(b.id).expect(409)).body.code).toBe('already_paid');
    expect((await t.http.get(`/v1/beneficiaries/${a.id}/compliance`).set(auditor.auth).expect(200)).body).toMatchObject({
      status: 'paid', amount: '10000.00', invoiceRef: `FAC-${a.id.slice(0, 6)}`, window: { from: '2016-11-16', to: '2016-11-30' },
    });
    await t.http.get(`/v1/beneficiaries/${c.id}/compliance`).set(auditor.auth).expect(404);
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', a.id))).toBe('10000.00');
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', c.id))).toBe('0.00');

    // The DGA disperses: a beneficiaries payout batch sends each $10,000 to the comedor's CLABE.
    const batch = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(batch.body).toMatchObject({ controlCount: 2, controlTotal: '20000.00' });
    await approveBatch(t, batch.body.id, approver).expect(200);
    const lines = await batchLines(t, batch.body.id, operator);
    await postResults(t, batch.body.id, operator, lines.map((l) => ({ lineId: l.id, status: 'paid' }))).expect(200);
    expect(await reconciled(program.id)).toMatchObject({ paidOut: '20000.00', payables: '0.00', inTransit: '0.00' });
  });
});
