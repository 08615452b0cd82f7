process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:grants-coop`;

import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf } from '../support/cycle-fixtures';
import { award, enrolCollective, grant, loadGrantProgram, proveTranche, randomRfc, runTrancheCycle, Staff } from '../support/grant-fixtures';
import { SweepsService } from '../../src/treasury/sweeps.service';

/**
 * Cooperativas CDMX 2016 end to end, on fixtures/programs/07-cooperativas.json: stage caps and
 * envelopes, stage II after stage I, the letters, the receivable, the restitution, the reintegro
 * and its remittance (review W2, W6, W7, W12; issue 17).
 */
describe('grants: Cooperativas CDMX 2016 (fixture)', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;
  let sweeps: SweepsService;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-02-25T18:00:00Z') });
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    sweeps = t.app.get(SweepsService);
  });
  afterAll(() => t.close());
  afterEach(() => t.clock.set('2016-02-25T18:00:00Z'));

  const envelopes = async (programId: string) =>
    Object.fromEntries(((await t.http.get(`/v1/programs/${programId}/envelopes`).set(approver.auth).expect(200)).body.envelopes as Array<{ key: string; available: string }>).map((e) => [e.key, e.available]));

  it('COOP-env, COOP-caps, COOP-2, COOP-10a (W6, W7, W12): Fortalecimiento stage I then stage II, each from its own envelope', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: 'authorized' });
    // The $36M budget is split into its envelopes: $3M of operating costs no award can draw.
    const view = (await t.http.get(`/v1/programs/${program.id}/envelopes`).set(approver.auth).expect(200)).body;
    expect(view.unallocated.available).toBe('0.00');
    expect(view.envelopes.map((e: Record<string, string>) => [e.key, e.purpose, e.target, e.available])).toEqual([
      ['operating', 'operating', '3000000.00', '3000000.00'],
      ['impulso-1', 'awards', '3000000.00', '3000000.00'],
      ['impulso-2', 'awards', '6000000.00', '6000000.00'],
      ['fortalecimiento-1', 'awards', '6000000.00', '6000000.00'],
      ['fortalecimiento-2', 'awards', '18000000.00', '18000000.00'],
    ]);
    const coop = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 6 });

    const early = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '150000.00', stage: 'fortalecimiento-2' });
    expect([early.status, early.body.code]).toEqual([422, 'previous_stage_not_finished']);
    const noStage = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '50000.00' });
    expect([noStage.status, noStage.body.code]).toEqual([422, 'stage_required']);
    const above = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '50000.01', stage: 'fortalecimiento-1' });
    expect(above.status).toBe(422);
    expect(above.body).toMatchObject({ code: 'award_above_limit', bound: 'stage_cap', limit: '50000.00' });
    expect(above.body.detail).toContain('Fortalecimiento Cooperativo, etapa I');

    const stage1 = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '50000.00', stage: 'fortalecimiento-1' });
    expect(stage1.status).toBe(201);
    expect(stage1.body).toMatchObject({ status: 'active', stage: 'fortalecimiento-1', component: 'fortalecimiento-1', members: 6, reserved: '50000.00', limit: { amount: '50000.00', bound: 'stage_cap' } });
    expect(await envelopes(program.id)).toMatchObject({ operating: '3000000.00', 'fortalecimiento-1': '5950000.00', 'fortalecimiento-2': '18000000.00' });
    const again = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '150000.00', stage: 'fortalecimiento-2' });
    expect([again.status, again.body.code]).toEqual([409, 'grant_exists']);

    // One transfer, received on the release date; proof due 45 calendar days later.
    const cycle = await runTrancheCycle(t, operator, approver, program.id, '2016-03');
    expect(cycle).toMatchObject({ status: 'completed', postedTotal: '50000.00', commitmentAccountId: null });
    let g = await grant(t, approver, stage1.body.id);
    expect(g.tranches).toEqual([expect.objectContaining({ trancheNo: 1, amount: '50000.00', releasedOn: '2016-03-01', proofDueOn: '2016-04-15', status: 'released' })]);
    expect(g).toMatchObject({ balance: '50000.00', reserved: '0.00' });

    await proveTranche(t, operator, approver, stage1.body.id, 1, '50000.00');
    g = await grant(t, approver, stage1.body.id);
    expect(g.status).toBe('finished');

    // W12: the finished stage I lets stage II in, from its own envelope.
    const stage2 = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '150000.00', stage: 'fortalecimiento-2' });
    expect(stage2.status).toBe(201);
    expect(await envelopes(program.id)).toMatchObject({ operating: '3000000.00', 'fortalecimiento-1': '5950000.00', 'fortalecimiento-2': '17850000.00' });
    const second = await runTrancheCycle(t, operator, approver, program.id, '2016-06');
    expect(second).toMatchObject({ controlCount: 1, postedTotal: '150000.00' });
    const [entry] = await t.db.query(`SELECT metadata FROM journal_entries WHERE kind = 'cycle_tranche' AND metadata->>'grantId' = $1`, [stage2.body.id]);
    expect(entry.metadata).toMatchObject({ component: 'fortalecimiento-2', trancheNo: 1 });
    // The program reconciles to the cent, envelopes and award reserves included.
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(await t.staff('auditor').then((a) => a.auth)).expect(200)).body;
    expect(rec.ok).toBe(true);
  });

  it('COOP-2: Impulso stage I for a group of at least 5, stage II after its legal constitution', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: 'authorized' });
    const small = await enrolCollective(t, officer, program.id, { kind: 'group', members: 4 });
    const tooFew = await award(t, operator, program.id, { beneficiaryId: small.id, awardAmount: '50000.00', stage: 'impulso-1' });
    expect([tooFew.status, tooFew.body.code]).toEqual([422, 'stage_not_applicable']);

    const grupo = await enrolCollective(t, officer, program.id, { kind: 'group', members: 5 });
    const i1 = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '50000.00', stage: 'impulso-1' });
    expect(i1.status).toBe(201);
    await runTrancheCycle(t, operator, approver, program.id, '2016-03');
    await proveTranche(t, operator, approver, i1.body.id, 1, '50000.00');
    const notYet = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '100000.00', stage: 'impulso-2' });
    expect([notYet.status, notYet.body.code]).toEqual([422, 'stage_not_applicable']); // a group is not a constituted cooperative

    const constituted = await t.http
      .post(`/v1/beneficiaries/${grupo.id}/legal-constitution`)
      .set(officer.auth)
      .send({ kind: 'cooperative', rfc: randomRfc(), constitutedOn: '2016-02-20' })
      .expect(200);
    expect(constituted.body).toMatchObject({ kind: 'cooperative', constitutedOn: '2016-02-20', members: expect.arrayContaining([expect.objectContaining({ position: 1 })]) });
    const i2 = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '100000.00', stage: 'impulso-2' });
    expect(i2.status).toBe(201);
    expect(await envelopes(program.id)).toMatchObject({ 'impulso-1': '2950000.00', 'impulso-2': '5900000.00' });
  });

  it('COOP-10b–e (W2), COOP-3: reminder, first letter, second letter demanding the remainder → receivable (blocks a new award) → restitutions → reintegro → remittance; unpaid → legal area', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: 'authorized' });
    const coop = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 7 });
    const g1 = (await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '50000.00', stage: 'fortalecimiento-1' }).expect(201)).body;
    await runTrancheCycle(t, operator, approver, program.id, '2016-03'); // received 2016-03-01
    const letters = async () => (await grant(t, approver, g1.id)).tranches[0].letters.map((l: { kind: string; sentOn: string }) => `${l.kind}@${l.sentOn}`);
    const reintegros = async () => (await t.http.get(`/v1/reintegros?programId=${program.id}`).set(operator.auth).expect(200)).body.data;

    t.clock.set('2016-05-10T18:00:00Z');
    expect(await sweeps.trancheProofs({ programId: program.id, date: '2016-03-30' })).toMatchObject({ letters: 0, demands: [] });
    await sweeps.trancheProofs({ programId: program.id, date: '2016-03-31' });
    expect(await letters()).toEqual(['reminder@2016-03-31']);
    // Day 45: the first letter asks for the invoices "a la brevedad"; nothing is demanded yet.
    await sweeps.trancheProofs({ programId: program.id, date: '2016-04-15' });
    // Day 46, when the old code demanded the money and moved it to the reintegro: nothing happens.
    await sweeps.trancheProofs({ programId: program.id, date: '2016-04-16' });
    expect(await letters()).toEqual(['reminder@2016-03-31', 'first_letter@2016-04-15']);
    expect((await grant(t, approver, g1.id)).status).toBe('active');
    expect(await reintegros()).toEqual([]);

    t.clock.set('2016-04-18T18:00:00Z');
    await proveTranche(t, operator, approver, g1.id, 1, '20000.00');

    // 7 days after the first letter, the second demands the unproven remainder: a receivable, no money moves.
    t.clock.set('2016-05-10T18:00:00Z');
    const demand = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-22' });
    expect(demand.demands).toEqual([expect.objectContaining({ grantId: g1.id, trancheNo: 1, amount: '30000.00', dueOn: '2016-04-29' })]);
    expect(await letters()).toEqual(['reminder@2016-03-31', 'first_letter@2016-04-15', 'second_letter@2016-04-22']);
    let g = await grant(t, approver, g1.id);
    expect(g).toMatchObject({ status: 'demanded', balance: '50000.00', receivable: { cause: 'unproven_tranche', amount: '30000.00', paid: '0.00', status: 'open', dueOn: '2016-04-29' } });
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('0.00');
    expect(await reintegros()).toEqual([]);
    const none = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: program.id }).expect(422);
    expect(none.body.code).toBe('no_pending_reintegros'); // a demand is not money: nothing to remit
    const [memo] = await t.db.query(`SELECT posted::text FROM ledger_balances WHERE code = $1`, [`grant:${g1.id}:receivable`]);
    expect(memo.posted).toBe('30000.00');
    // Proofs are no longer taken, and the demanded award blocks a new one (COOP-3).
    const late = await t.http.post(`/v1/grants/${g1.id}/tranches/1/proofs`).set(operator.auth).send({ amount: '1.00', documents: [{ reference: 'X' }] });
    expect([late.status, late.body.code]).toEqual([422, 'grant_not_active']);
    const blocked = await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '10000.00', stage: 'fortalecimiento-1' });
    expect([blocked.status, blocked.body.code]).toEqual([422, 'pending_proof']);

    // Only what the cooperative pays back becomes a reintegro.
    const restitute = (amount: string, paidOn: string, key = randomUUID()) =>
      t.http.post(`/v1/grants/${g1.id}/restitutions`).set(operator.auth).set('Idempotency-Key', key).send({ amount, paidOn, reference: `SPEI-${paidOn}` });
    const key = randomUUID();
    const first = await restitute('10000.00', '2016-04-25', key).expect(201);
    expect(first.body).toMatchObject({ amount: '10000.00', receivable: { paid: '10000.00', owed: '20000.00', status: 'open' } });
    const replay = await restitute('10000.00', '2016-04-25', key).expect(201);
    expect(replay.body.id).toBe(first.body.id);
    const over = await restitute('20000.01', '2016-04-26');
    expect([over.status, over.body.code]).toEqual([422, 'overpayment']);
    expect((await reintegros()).map((r: Record<string, unknown>) => [r.cause, r.amount, r.source, r.status])).toEqual([['unproven_tranche', '10000.00', 'grant', 'pending']]);
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('10000.00');

    // Unpaid after the 7 days: the file goes to the legal area.
    const referral = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-30' });
    expect(referral.referrals).toEqual([expect.objectContaining({ grantId: g1.id, referredOn: '2016-04-30' })]);
    expect((await grant(t, approver, g1.id)).receivable).toMatchObject({ status: 'referred_to_legal', referredOn: '2016-04-30' });

    await restitute('20000.00', '2016-05-02').expect(201);
    g = await grant(t, approver, g1.id);
    expect(g.receivable).toMatchObject({ paid: '30000.00', status: 'paid' });
    expect(g.restitutions.map((r: { amount: string }) => r.amount)).toEqual(['10000.00', '20000.00']);

    // The remittance carries exactly what was paid back.
    const draft = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: program.id }).expect(201);
    expect(draft.body).toMatchObject({ itemCount: 2, total: '30000.00' });
    await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(approver.auth).set('Idempotency-Key', randomUUID()).expect(200);
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('0.00');
    const auditor = await t.staff('auditor');
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, reintegrated: '30000.00', remitted: '30000.00' });
  });

  it('COOP-6: a cooperative with an award of another program in the same fiscal year is refused', async () => {
    const coopProgram = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: 'authorized' });
    const other = await loadGrantProgram(t, 'PROFACE', { appropriate: '1000000.00' });
    const elsewhere = await enrolCollective(t, officer, other.id, { kind: 'cooperative', members: 5 });
    await award(t, operator, other.id, { beneficiaryId: elsewhere.id, awardAmount: '40000.00' }).expect(201);
    const here = await enrolCollective(t, officer, coopProgram.id, { kind: 'cooperative', members: 5, rfc: elsewhere.rfc });
    const refused = await award(t, operator, coopProgram.id, { beneficiaryId: here.id, awardAmount: '50000.00', stage: 'fortalecimiento-1' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'support_already_received', rule: 'COOP-6' });
  });

  it('COOP-env: concurrent awards never draw more than their envelope', async () => {
    // $12.3M appropriated: operating 3M, impulso-1 3M, impulso-2 6M, fortalecimiento-1 only $300,000 (6 awards of $50,000).
    const program = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: '12300000.00' });
    expect(await envelopes(program.id)).toMatchObject({ operating: '3000000.00', 'fortalecimiento-1': '300000.00', 'fortalecimiento-2': '0.00' });
    const coops = await Promise.all(Array.from({ length: 16 }, () => enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 5 })));
    const results = await Promise.all(coops.map((c) => award(t, operator, program.id, { beneficiaryId: c.id, awardAmount: '50000.00', stage: 'fortalecimiento-1' })));
    const codes = results.map((r) => (r.status === 201 ? 'ok' : r.body.code)).sort();
    expect(codes.filter((c) => c === 'ok')).toHaveLength(6);
    expect(codes.filter((c) => c !== 'ok').every((c) => c === 'insufficient_budget')).toBe(true);
    expect(await envelopes(program.id)).toMatchObject({ operating: '3000000.00', 'fortalecimiento-1': '0.00' });
  });
});
