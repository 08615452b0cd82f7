process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:grants`;

import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, createProgram, waitForCycle } from '../support/cycle-fixtures';

describe('disbursement cycles: grant tranches (a generic three-tranche plan)', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  const tranche = async (programId: string, period: string) =>
    (await t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', `g-${++key}-${Date.now()}`).send({ period, kind: 'tranche' }).expect(201)).body;
  const run = async (cycleId: string) => {
    await t.http.post(`/v1/cycles/${cycleId}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, cycleId, ['completed', 'completed_with_exceptions']);
    return (await t.http.get(`/v1/cycles/${cycleId}`).set(approver.auth).expect(200)).body;
  };

  it('releases tranche n+1 only after the proof of tranche n is accepted; proof deadlines count business days', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'threeTranches', budget: '1000000.00' });
    const [a, b] = await addBeneficiaries(t.db, program.id, 2, { instrument: 'none' });
    const grantA = await t.http.post(`/v1/programs/${program.id}/grants`).set(operator.auth).set('Idempotency-Key', `ga-${Date.now()}`).send({ beneficiaryId: a.beneficiaryId, awardAmount: '100000.00' }).expect(201);
    expect(grantA.body.plan.map((p: { amount: string }) => p.amount)).toEqual(['50000.00', '30000.00', '20000.00']);
    const grantB = await t.http.post(`/v1/programs/${program.id}/grants`).set(operator.auth).set('Idempotency-Key', `gb-${Date.now()}`).send({ beneficiaryId: b.beneficiaryId, awardAmount: '60000.01' }).expect(201);
    expect(grantB.body.plan.map((p: { amount: string }) => p.amount)).toEqual(['30000.01', '18000.00', '12000.00']);
    const dup = await t.http.post(`/v1/programs/${program.id}/grants`).set(operator.auth).set('Idempotency-Key', `gd-${Date.now()}`).send({ beneficiaryId: b.beneficiaryId, awardAmount: '1.00' }).expect(409);
    expect(dup.body.code).toBe('grant_exists');
    // Each award reserved its whole amount from the budget into its own reserve.
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('839999.99');
    expect(grantA.body).toMatchObject({ reserved: '100000.00', status: 'active', component: 'awards', limit: { amount: null, bound: null } });
    const deposit = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', `g-dep-${Date.now()}`).send({ period: '2016-03', kind: 'deposit' }).expect(422);
    expect(deposit.body.code).toBe('cycle_kind_not_supported');

    // Tranche 1 of both grants.
    const first = await tranche(program.id, '2016-03');
    expect(first).toMatchObject({ kind: 'tranche', controlCount: 2, controlTotal: '80000.01', paymentDate: '2016-03-01' });
    expect(await run(first.id)).toMatchObject({ status: 'completed', postedTotal: '80000.01' });
    expect(await balanceOf(t.db, grantA.body.accountId)).toBe('50000.00');
    // Tranches come out of the awards' reserves; the budget does not move again.
    expect(await balanceOf(t.db, grantA.body.awardAccountId)).toBe('50000.00');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('839999.99');
    const viewA = (await t.http.get(`/v1/grants/${grantA.body.id}`).set(approver.auth).expect(200)).body;
    // 20 business days after 1 March 2016, skipping weekends and 21 March (Natalicio de Benito Juárez).
    expect(viewA.tranches).toEqual([expect.objectContaining({ trancheNo: 1, amount: '50000.00', status: 'released', releasedOn: '2016-03-01', proofDueOn: '2016-03-30', overdue: false })]);

    // Without accepted proof, the next tranche cycle pays nobody.
    const waiting = await tranche(program.id, '2016-04');
    expect(waiting).toMatchObject({ controlCount: 0, exclusions: { awaiting_proof: 2 } });
    await t.http.post(`/v1/cycles/${waiting.id}/cancel`).set(operator.auth).expect(200);

    // Proofs: amount and document references; reviewed by finance staff other than the submitter.
    const notReleased = await t.http.post(`/v1/grants/${grantA.body.id}/tranches/2/proofs`).set(operator.auth).send({ amount: '1.00', documents: [{ reference: 'X' }] }).expect(422);
    expect(notReleased.body.code).toBe('tranche_not_released');
    const noDocs = await t.http.post(`/v1/grants/${grantA.body.id}/tranches/1/proofs`).set(operator.auth).send({ amount: '1.00', documents: [] }).expect(400);
    expect(noDocs.body.code).toBe('validation_failed');
    const partial = await t.http.post(`/v1/grants/${grantA.body.id}/tranches/1/proofs`).set(operator.auth)
      .send({ amount: '20000.00', documents: [{ reference: 'FAC-001', kind: 'invoice' }] }).expect(201);
    const admin = await t.staff('admin');
    const own = await t.http.post(`/v1/grants/${grantB.body.id}/tranches/1/proofs`).set(admin.auth).send({ amount: '30000.01', documents: [{ reference: 'FAC-B1' }] }).expect(201);
    const self = await t.http.post(`/v1/grant-proofs/${own.body.id}/accept`).set(admin.auth).send({}).expect(403);
    expect(self.body.code).toBe('same_user_cannot_approve');
    await t.http.post(`/v1/grant-proofs/${own.body.id}/reject`).set(approver.auth).send({ note: 'facturas sin RFC' }).expect(200);
    const accepted1 = await t.http.post(`/v1/grant-proofs/${partial.body.id}/accept`).set(approver.auth).send({}).expect(200);
    expect(accepted1.body).toMatchObject({ status: 'accepted', trancheStatus: 'released' }); // 20,000 of 50,000 proven
    const again = await t.http.post(`/v1/grant-proofs/${partial.body.id}/accept`).set(approver.auth).send({}).expect(409);
    expect(again.body.code).toBe('proof_not_pending');
    const rest = await t.http.post(`/v1/grants/${grantA.body.id}/tranches/1/proofs`).set(operator.auth)
      .send({ amount: '30000.00', documents: [{ reference: 'FAC-002' }, { reference: 'FICHA-DEP-1', kind: 'deposit_slip' }] }).expect(201);
    const accepted2 = await t.http.post(`/v1/grant-proofs/${rest.body.id}/accept`).set(approver.auth).send({}).expect(200);
    expect(accepted2.body.trancheStatus).toBe('proven');

    // Tranche 2 only for the grant whose tranche 1 is proven.
    const second = await tranche(program.id, '2016-05');
    expect(second).toMatchObject({ controlCount: 1, controlTotal: '30000.00', exclusions: { awaiting_proof: 1 } });
    expect(await run(second.id)).toMatchObject({ status: 'completed', postedCount: 1 });
    expect(await balanceOf(t.db, grantA.body.accountId)).toBe('80000.00');
    expect(await balanceOf(t.db, grantB.body.accountId)).toBe('30000.01');
    const lines = (await t.http.get(`/v1/cycles/${second.id}/lines`).set(approver.auth).expect(200)).body.data;
    expect(lines).toEqual([expect.objectContaining({ grantId: grantA.body.id, trancheNo: 2, amount: '30000.00', status: 'posted' })]);
    const entry = await t.db.query(`SELECT kind, metadata FROM journal_entries WHERE id = $1`, [lines[0].journalEntryId]);
    expect(entry[0]).toMatchObject({ kind: 'cycle_tranche', metadata: { grantId: grantA.body.id, trancheNo: 2, component: 'awards' } });
    // An approval commits nothing for lines that draw from an award reserve.
    expect((await t.http.get(`/v1/cycles/${second.id}`).set(approver.auth).expect(200)).body.commitmentAccountId).toBeNull();
    t.clock.set('2016-07-01T18:00:00Z');
    const later = (await t.http.get(`/v1/grants/${grantB.body.id}`).set(approver.auth).expect(200)).body;
    expect(later.tranches[0]).toMatchObject({ status: 'released', overdue: true });
    t.clock.set('2016-02-25T18:00:00Z');
  });
});
