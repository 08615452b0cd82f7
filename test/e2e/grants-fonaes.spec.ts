process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:grants-fonaes`;

import { createTestApp, TestApp } from '../support/app';
import { award, enrolCollective, grant, loadGrantProgram, proveTranche, randomMember, runTrancheCycle, Staff } from '../support/grant-fixtures';

/**
 * FONAES Convocatoria 2013 end to end, on fixtures/programs/09-fonaes.json: caps per member and
 * business, support shares, the $600,000 threshold, pending proof, three-year history by member,
 * and the counterpart's share (review W5, W6, M12; issue 17).
 */
describe('grants: FONAES 2013 (fixture)', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2013-06-03T18:00:00Z') });
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  it('R004-02, R004-03, R004-07 (W5, W6): caps and shares name their bound; up to $600,000 one ministración, above it two', async () => {
    const program = await loadGrantProgram(t, 'FONAES', { appropriate: '5000000.00' });
    const empresa = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 10 });
    const perMember = await award(t, operator, program.id, { beneficiaryId: empresa.id, awardAmount: '500000.01', stage: 'ics', projectCost: '1000000.00', supportType: 'negocio' });
    expect(perMember.body).toMatchObject({ code: 'award_above_limit', bound: 'member_cap', limit: '500000.00' });
    const share = await award(t, operator, program.id, { beneficiaryId: empresa.id, awardAmount: '400000.01', stage: 'ics', projectCost: '1000000.00', supportType: 'negocio', otherPrograms: true });
    expect(share.body).toMatchObject({ code: 'award_above_limit', bound: 'support_share', limit: '400000.00' });
    const grupo = await enrolCollective(t, officer, program.id, { kind: 'group', members: 8 });
    const grupoCap = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '300000.01', stage: 'ics' });
    expect(grupoCap.body).toMatchObject({ code: 'award_above_limit', bound: 'stage_cap', limit: '300000.00' });
    const noStage = await award(t, operator, program.id, { beneficiaryId: grupo.id, awardAmount: '1500000.01' });
    expect(noStage.body).toMatchObject({ code: 'award_above_limit', bound: 'program_cap', limit: '1500000.00' });

    // W5: $600,000 in one ministración …
    const one = (await award(t, operator, program.id, { beneficiaryId: empresa.id, awardAmount: '400000.00', stage: 'ics', projectCost: '1000000.00', supportType: 'negocio', otherPrograms: true }).expect(201)).body;
    expect(one.plan.map((p: { amount: string }) => p.amount)).toEqual(['400000.00']);
    const big = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 13 });
    const six = (await award(t, operator, program.id, { beneficiaryId: big.id, awardAmount: '600000.00', stage: 'ics', projectCost: '1100000.00', supportType: 'negocio' }).expect(201)).body;
    expect(six.plan.map((p: { amount: string }) => p.amount)).toEqual(['600000.00']);
    // … and above it, two; the counterpart pledges the rest of the project.
    const bigger = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 13 });
    const two = (await award(t, operator, program.id, { beneficiaryId: bigger.id, awardAmount: '600000.01', stage: 'ics', projectCost: '1100000.00', supportType: 'negocio' }).expect(201)).body;
    expect(two.plan.map((p: { amount: string }) => p.amount)).toEqual(['300000.01', '300000.00']);
    expect(two.counterpart).toMatchObject({ amount: '499999.99', contributed: '0.00' });

    // Tranche 1, proof, tranche 2, proof: finished.
    expect(await runTrancheCycle(t, operator, approver, program.id, '2013-07')).toMatchObject({ controlCount: 3, postedTotal: '1300000.01' });
    await proveTranche(t, operator, approver, two.id, 1, '300000.01');
    expect(await runTrancheCycle(t, operator, approver, program.id, '2013-08')).toMatchObject({ controlCount: 1, postedTotal: '300000.00', exclusions: { plan_complete: 2 } });
    await proveTranche(t, operator, approver, two.id, 2, '300000.00');
    expect((await grant(t, approver, two.id)).status).toBe('finished');

    // M12: the counterpart's contributions, in a sub-account of their own, reported apart from the public share.
    t.clock.set('2013-08-20T18:00:00Z');
    const contribution = await t.http
      .post(`/v1/grants/${two.id}/counterpart-contributions`)
      .set(operator.auth)
      .set('Idempotency-Key', `cp-${two.id}`)
      .send({ amount: '200000.00', receivedOn: '2013-08-19', reference: 'FICHA-CP-1' })
      .expect(201);
    expect(contribution.body).toMatchObject({ amount: '200000.00', counterpartContributed: '200000.00' });
    const funding = (await t.http.get(`/v1/programs/${program.id}/grant-funding?limit=500`).set(approver.auth).expect(200)).body;
    expect(funding.data.find((r: { grantId: string }) => r.grantId === two.id)).toMatchObject({
      public: { awarded: '600000.01', released: '600000.01', proven: '600000.01', restituted: '0.00' },
      counterpart: { pledged: '499999.99', contributed: '200000.00' },
    });
    expect(funding.totals).toMatchObject({ awards: 3, public: { awarded: '1600000.01' }, counterpart: { contributed: '200000.00' } });
    const auditor = await t.staff('auditor');
    expect((await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body.ok).toBe(true);
    t.clock.set('2013-06-03T18:00:00Z');
  });

  it('R004-20 and R004-19: pending proof of an earlier FONAES support blocks a new one; no new business support within three fiscal years, by member; the additional guarantee is allowed', async () => {
    t.clock.set('2013-06-03T18:00:00Z');
    const f2012 = await loadGrantProgram(t, 'FONAES', { fiscalYear: 2012, appropriate: '2000000.00' });
    const f2013 = await loadGrantProgram(t, 'FONAES', { lineage: f2012.lineage, appropriate: '5000000.00' });
    const shared = randomMember();
    const members2012 = [shared, ...Array.from({ length: 5 }, randomMember)];
    const empresa2012 = await enrolCollective(t, officer, f2012.id, { kind: 'cooperative', members: members2012 });
    const g2012 = (await award(t, operator, f2012.id, { beneficiaryId: empresa2012.id, awardAmount: '250000.00', stage: 'ics' }).expect(201)).body;
    await runTrancheCycle(t, operator, approver, f2012.id, '2012-09');

    const empresa = await enrolCollective(t, officer, f2013.id, { kind: 'cooperative', members: 6, rfc: empresa2012.rfc });
    const pending = await award(t, operator, f2013.id, { beneficiaryId: empresa.id, awardAmount: '100000.00', stage: 'garantia-ics' });
    expect(pending.body).toMatchObject({ code: 'pending_proof', grantId: g2012.id });
    await proveTranche(t, operator, approver, g2012.id, 1, '250000.00');

    const again = await award(t, operator, f2013.id, { beneficiaryId: empresa.id, awardAmount: '100000.00', stage: 'ics' });
    expect(again.body).toMatchObject({ code: 'support_already_received', rule: 'R004-19' });
    // Another business with a member of the 2012 one: the same person.
    const other = await enrolCollective(t, officer, f2013.id, { kind: 'cooperative', members: [shared, ...Array.from({ length: 4 }, randomMember)] });
    const viaMember = await award(t, operator, f2013.id, { beneficiaryId: other.id, awardAmount: '100000.00', stage: 'primario' });
    expect(viaMember.body).toMatchObject({ code: 'support_already_received', rule: 'R004-19' });
    expect(viaMember.body.detail).toContain('a member of the grantee');
    expect(JSON.stringify(viaMember.body)).not.toContain(shared.curp);
    // The additional credit guarantee (R004-20's case) is allowed once nothing is pending.
    const guarantee = await award(t, operator, f2013.id, { beneficiaryId: empresa.id, awardAmount: '300000.00', stage: 'garantia-ics', projectCost: '600000.00', supportType: 'garantia' });
    expect(guarantee.status).toBe(201);
    expect(guarantee.body.limit).toMatchObject({ amount: '300000.00', bound: 'member_cap' });
  });
});
