// Own BullMQ prefix (under the run's prefix, so global setup clears it): cycles enqueue jobs nobody runs here.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:treasury-bajas`;

import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, createProgram, RULES } from '../support/cycle-fixtures';

/** Reintegros of bajas (P42), deaths with deposits after the date of death, and uncollected cards (P22). */
describe('treasury: reintegros of bajas and uncollected cards', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let cycles: CyclesService;
  let sweeps: SweepsService;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let operator: Awaited<ReturnType<TestApp['staff']>>;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-02-25T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    cycles = t.app.get(CyclesService);
    sweeps = t.app.get(SweepsService);
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
  });
  afterAll(() => t.close());

  /** Runs a monthly cycle to the end without workers: draft, approve, start, one chunk, finish. */
  async function runCycle(programId: string, period: string) {
    const d = await cycles.createDraft(programId, { period, kind: 'deposit' }, { userId: null, name: 'test:preparer' });
    await cycles.approve(d.id, { userId: null, name: 'test:approver' });
    await cycles.start(d.id);
    await cycles.postChunk(d.id, 1, d.controlCount);
    return cycles.finish(d.id);
  }

  const reintegrosOf = async (programId: string) =>
    (await t.http.get(`/v1/reintegros?programId=${programId}`).set(operator.auth).expect(200)).body.data as Array<Record<string, any>>;

  it('death with accumulated balance: the whole balance is reintegrated, deposits for periods after the death itemised', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '100000.00' });
    const [dead, alive] = await addBeneficiaries(t.db, program.id, 2, { incorporatedOn: '2016-01-10' });
    for (const period of ['2016-02', '2016-03', '2016-04', '2016-05']) {
      t.clock.set(`${period}-01T12:00:00Z`);
      expect(await runCycle(program.id, period)).toMatchObject({ status: 'completed', postedCount: 2 });
    }
    // A purchase in March leaves 4 × 1,075.20 − 300.55 = 4,000.25 on the card.
    const shop = await ledger.ensureAccount({ code: `test:shop:${randomUUID()}`, name: 'shop', category: 'test' });
    await ledger.post({
      kind: 'redemption',
      idempotencyKey: `test-redemption:${randomUUID()}`,
      effectiveAt: new Date('2016-03-10T18:00:00Z'),
      postings: [
        { accountId: dead.accountId!, side: 'debit', amount: money('300.55') },
        { accountId: shop.id, side: 'credit', amount: money('300.55') },
      ],
    });
    expect(await balanceOf(t.db, dead.accountId!)).toBe('4000.25');

    // The death (20 March) is notified in May: the April and May deposits were paid after it.
    t.clock.set('2016-05-10T17:00:00Z');
    const res = await t.http.post(`/v1/beneficiaries/${dead.beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'death', effectiveDate: '2016-03-20' }).expect(200);
    expect(res.body.reintegro.amount).toBe('4000.25');
    expect(await balanceOf(t.db, dead.accountId!)).toBe('0.00');
    expect(await balanceOf(t.db, alive.accountId!)).toBe('4300.80');

    const [r] = (await reintegrosOf(program.id)).filter((x) => x.journalEntryId === res.body.reintegro.journalEntryId);
    expect(r).toMatchObject({
      programId: program.id,
      cause: 'baja',
      bajaCause: 'death',
      amount: '4000.25',
      source: 'instrument',
      sourceAccountIds: [dead.accountId],
      beneficiaryId: dead.beneficiaryId,
      instrumentIds: [dead.instrumentId],
      status: 'pending',
    });
    expect(r.details.effectiveDate).toBe('2016-03-20');
    expect(r.details.depositsAfterDeathTotal).toBe('2150.40');
    expect(r.details.depositsAfterDeath.map((d: { period: string; amount: string }) => [d.period, d.amount])).toEqual([
      ['2016-04', '1075.20'],
      ['2016-05', '1075.20'],
    ]);
    // One record per baja entry, written in the baja's transaction; the API shows it by id too.
    const one = await t.http.get(`/v1/reintegros/${r.id}`).set(operator.auth).expect(200);
    expect(one.body.amount).toBe('4000.25');

    // A cycle after the baja does not pay the deceased: the blocked card is an exception line.
    t.clock.set('2016-06-01T12:00:00Z');
    expect(await runCycle(program.id, '2016-06')).toMatchObject({ postedCount: 1 });
    expect(await balanceOf(t.db, dead.accountId!)).toBe('0.00');
  });

  it('any other baja with a zero balance records no reintegro; a voluntary rejection with balance does', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '10000.00' });
    const [empty, rich] = await addBeneficiaries(t.db, program.id, 2);
    await t.http.post(`/v1/beneficiaries/${empty.beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'not_located', effectiveDate: '2016-06-01' }).expect(200);
    await ledger.post({
      kind: 'deposit',
      idempotencyKey: `test-deposit:${randomUUID()}`,
      effectiveAt: t.clock.now(),
      postings: [
        { accountId: program.budgetAccountId, side: 'debit', amount: money('1075.20') },
        { accountId: rich.accountId!, side: 'credit', amount: money('1075.20') },
      ],
    });
    await t.http.post(`/v1/beneficiaries/${rich.beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'voluntary_rejection', effectiveDate: '2016-06-01' }).expect(200);
    const list = await reintegrosOf(program.id);
    expect(list.map((x) => [x.cause, x.bajaCause, x.amount, x.beneficiaryId])).toEqual([['baja', 'voluntary_rejection', '1075.20', rich.beneficiaryId]]);
  });

  it('a replaced card never collected: after 30 business days from arrival and 3 visits on different days → baja and full reintegro (P22)', async () => {
    const rules = { ...RULES.pension, cardCollection: { businessDays: 30, visits: 3 } };
    const program = await createProgram(t.db, ledger, { rules, budget: '100000.00' });
    const [b] = await addBeneficiaries(t.db, program.id, 1);
    t.clock.set('2016-02-26T17:00:00Z');
    await ledger.post({
      kind: 'deposit',
      idempotencyKey: `test-deposit:${randomUUID()}`,
      effectiveAt: t.clock.now(),
      postings: [
        { accountId: program.budgetAccountId, side: 'debit', amount: money('3225.60') },
        { accountId: b.accountId!, side: 'credit', amount: money('3225.60') },
      ],
    });
    // Lost card: the replacement carries the balance and must be delivered again.
    const replaced = await t.http.post(`/v1/instruments/${b.instrumentId}/replace`).set(officer.auth).expect(201);
    const card = replaced.body;
    expect(card.status).toBe('issued');
    t.clock.set('2016-05-01T17:00:00Z');
    const arrival = await t.http.post(`/v1/instruments/${card.id}/arrival`).set(officer.auth).send({ arrivedOn: '2016-03-01', batch: 'LOTE-7' }).expect(200);
    expect(arrival.body).toMatchObject({ recorded: 1, arrivedOn: '2016-03-01' });
    // Arrivals and visits are for issued cards only.
    const old = await t.http.post(`/v1/instruments/${b.instrumentId}/delivery-visits`).set(officer.auth).send({ visitedAt: '2016-03-10T16:00:00Z' }).expect(409);
    expect(old.body.code).toBe('invalid_status_transition');
    const future = await t.http.post(`/v1/instruments/${card.id}/delivery-visits`).set(officer.auth).send({ visitedAt: '2016-12-10T16:00:00Z' }).expect(400);
    expect(future.body.code).toBe('validation_failed');

    for (const at of ['2016-03-10T16:00:00Z', '2016-03-10T22:00:00Z', '2016-03-28T15:00:00Z']) {
      await t.http.post(`/v1/instruments/${card.id}/delivery-visits`).set(officer.auth).send({ visitedAt: at, note: 'no se localizó' }).expect(201);
    }
    const record = await t.http.get(`/v1/instruments/${card.id}/delivery-visits`).set(officer.auth).expect(200);
    // 30 business days from 1 March 2016, skipping weekends and 21 March (holiday calendar).
    expect(record.body).toMatchObject({ arrivedOn: '2016-03-01', deliveryDeadline: '2016-04-13', visitsRequired: 3 });
    expect(record.body.visits).toHaveLength(3);

    // Three visits but only two different days: not yet.
    expect((await sweeps.cardCollection({ programId: program.id, date: '2016-04-20' })).bajas).toBe(0);
    await t.http.post(`/v1/instruments/${card.id}/delivery-visits`).set(officer.auth).send({ visitedAt: '2016-04-05T15:00:00Z' }).expect(201);
    // Three days of visits, but the deadline day (13 April) has not ended: a sweep as at the end of 12 April does nothing.
    expect((await sweeps.cardCollection({ programId: program.id, date: '2016-04-12' })).bajas).toBe(0);

    const done = await sweeps.cardCollection({ programId: program.id, date: '2016-04-13' });
    expect(done).toMatchObject({ bajas: 1, items: [expect.objectContaining({ beneficiaryId: b.beneficiaryId, instrumentId: card.id, reintegro: '3225.60' })] });
    expect(await balanceOf(t.db, card.accountId)).toBe('0.00');
    const [inst] = await t.db.query(`SELECT status FROM instruments WHERE id = $1`, [card.id]);
    expect(inst.status).toBe('cancelled');
    const [ben] = await t.db.query(`SELECT status, deactivation_cause, to_char(deactivated_on, 'YYYY-MM-DD') AS d FROM beneficiaries WHERE id = $1`, [b.beneficiaryId]);
    expect(ben).toEqual({ status: 'inactive', deactivation_cause: 'card_not_collected', d: '2016-04-14' });
    const list = await reintegrosOf(program.id);
    expect(list.map((x) => [x.cause, x.bajaCause, x.amount, x.instrumentIds])).toEqual([['card_not_collected', 'card_not_collected', '3225.60', [card.id]]]);

    // A re-run finds nothing to do and posts nothing.
    expect((await sweeps.cardCollection({ programId: program.id, date: '2016-04-30' })).bajas).toBe(0);
    expect(await reintegrosOf(program.id)).toHaveLength(1);
    // Reintegros by cause in the auditors' indicators read the reintegros table.
    const auditor = await t.staff('auditor');
    const ind = await t.http.get(`/v1/audit/programs/${program.id}/indicators`).set(auditor.auth).expect(200);
    expect(ind.body.reintegrosByCause).toEqual([{ cause: 'card_not_collected', source: 'reintegros', count: 1, amount: '3225.60' }]);
  });

  it('refuses a sweep of a business date that has not ended, and bad list filters', async () => {
    t.clock.set('2016-05-01T17:00:00Z');
    await expect(sweeps.cardCollection({ date: '2016-05-01' })).rejects.toMatchObject({ code: 'sweep_date_open' });
    await t.http.get('/v1/reintegros?status=lost').set(operator.auth).expect(400);
    await t.http.get('/v1/reintegros?limit=501').set(operator.auth).expect(400);
    await t.http.get('/v1/reintegros?cursor=zzz').set(operator.auth).expect(400);
    await t.http.get('/v1/reintegros').set(officer.auth).expect(403);
  });
});
