process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:grants-proface`;

import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf } from '../support/cycle-fixtures';
import { award, enrolCollective, grant, loadGrantProgram, proveTranche, runTrancheCycle, Staff } from '../support/grant-fixtures';

/**
 * PROFACE 2016 end to end, on fixtures/programs/06-proface.json: operating envelopes no award can
 * draw, tranche n+1 only after the proof of tranche n, and rescission with restitution due in 20
 * business days (review W7, W13; issue 17).
 */
describe('grants: PROFACE 2016 (fixture)', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-02-25T18:00:00Z') });
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());
  afterEach(() => t.clock.set('2016-02-25T18:00:00Z'));

  it('PROFACE-ovh (W7): 8 % operating, 3.5 % insurance, 1 % evaluation and 0.5 % publicity stay out of every award', async () => {
    const program = await loadGrantProgram(t, 'PROFACE', { appropriate: 'authorized' });
    const view = (await t.http.get(`/v1/programs/${program.id}/envelopes`).set(approver.auth).expect(200)).body;
    expect(view.envelopes.map((e: Record<string, string>) => [e.key, e.purpose, e.available])).toEqual([
      ['operating', 'operating', '9436556.64'],
      ['insurance', 'operating', '4128493.53'],
      ['evaluation', 'operating', '1179569.58'],
      ['publicity', 'operating', '589784.79'],
    ]);
    expect(view.unallocated.available).toBe('102622553.46');
    const grupo = await enrolCollective(t, officer, program.id, { kind: 'group', members: 12 });
    const tooMuch = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '102622553.47' });
    expect([tooMuch.status, tooMuch.body.code]).toEqual([422, 'insufficient_budget']);
    await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '102622553.46' }).expect(201);
    const budget = (await t.http.get(`/v1/programs/${program.id}`).set(approver.auth).expect(200)).body.budget;
    expect(budget).toMatchObject({ appropriated: '117956958.00', committed: '102622553.46', available: '15334404.54', disbursed: '0.00' });
  });

  it('PROFACE-17: two halves; the second only after the proof of the first is accepted; then the award is finished', async () => {
    const program = await loadGrantProgram(t, 'PROFACE', { appropriate: '1000000.00' });
    const grupo = await enrolCollective(t, officer, program.id, { kind: 'group', members: 8 });
    const g = (await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '200000.00' }).expect(201)).body;
    expect(g.plan.map((p: { amount: string }) => p.amount)).toEqual(['100000.00', '100000.00']);
    expect(await runTrancheCycle(t, operator, approver, program.id, '2016-03')).toMatchObject({ postedTotal: '100000.00' });
    const waiting = await runTrancheCycle(t, operator, approver, program.id, '2016-04');
    expect(waiting).toMatchObject({ controlCount: 0, exclusions: { awaiting_proof: 1 } });
    await proveTranche(t, operator, approver, g.id, 1, '100000.00');
    expect(await runTrancheCycle(t, operator, approver, program.id, '2016-05')).toMatchObject({ postedTotal: '100000.00' });
    expect(await grant(t, approver, g.id)).toMatchObject({ status: 'active', balance: '200000.00', reserved: '0.00' });
    await proveTranche(t, operator, approver, g.id, 2, '100000.00');
    expect((await grant(t, approver, g.id)).status).toBe('finished');
  });

  it('PROFACE-10 (C-3): rescission cancels the tranches not released and makes the unproven money due in 20 business days, then the legal area; only what is paid back is remitted', async () => {
    const program = await loadGrantProgram(t, 'PROFACE', { appropriate: '1000000.00' });
    const grupo = await enrolCollective(t, officer, program.id, { kind: 'group', members: 8 });
    const g = (await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '300000.00' }).expect(201)).body;
    await runTrancheCycle(t, operator, approver, program.id, '2016-03');
    const budgetBefore = await balanceOf(t.db, program.budgetAccountId);
    t.clock.set('2016-06-20T18:00:00Z');
    await proveTranche(t, operator, approver, g.id, 1, '60000.00');
    const pending = await t.http.post(`/v1/grants/${g.id}/tranches/1/proofs`).set(operator.auth).send({ amount: '5000.00', documents: [{ reference: 'FAC-9' }] }).expect(201);
    t.clock.set('2016-07-05T18:00:00Z');
    const rescind = (notifiedOn: string) => t.http.post(`/v1/grants/${g.id}/rescind`).set(officer.auth).send({ cause: 'incumplimiento del convenio', notifiedOn });
    const waiting = await rescind('2016-07-04');
    expect([waiting.status, waiting.body.code]).toEqual([409, 'proofs_pending_review']);
    await t.http.post(`/v1/grant-proofs/${pending.body.id}/reject`).set(approver.auth).send({ note: 'sin RFC del proveedor' }).expect(200);

    const done = await rescind('2016-07-04');
    expect(done.status).toBe(200);
    // Released 150,000, proven 60,000 at the notification: 90,000 due 20 business days later; the second half never leaves.
    expect(done.body).toMatchObject({ status: 'rescinded', restitutionDue: '90000.00', dueOn: '2016-08-01', releasedToBudget: '150000.00' });
    expect(money(await balanceOf(t.db, program.budgetAccountId)).minus(money(budgetBefore)).toFixed(2)).toBe('150000.00');
    expect([(await rescind('2016-07-04')).status]).toEqual([409]);
    expect(await runTrancheCycle(t, operator, approver, program.id, '2016-08')).toMatchObject({ controlCount: 0 });
    expect((await grant(t, approver, g.id)).receivable).toMatchObject({ cause: 'rescission', amount: '90000.00', status: 'open', demandedOn: '2016-07-04', dueOn: '2016-08-01' });
    expect((await t.http.get(`/v1/reintegros?programId=${program.id}`).set(operator.auth).expect(200)).body.data).toEqual([]);

    // Unpaid after the due date, the receivable goes to the legal area ("acciones legales", @560336).
    t.clock.set('2016-08-10T18:00:00Z');
    const sweeps = t.app.get(SweepsService);
    expect((await sweeps.trancheProofs({ programId: program.id, date: '2016-08-01' })).referrals).toEqual([]);
    expect((await sweeps.trancheProofs({ programId: program.id, date: '2016-08-02' })).referrals).toEqual([expect.objectContaining({ grantId: g.id, referredOn: '2016-08-02' })]);
    await t.http.post(`/v1/grants/${g.id}/restitutions`).set(operator.auth).set('Idempotency-Key', randomUUID()).send({ amount: '90000.00', paidOn: '2016-08-05', reference: 'FICHA-77' }).expect(201);
    const draft = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: program.id }).expect(201);
    expect(draft.body).toMatchObject({ itemCount: 1, total: '90000.00' });
    await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(approver.auth).set('Idempotency-Key', randomUUID()).expect(200);
    const receivables = (await t.http.get(`/v1/grant-receivables?programId=${program.id}`).set(approver.auth).expect(200)).body.data;
    expect(receivables).toEqual([expect.objectContaining({ grantId: g.id, cause: 'rescission', status: 'paid', owed: '0.00' })]);
    const auditor = await t.staff('auditor');
    expect((await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body.ok).toBe(true);
  });
});
