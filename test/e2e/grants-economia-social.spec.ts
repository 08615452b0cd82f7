process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:grants-es`;

import { createTestApp, TestApp } from '../support/app';
import { award, enrolCollective, grant, loadGrantProgram, proveTranche, randomRfc, runTrancheCycle, Staff } from '../support/grant-fixtures';

/**
 * Fomento a la Economía Social 2020 end to end, on fixtures/programs/08-economia-social.json:
 * table A caps before and after legal constitution, one ministración, one support per fiscal
 * year and per modality, pending proof (review W6, W15; issue 17).
 */
describe('grants: Fomento a la Economía Social 2020 (fixture)', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2020-03-02T18:00:00Z') });
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  it('R003-17 (W6): ARRANQUE for 8 members is $26,250 each before legal constitution and $33,600 each after it', async () => {
    const program = await loadGrantProgram(t, 'ECONOMIA-SOCIAL', { appropriate: '5000000.00' });
    const osse = await enrolCollective(t, officer, program.id, { kind: 'group', members: 8 });
    const before = await award(t, operator, program.id, { beneficiaryId: osse.id, awardAmount: '210000.01', stage: 'arranque' });
    expect(before.status).toBe(422);
    expect(before.body).toMatchObject({ code: 'award_above_limit', bound: 'member_cap', limit: '210000.00' });
    expect(before.body.detail).toContain('26250.00 per member × 8 members');
    const consolida = await award(t, operator, program.id, { beneficiaryId: osse.id, awardAmount: '100000.00', stage: 'consolida' });
    expect([consolida.status, consolida.body.code]).toEqual([422, 'stage_not_applicable']); // R003-20

    await t.http.post(`/v1/beneficiaries/${osse.id}/legal-constitution`).set(officer.auth).send({ kind: 'cooperative', rfc: randomRfc(), constitutedOn: '2020-02-14' }).expect(200);
    const after = await award(t, operator, program.id, { beneficiaryId: osse.id, awardAmount: '268800.01', stage: 'arranque' });
    expect(after.body).toMatchObject({ code: 'award_above_limit', bound: 'member_cap', limit: '268800.00' });
    // The award may be for fewer members than registered, never for more.
    const more = await award(t, operator, program.id, { beneficiaryId: osse.id, awardAmount: '1.00', stage: 'arranque', members: 9 });
    expect([more.status, more.body.code]).toEqual([422, 'members_not_registered']);
    const ok = await award(t, operator, program.id, { beneficiaryId: osse.id, awardAmount: '268800.00', stage: 'arranque' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ members: 8, limit: { amount: '268800.00', bound: 'member_cap' }, component: 'arranque' });
    expect(ok.body.plan).toEqual([expect.objectContaining({ trancheNo: 1, amount: '268800.00', label: 'Una sola ministración' })]);

    const big = await enrolCollective(t, officer, program.id, { kind: 'group', members: 25 });
    const capped = await award(t, operator, program.id, { beneficiaryId: big.id, awardAmount: '375000.01', stage: 'arranque' });
    expect(capped.body).toMatchObject({ code: 'award_above_limit', bound: 'stage_cap', limit: '375000.00' }); // 21+: the project cap only
  });

  it('R003-13, R003-15 and pending proof: award → one ministración → proof; one support a fiscal year and one per modality', async () => {
    const es2020 = await loadGrantProgram(t, 'ECONOMIA-SOCIAL', { appropriate: '300000.00' });
    const osse = await enrolCollective(t, officer, es2020.id, { kind: 'cooperative', members: 8 });
    const broke = await award(t, operator, es2020.id, { beneficiaryId: osse.id, awardAmount: '300000.01', stage: 'desarrolla' });
    expect([broke.status, broke.body.code]).toEqual([422, 'insufficient_budget']); // R003-15: within the cap (8 × 46,260), above the budget
    const g = (await award(t, operator, es2020.id, { beneficiaryId: osse.id, awardAmount: '200000.00', stage: 'arranque' }).expect(201)).body;
    expect(await runTrancheCycle(t, operator, approver, es2020.id, '2020-04')).toMatchObject({ postedTotal: '200000.00' });

    // The next fiscal year, same lineage: pending proof blocks any award of the OSSE (same RFC, new enrolment).
    const es2021 = await loadGrantProgram(t, 'ECONOMIA-SOCIAL', { lineage: es2020.lineage, fiscalYear: 2021, appropriate: '2000000.00' });
    const again = await enrolCollective(t, officer, es2021.id, { kind: 'cooperative', members: 8, rfc: osse.rfc });
    const pending = await award(t, operator, es2021.id, { beneficiaryId: again.id, awardAmount: '100000.00', stage: 'desarrolla' });
    expect([pending.status, pending.body.code, pending.body.grantId]).toEqual([422, 'pending_proof', g.id]);
    await proveTranche(t, operator, approver, g.id, 1, '200000.00');
    expect((await grant(t, approver, g.id)).status).toBe('finished');

    // One per fiscal year (2020 already has its support) …
    const sameYear = await award(t, operator, es2020.id, { beneficiaryId: osse.id, awardAmount: '50000.00', stage: 'desarrolla' });
    expect(sameYear.body).toMatchObject({ code: 'support_already_received', rule: 'R003-13 (uno por ejercicio fiscal)' });
    // … one per modality across the years …
    const sameModality = await award(t, operator, es2021.id, { beneficiaryId: again.id, awardAmount: '100000.00', stage: 'arranque' });
    expect(sameModality.body).toMatchObject({ code: 'support_already_received', rule: 'R003-13 (uno por cada modalidad)' });
    // … and the next modality the next year.
    const next = await award(t, operator, es2021.id, { beneficiaryId: again.id, awardAmount: '100000.00', stage: 'desarrolla' });
    expect(next.status).toBe(201);
  });
});
