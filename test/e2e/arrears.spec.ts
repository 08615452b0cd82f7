// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:arrears`;

import { PaymentOrdersService } from '../../src/disbursements/payment-orders.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, createProgram, fixtureRules, waitForCycle } from '../support/cycle-fixtures';

/**
 * Money owed (issue 14; docs/disbursements.md "Money owed"), on the seed programs' fixture rules:
 * periods missed while the card was not delivered, blocked or being replaced, and a voucher
 * delivered after its load, are owed and paid once by an arrears cycle or a payment order.
 */
describe('money owed: arrears cycles and payment orders', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-01-05T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    officer = await t.staff('program_officer');
  });
  afterAll(() => t.close());

  const at = (iso: string) => t.clock.set(new Date(iso));
  const idem = () => `k-${++key}-${Date.now()}`;
  const draft = (programId: string, body: Record<string, unknown>) =>
    t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', idem()).send(body);
  const runToEnd = async (programId: string, body: Record<string, unknown>) => {
    const d = await draft(programId, body).expect(201);
    await t.http.post(`/v1/cycles/${d.body.id}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
    return (await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200)).body;
  };
  const arrears = async (programId: string, upTo: string) =>
    (await t.http.get(`/v1/programs/${programId}/arrears?upTo=${upTo}&limit=500`).set(approver.auth).expect(200)).body.data as Array<Record<string, unknown>>;
  const lines = async (cycleId: string) => (await t.http.get(`/v1/cycles/${cycleId}/lines?limit=500`).set(approver.auth).expect(200)).body.data as Array<Record<string, unknown>>;
  const issue = async (beneficiaryId: string) => (await t.http.post(`/v1/beneficiaries/${beneficiaryId}/instruments`).set(officer.auth).expect(201)).body;
  const deliver = (instrumentId: string) => t.http.post(`/v1/instruments/${instrumentId}/deliver`).set(officer.auth).send({ pin: '4321' }).expect(200);
  const accountOf = async (instrumentId: string) => (await t.db.query(`SELECT account_id FROM instruments WHERE id = $1`, [instrumentId]))[0].account_id as string;
  const order = (body: Record<string, unknown>) => t.http.post('/v1/payment-orders').set(operator.auth).set('Idempotency-Key', idem()).send(body);

  it('P20 P21 P22: incorporated in January, card delivered in April → January–March paid once by the April arrears cycle, never twice', async () => {
    at('2016-01-05T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM'), budget: '100000.00' });
    const [person] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-01-01', instrument: 'none' });
    const [late] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-03-15', instrument: 'none' });
    await addBeneficiaries(t.db, program.id, 2, { incorporatedOn: '2016-01-01' });
    const card = await issue(person.beneficiaryId); // at the office, not collected yet (P21: 30 business days)

    for (const [now, period] of [['2016-01-05T18:00:00Z', '2016-01'], ['2016-02-02T18:00:00Z', '2016-02'], ['2016-03-02T18:00:00Z', '2016-03']]) {
      at(now);
      expect(await runToEnd(program.id, { period, kind: 'deposit' })).toMatchObject({ status: 'completed', controlCount: 2 });
    }
    // Owed: January–March, because the card was not delivered; never a month before incorporation (P20).
    const owed = await arrears(program.id, '2016-03');
    expect(owed.map((o) => [o.beneficiaryId, o.period, o.reason, o.amount])).toEqual([
      [person.beneficiaryId, '2016-01', 'instrument_not_delivered', '1075.20'],
      [person.beneficiaryId, '2016-02', 'instrument_not_delivered', '1075.20'],
      [person.beneficiaryId, '2016-03', 'instrument_not_delivered', '1075.20'],
    ]);
    expect(owed.some((o) => o.beneficiaryId === late.beneficiaryId)).toBe(false);
    // A period before incorporation cannot be paid by an order either (P20).
    expect((await order({ programId: program.id, beneficiaryId: late.beneficiaryId, amount: '1075.20', period: '2016-02', reason: 'queja' }).expect(422)).body.code).toBe(
      'period_before_incorporation',
    );

    at('2016-04-05T18:00:00Z');
    await deliver(card.id);
    expect(await runToEnd(program.id, { period: '2016-04', kind: 'deposit' })).toMatchObject({ controlCount: 3, postedCount: 3 });
    const catchUp = await runToEnd(program.id, { period: '2016-04', kind: 'arrears' });
    expect(catchUp).toMatchObject({ kind: 'arrears', status: 'completed', controlCount: 3, controlTotal: '3225.60', postedTotal: '3225.60', exceptionCount: 0 });
    expect((await lines(catchUp.id)).map((l) => [l.period, l.reason, l.status])).toEqual([
      ['2016-01', 'instrument_not_delivered', 'posted'],
      ['2016-02', 'instrument_not_delivered', 'posted'],
      ['2016-03', 'instrument_not_delivered', 'posted'],
    ]);
    // Four months on the card: April's deposit and the three owed ones, each once (P22: the card holds the monto íntegro).
    expect(await balanceOf(t.db, await accountOf(card.id))).toBe('4300.80');
    // Only the late person is owed now: April, the first month on or after their incorporation (P20), with no card yet.
    expect((await arrears(program.id, '2016-04')).map((o) => [o.beneficiaryId, o.period, o.reason])).toEqual([[late.beneficiaryId, '2016-04', 'instrument_not_delivered']]);

    // Never twice: a second arrears cycle finds nothing; an order for a paid month is refused.
    at('2016-05-05T18:00:00Z');
    expect(await runToEnd(program.id, { period: '2016-05', kind: 'arrears' })).toMatchObject({ controlCount: 0 });
    expect((await draft(program.id, { period: '2016-04', kind: 'arrears' }).expect(409)).body.code).toBe('cycle_exists');
    expect((await order({ programId: program.id, beneficiaryId: person.beneficiaryId, amount: '1075.20', period: '2016-02', reason: 'queja' }).expect(409)).body.code).toBe(
      'period_already_paid',
    );
    const paid = await t.db.query(`SELECT period, count(*)::int AS n FROM paid_periods WHERE beneficiary_id = $1 GROUP BY period ORDER BY period`, [person.beneficiaryId]);
    expect(paid).toEqual(['2016-01', '2016-02', '2016-03', '2016-04'].map((period) => ({ period, n: 1 })));
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('87097.60'); // 100,000 − 12 × 1,075.20: 2 cards × 4 months, 4 months of the late card
  });

  it('P31 and a blocked card: a month with the card blocked, a month during replacement, and a deposit line that failed, are owed', async () => {
    at('2016-01-05T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM'), budget: '100000.00' });
    const [blocked, replaced, failed] = await addBeneficiaries(t.db, program.id, 3, { incorporatedOn: '2016-01-01', instrument: 'none' });
    const cards: Record<string, string> = {};
    for (const b of [blocked, replaced, failed]) {
      const c = await issue(b.beneficiaryId);
      await deliver(c.id);
      cards[b.beneficiaryId] = c.id;
    }
    expect(await runToEnd(program.id, { period: '2016-01', kind: 'deposit' })).toMatchObject({ postedCount: 3 });

    at('2016-01-20T18:00:00Z');
    await t.http.post(`/v1/instruments/${cards[blocked.beneficiaryId]}/block`).set(officer.auth).expect(200);
    const replacement = (await t.http.post(`/v1/instruments/${cards[replaced.beneficiaryId]}/replace`).set(officer.auth).expect(201)).body;
    at('2016-02-02T18:00:00Z');
    const feb = await draft(program.id, { period: '2016-02', kind: 'deposit' }).expect(201);
    expect(feb.body.exclusions).toEqual({ no_active_instrument: 2 });
    // The third card is blocked after the draft: its line becomes an exception when the cycle runs.
    await t.http.post(`/v1/instruments/${cards[failed.beneficiaryId]}/block`).set(officer.auth).expect(200);
    await t.http.post(`/v1/cycles/${feb.body.id}/approve`).set(approver.auth).expect(200);
    expect(await waitForCycle(t.db, feb.body.id, ['completed', 'completed_with_exceptions'])).toMatchObject({ status: 'completed_with_exceptions', exception_count: 1 });

    at('2016-02-12T18:00:00Z');
    await t.http.post(`/v1/instruments/${cards[blocked.beneficiaryId]}/unblock`).set(officer.auth).expect(200);
    await t.http.post(`/v1/instruments/${cards[failed.beneficiaryId]}/unblock`).set(officer.auth).expect(200);
    await deliver(replacement.id); // P31: the replacement card, 20 business days later at most
    const owed = await arrears(program.id, '2016-02');
    const reasons = Object.fromEntries(owed.map((o) => [o.beneficiaryId, [o.period, o.reason]]));
    expect(reasons).toEqual({
      [blocked.beneficiaryId]: ['2016-02', 'instrument_blocked'],
      [replaced.beneficiaryId]: ['2016-02', 'instrument_replaced'],
      [failed.beneficiaryId]: ['2016-02', 'instrument_blocked'],
    });
    const catchUp = await runToEnd(program.id, { period: '2016-02', kind: 'arrears' });
    expect(catchUp).toMatchObject({ controlCount: 3, postedCount: 3, postedTotal: '3225.60' });
    expect(await balanceOf(t.db, await accountOf(replacement.id))).toBe('2150.40'); // January carried over by the replacement, February owed
    expect(await balanceOf(t.db, await accountOf(cards[blocked.beneficiaryId]))).toBe('2150.40');
    expect(await arrears(program.id, '2016-02')).toEqual([]);
  });

  it('Útiles (U8/T4): a vale delivered in October gets its load, expiring 31 December; after expiry the load is no longer owed', async () => {
    at('2016-07-20T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('UTILES'), budget: '10000.00' });
    const [pupil, other] = await addBeneficiaries(t.db, program.id, 2, { incorporatedOn: '2016-07-15', instrument: 'none', attributes: { schoolLevel: 'primaria' } });
    at('2016-08-01T18:00:00Z');
    expect(await runToEnd(program.id, { period: '2016-08', kind: 'deposit' })).toMatchObject({ controlCount: 0, loadNumber: 1 });

    at('2016-10-10T18:00:00Z');
    const vale = await issue(pupil.beneficiaryId);
    await deliver(vale.id);
    const otherVale = await issue(other.beneficiaryId);
    await deliver(otherVale.id);
    expect((await arrears(program.id, '2016-10')).map((o) => [o.period, o.loadNumber, o.reason, o.amount])).toEqual([
      ['2016-08', 1, 'late_voucher', '110.00'],
      ['2016-08', 1, 'late_voucher', '110.00'],
    ]);
    // One pupil's load is paid by a payment order for the load's period, the other by the arrears cycle.
    const o = await order({ programId: program.id, beneficiaryId: other.beneficiaryId, amount: '110.00', period: '2016-08', reason: 'vale entregado tarde' }).expect(201);
    await t.http.post(`/v1/payment-orders/${o.body.id}/approve`).set(approver.auth).set('Idempotency-Key', idem()).expect(200);
    const catchUp = await runToEnd(program.id, { period: '2016-10', kind: 'arrears' });
    expect(catchUp).toMatchObject({ controlCount: 1, postedTotal: '110.00' });
    const got = (await t.http.get(`/v1/instruments/${vale.id}`).set(officer.auth).expect(200)).body;
    expect(got.balance.posted).toBe('110.00');
    expect(got.expiresAt).toBe('2017-01-01T06:00:00.000Z'); // end of 31 December 2016, Mexico City

    // A third pupil's vale delivered in October and never paid: owed until 31 December, not after.
    const [third] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-07-15', instrument: 'none', attributes: { schoolLevel: 'secundaria' } });
    await deliver((await issue(third.beneficiaryId)).id);
    at('2016-12-31T18:00:00Z');
    expect((await arrears(program.id, '2016-12')).map((x) => [x.beneficiaryId, x.amount])).toEqual([[third.beneficiaryId, '150.00']]);
    at('2017-01-01T07:00:00Z');
    expect(await arrears(program.id, '2016-12')).toEqual([]);
  });

  it('50 concurrent approvals of an arrears cycle and payment orders for one period pay it once (unique key on lineage, beneficiary, period, load)', async () => {
    at('2016-01-05T18:00:00Z');
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM'), budget: '100000.00' });
    const [person] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-01-01', instrument: 'none' });
    const card = await issue(person.beneficiaryId);
    expect(await runToEnd(program.id, { period: '2016-01', kind: 'deposit' })).toMatchObject({ controlCount: 0 });
    at('2016-01-20T18:00:00Z');
    await deliver(card.id);

    const cycle = await draft(program.id, { period: '2016-01', kind: 'arrears' }).expect(201);
    expect(cycle.body).toMatchObject({ controlCount: 1, controlTotal: '1075.20' });
    const orders: string[] = [];
    for (let i = 0; i < 49; i++) {
      orders.push((await order({ programId: program.id, beneficiaryId: person.beneficiaryId, amount: '1075.20', period: '2016-01', reason: `orden ${i}` }).expect(201)).body.id);
    }
    const results = await Promise.all([
      t.http.post(`/v1/cycles/${cycle.body.id}/approve`).set(approver.auth),
      ...orders.map((id) => t.http.post(`/v1/payment-orders/${id}/approve`).set(approver.auth).set('Idempotency-Key', idem())),
    ]);
    expect(results[0].status).toBe(200);
    const done = await waitForCycle(t.db, cycle.body.id, ['completed', 'completed_with_exceptions']);
    const postedOrders = results.slice(1).filter((r) => r.status === 200).length;
    expect(results.slice(1).every((r) => r.status === 200 || (r.status === 409 && r.body.code === 'period_already_paid'))).toBe(true);
    expect(postedOrders + Number(done.posted_count)).toBe(1);

    expect(await balanceOf(t.db, await accountOf(card.id))).toBe('1075.20');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('98924.80');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM paid_periods WHERE beneficiary_id = $1`, [person.beneficiaryId])).toEqual([{ n: 1 }]);
    if (Number(done.posted_count) === 0) {
      expect(await lines(cycle.body.id)).toEqual([expect.objectContaining({ status: 'exception', exceptionReason: 'period_already_paid' })]);
    }
    // Maker-checker: the preparer of an order cannot approve it.
    const own = await order({ programId: program.id, beneficiaryId: person.beneficiaryId, amount: '10.00', reason: 'ajuste' }).expect(201);
    await expect(t.app.get(PaymentOrdersService).approve(own.body.id, { userId: operator.id, name: 'operator' })).rejects.toMatchObject({ code: 'same_user_cannot_approve' });
  });
});
