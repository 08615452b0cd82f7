// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:payouts-batches`;

import { randomUUID } from 'node:crypto';
import { sumMoney } from '../../src/common/money';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, meetObligations } from '../support/cycle-fixtures';
import { award, enrolCollective, loadGrantProgram } from '../support/grant-fixtures';
import {
  approveBatch,
  balanceByCode,
  batchLines,
  clabe,
  draftBatch,
  key,
  payableOf,
  payoutEntries,
  postResults,
  programFromFixture,
  runCycle,
  transitOf,
} from '../support/payout-fixtures';

describe('payouts: batches, results, bajas and reconciliation', () => {
  let t: TestApp;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let approver2: Awaited<ReturnType<TestApp['staff']>>;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let auditor: Awaited<ReturnType<TestApp['staff']>>;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    approver2 = await t.staff('finance_approver');
    officer = await t.staff('program_officer');
    auditor = await t.staff('auditor');
  });
  beforeEach(() => t.clock.set('2016-02-25T18:00:00Z'));
  afterAll(() => t.close());

  const reintegrosOf = async (programId: string) =>
    (await t.http.get(`/v1/reintegros?programId=${programId}`).set(operator.auth).expect(200)).body.data as Array<Record<string, any>>;

  it('SD-2, W3: Desempleo month 6 (term_completed) keeps what was paid and stops future payments; false_information sends the unpaid money to reintegro', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00' });
    const [worker, liar] = await addBeneficiaries(t.db, program.id, 2, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    for (const period of ['2016-01', '2016-02', '2016-03', '2016-04', '2016-05', '2016-06']) await runCycle(t, program.id, period, operator, approver);
    const payable = payableOf(program.id, 'beneficiary', worker.beneficiaryId);
    expect(await balanceByCode(t, payable)).toBe('12902.40');

    const baja = await t.http
      .post(`/v1/beneficiaries/${worker.beneficiaryId}/deactivate`)
      .set(officer.auth)
      .send({ cause: 'term_completed', effectiveDate: '2016-06-30' })
      .expect(200);
    expect(baja.body).toMatchObject({ status: 'inactive', onBaja: 'keep', reintegro: { amount: '0.00', journalEntryId: null } });
    expect(await balanceByCode(t, payable)).toBe('12902.40');

    // A false_information baja (SD-14: the transfer is suspended): what was not sent yet goes to reintegro.
    const fraud = await t.http.post(`/v1/beneficiaries/${liar.beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'false_information', effectiveDate: '2016-06-30' }).expect(200);
    expect(fraud.body).toMatchObject({ onBaja: 'reintegro', reintegro: { amount: '12902.40' } });
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', liar.beneficiaryId))).toBe('0.00');
    expect((await reintegrosOf(program.id)).map((r) => [r.cause, r.bajaCause, r.source, r.amount, r.beneficiaryId])).toEqual([
      ['baja', 'false_information', 'payable', '12902.40', liar.beneficiaryId],
    ]);

    // No seventh month for anyone (SD-2: «cesará automáticamente»).
    const july = await runCycle(t, program.id, '2016-07', operator, approver);
    expect(july).toMatchObject({ controlCount: 0 });
    // What was paid to her is still hers: the next beneficiaries batch transfers it to her bank card.
    const batch = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(batch.body).toMatchObject({ controlCount: 1, controlTotal: '12902.40' });
    await approveBatch(t, batch.body.id, approver).expect(200);
    const [line] = await batchLines(t, batch.body.id, operator);
    await postResults(t, batch.body.id, operator, [{ lineId: line.id, status: 'paid' }]).expect(200);
    expect(await balanceByCode(t, payable)).toBe('0.00');
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true, disbursed: '25804.80', paidOut: '12902.40', reintegrated: '12902.40' });
  });

  it('P42: a Pensión baja still moves the whole card balance to reintegro (fixture rules, onBaja "reintegro")', async () => {
    const program = await programFromFixture(t, 'PENSION-AM', { budget: '10000.00' });
    const [elder] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-01-10' });
    await runCycle(t, program.id, '2016-03', operator, approver);
    expect(await balanceOf(t.db, elder.accountId!)).toBe('1075.20');
    const baja = await t.http.post(`/v1/beneficiaries/${elder.beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'term_completed', effectiveDate: '2016-03-15' }).expect(200);
    expect(baja.body).toMatchObject({ onBaja: 'reintegro', instrumentsBlocked: 1, reintegro: { amount: '1075.20' } });
    expect(await balanceOf(t.db, elder.accountId!)).toBe('0.00');
    const [card] = await t.db.query(`SELECT status, blocked_reason FROM instruments WHERE id = $1`, [elder.instrumentId]);
    expect(card).toEqual({ status: 'blocked', blocked_reason: 'baja' });
    expect((await reintegrosOf(program.id)).map((r) => [r.cause, r.source, r.amount])).toEqual([['baja', 'instrument', '1075.20']]);
  });

  it('results: a line of another batch, an unknown line, an exception line or another amount → 422 and nothing applied; a contradiction → 422; the same results twice change nothing', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00' });
    const people = await addBeneficiaries(t.db, program.id, 3, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);
    const first = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    // Her bank details change between draft and approval: her line is an exception, her money stays on her payable.
    await t.http.put(`/v1/beneficiaries/${people[2].beneficiaryId}/bank-account`).set(officer.auth).send({ clabe: clabe(77), holderName: 'NUEVA' }).expect(200);
    const sent = await approveBatch(t, first.body.id, approver).expect(200);
    expect(sent.body).toMatchObject({ sentCount: 2, sentTotal: '4300.80', exceptionCount: 1, exceptionTotal: '2150.40', controlTotal: '6451.20' });
    await runCycle(t, program.id, '2016-04', operator, approver);
    const second = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    await approveBatch(t, second.body.id, approver).expect(200);

    const mine = await batchLines(t, first.body.id, operator);
    const theirs = await batchLines(t, second.body.id, operator);
    const sentLines = mine.filter((l) => l.status === 'sent');
    const exception = mine.find((l) => l.status === 'exception')!;
    expect(exception.exceptionReason).toBe('bank_account_changed');
    const before = { entries: await payoutEntries(t, program.id), transit: await balanceByCode(t, transitOf(program.id)) };
    const refused = async (body: unknown[], code: string) => {
      const r = await postResults(t, first.body.id, operator, body).expect(422);
      expect(r.body.code).toBe(code);
      expect({ entries: await payoutEntries(t, program.id), transit: await balanceByCode(t, transitOf(program.id)) }).toEqual(before);
      expect((await batchLines(t, first.body.id, operator)).filter((l) => l.status === 'sent')).toHaveLength(2);
      return r.body;
    };
    const ok = { lineId: sentLines[0].id, status: 'paid' };
    expect(await refused([ok, { lineId: theirs[0].id, status: 'paid' }], 'payout_line_not_in_batch')).toMatchObject({ lineIds: [theirs[0].id] });
    expect(await refused([ok, { lineId: randomUUID(), status: 'paid' }], 'payout_line_not_in_batch')).toMatchObject({ lineIds: [expect.any(String)] });
    await refused([ok, { lineId: exception.id, status: 'paid' }], 'payout_line_not_sent');
    await refused([ok, { lineId: sentLines[1].id, status: 'paid', amount: '2150.41' }], 'payout_amount_mismatch');
    await refused([ok, ok], 'duplicate_result_line');
    expect((await postResults(t, first.body.id, operator, 'line_id,status\r\nnope,paid\r\n').expect(400)).body.code).toBe('validation_failed');
    await t.http.post(`/v1/payout-batches/${first.body.id}/results`).set(operator.auth).set('Idempotency-Key', key()).set('content-type', 'text/plain').send('x').expect(415);
    // Other routes still take JSON only.
    expect((await t.http.post('/v1/payout-batches').set(operator.auth).set('Idempotency-Key', key()).set('content-type', 'text/csv').send('programId,kind').expect(415)).body.code).toBe('unsupported_media_type');
    // A bank's answer is bigger than the API's usual 1 MiB body: this route takes it (here 2 MiB of unknown lines, refused whole).
    const big = Array.from({ length: 30000 }, () => ({ lineId: randomUUID(), status: 'paid', reason: 'x'.repeat(20) }));
    expect(JSON.stringify(big).length).toBeGreaterThan(2 * 1024 * 1024);
    await refused(big, 'payout_line_not_in_batch');

    const results = [
      { lineId: sentLines[0].id, status: 'paid', amount: '2150.40' },
      { lineId: sentLines[1].id, status: 'rejected', reason: 'cuenta cancelada' },
    ];
    expect((await postResults(t, first.body.id, operator, results).expect(200)).body).toMatchObject({ paid: 1, rejected: 1, unchanged: 0 });
    const after = await payoutEntries(t, program.id);
    expect((await postResults(t, first.body.id, approver, results).expect(200)).body).toMatchObject({ paid: 0, rejected: 0, unchanged: 2 });
    expect(await payoutEntries(t, program.id)).toBe(after);
    // The bank cannot change its mind about a line.
    expect((await postResults(t, first.body.id, operator, [{ lineId: sentLines[0].id, status: 'rejected' }]).expect(422)).body.code).toBe('payout_result_conflict');
    // A draft batch takes no results.
    await runCycle(t, program.id, '2016-05', operator, approver);
    const third = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect((await postResults(t, third.body.id, operator, results).expect(409)).body.code).toBe('invalid_payout_batch_state');
    await t.http.post(`/v1/payout-batches/${third.body.id}/cancel`).set(operator.auth).expect(200);
    await t.http.post(`/v1/payout-batches/${third.body.id}/cancel`).set(operator.auth).expect(409);
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true });
  });

  it('concurrency: many approvals of one batch move its money once, many imports of the same results apply them once, one draft per program and kind', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '1000000.00' });
    await addBeneficiaries(t.db, program.id, 40, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);

    const drafts = await Promise.all(Array.from({ length: 8 }, () => draftBatch(t, program.id, 'beneficiaries', operator)));
    expect(drafts.map((d) => d.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const batch = drafts.find((d) => d.status === 201)!.body;
    expect(batch).toMatchObject({ controlCount: 40, controlTotal: '86016.00' });

    const approvals = await Promise.all(Array.from({ length: 10 }, (_, i) => approveBatch(t, batch.id, i % 2 ? approver : approver2)));
    expect(approvals.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    expect(approvals.filter((a) => a.status === 409).every((a) => a.body.code === 'invalid_payout_batch_state')).toBe(true);
    expect(await balanceByCode(t, transitOf(program.id))).toBe('86016.00');
    const [sends] = await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE idempotency_key = $1`, [`payout:${batch.id}:sent`]);
    expect(sends.n).toBe(1);

    const lines = await batchLines(t, batch.id, operator);
    const results = lines.map((l, i) => ({ lineId: l.id, status: i % 4 === 0 ? 'rejected' : 'paid' }));
    const imports = await Promise.all(Array.from({ length: 10 }, (_, i) => postResults(t, batch.id, i % 2 ? operator : approver, results)));
    expect(imports.every((r) => r.status === 200)).toBe(true);
    expect(imports.reduce((n, r) => n + r.body.paid, 0)).toBe(30);
    expect(imports.reduce((n, r) => n + r.body.rejected, 0)).toBe(10);
    const [kinds] = await t.db.query(
      `SELECT count(*) FILTER (WHERE kind = 'payout_paid')::int AS paid, count(*) FILTER (WHERE kind = 'payout_returned')::int AS returned
         FROM journal_entries WHERE metadata->>'payoutBatchId' = $1`,
      [batch.id],
    );
    expect(kinds).toEqual({ paid: 1, returned: 1 });
    expect(await balanceByCode(t, transitOf(program.id))).toBe('0.00');
    expect(await balanceByCode(t, 'bank:payouts:MXN')).not.toBe('0.00');
  });

  it('payout_rejected: after rules.payout.maxAttempts (3) rejected transfers the money goes to reintegro; at the fiscal-year close so does rejected money still waiting', async () => {
    const program = await programFromFixture(t, 'SEGURO-VF', { budget: '100000.00' });
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const [stubborn, waiting] = await addBeneficiaries(t.db, program.id, 2, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);
    const reject = async (beneficiaryId: string, attempt: number) => {
      const d = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
      await approveBatch(t, d.body.id, approver).expect(200);
      const lines = await batchLines(t, d.body.id, operator);
      const line = lines.find((l) => l.payeeId === beneficiaryId)!;
      expect(line.attempt).toBe(attempt);
      const r = await postResults(t, d.body.id, operator, lines.map((l) => ({ lineId: l.id, status: 'rejected', reason: `intento ${attempt}` }))).expect(200);
      return r.body;
    };
    // Attempt 1 for both; then only the stubborn one gets new bank details, twice.
    expect(await reject(stubborn.beneficiaryId, 1)).toMatchObject({ rejected: 2, reintegrated: 0 });
    for (const attempt of [2, 3]) {
      await t.http.put(`/v1/beneficiaries/${stubborn.beneficiaryId}/bank-account`).set(officer.auth).send({ clabe: clabe(100 + attempt), holderName: 'TERCA' }).expect(200);
      const r = await reject(stubborn.beneficiaryId, attempt);
      expect(r).toMatchObject(attempt === 3 ? { rejected: 1, reintegrated: 1, reintegratedTotal: '1500.00' } : { rejected: 1, reintegrated: 0 });
    }
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', stubborn.beneficiaryId))).toBe('0.00');
    const third = (await reintegrosOf(program.id)).filter((r) => r.cause === 'payout_rejected');
    expect(third).toMatchObject([
      { amount: '1500.00', source: 'payable', status: 'pending', beneficiaryId: stubborn.beneficiaryId, details: { attempts: 3, trigger: 'max_attempts', lastRejection: 'intento 3' } },
    ]);

    // Fiscal-year close: the other woman's rejected $1,500 still waits for new bank details.
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', waiting.beneficiaryId))).toBe('1500.00');
    t.clock.set('2017-01-02T12:00:00Z');
    const close = await t.app.get(SweepsService).fiscalClose({ programId: program.id, date: '2016-12-31' });
    expect(close.payoutRejected).toMatchObject([{ programId: program.id, amount: '1500.00' }]);
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', waiting.beneficiaryId))).toBe('0.00');
    const atClose = (await reintegrosOf(program.id)).filter((r) => r.cause === 'payout_rejected' && r.details.trigger === 'fiscal_close');
    expect(atClose).toMatchObject([{ amount: '1500.00', beneficiaryId: waiting.beneficiaryId, details: { attempts: 1 } }]);
    // Once: a second run takes nothing.
    expect((await t.app.get(SweepsService).fiscalClose({ programId: program.id, date: '2016-12-31' })).payoutRejected).toEqual([]);
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true, reintegrated: '3000.00' });
  });

  it('concurrency: an approval and the fiscal-year close racing for the same rejected money never deadlock; each peso is sent or reintegrated once', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '1000000.00' });
    const people = await addBeneficiaries(t.db, program.id, 60, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);
    const first = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    await approveBatch(t, first.body.id, approver).expect(200);
    await postResults(t, first.body.id, operator, (await batchLines(t, first.body.id, operator)).map((l) => ({ lineId: l.id, status: 'rejected' }))).expect(200);
    for (const [i, p] of people.entries()) {
      await t.http.put(`/v1/beneficiaries/${p.beneficiaryId}/bank-account`).set(officer.auth).send({ clabe: clabe(1000 + i), holderName: 'NUEVA CUENTA' }).expect(200);
    }
    const retry = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(retry.body).toMatchObject({ controlCount: 60, controlTotal: '129024.00' });

    t.clock.set('2017-01-02T12:00:00Z');
    const [approval, close] = await Promise.all([
      approveBatch(t, retry.body.id, approver),
      t.app.get(SweepsService).fiscalClose({ programId: program.id, date: '2016-12-31' }),
    ]);
    expect(approval.status).toBe(200);
    const reintegrated = sumMoney(close.payoutRejected.map((r) => String(r.amount)));
    expect(sumMoney([approval.body.sentTotal, reintegrated]).toFixed(2)).toBe('129024.00');
    expect(approval.body.exceptionTotal).toBe(reintegrated.toFixed(2));
    const [lines] = await t.db.query(
      `SELECT count(*) FILTER (WHERE followup = 'retried')::int AS retried, count(*) FILTER (WHERE followup = 'reintegrated')::int AS reintegrated
         FROM payout_lines WHERE batch_id = $1`,
      [first.body.id],
    );
    expect(lines.retried + lines.reintegrated).toBe(60);
    expect(lines.retried).toBe(approval.body.sentCount);
    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true });
  });

  it('payout_rejected: rules.payout.maxAttempts 1 sends the money to reintegro on the first rejection', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '10000.00', rules: (r) => ({ ...r, payout: { method: 'bank', maxAttempts: 1 } }) });
    await addBeneficiaries(t.db, program.id, 1, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);
    const d = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(d.body.maxAttempts).toBe(1);
    await approveBatch(t, d.body.id, approver).expect(200);
    const [line] = await batchLines(t, d.body.id, operator);
    expect((await postResults(t, d.body.id, operator, [{ lineId: line.id, status: 'rejected' }]).expect(200)).body).toMatchObject({ reintegrated: 1, reintegratedTotal: '2150.40' });
  });

  it('W11: a program reconciles to the centavo with batches in every state (draft, sent, completed with paid, rejected and reintegrated lines, cancelled); the trial balance carries payables and money in transit', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00', rules: (r) => ({ ...r, payout: { method: 'bank', maxAttempts: 1 } }) });
    await addBeneficiaries(t.db, program.id, 4, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    await runCycle(t, program.id, '2016-03', operator, approver);
    const completed = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    await approveBatch(t, completed.body.id, approver).expect(200);
    const lines = await batchLines(t, completed.body.id, operator);
    await postResults(t, completed.body.id, operator, lines.map((l, i) => ({ lineId: l.id, status: i === 0 ? 'rejected' : 'paid' }))).expect(200);

    await runCycle(t, program.id, '2016-04', operator, approver);
    const cancelled = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    await t.http.post(`/v1/payout-batches/${cancelled.body.id}/cancel`).set(approver.auth).expect(200);
    const sent = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    await approveBatch(t, sent.body.id, approver).expect(200);
    const partly = await batchLines(t, sent.body.id, operator);
    await postResults(t, sent.body.id, operator, [{ lineId: partly[0].id, status: 'paid' }]).expect(200);
    await runCycle(t, program.id, '2016-05', operator, approver);
    const draft = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);

    const rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec.equations.map((e: { ok: boolean }) => e.ok)).toEqual([true, true]);
    expect(rec).toMatchObject({
      ok: true,
      payoutsOk: true,
      disbursed: '25804.80', // 12 months of 2,150.40
      paidOut: '8601.60', // 3 transfers of March, 1 of April
      reintegrated: '2150.40', // the March rejection (maxAttempts 1)
      inTransit: '6451.20', // 3 April transfers the bank has not answered
      payables: '8601.60', // May, drafted: a draft moves nothing
    });
    expect(rec.payoutBatches.map((b: { status: string }) => b.status)).toEqual(['completed', 'cancelled', 'sent', 'draft']);
    expect(rec.payoutBatches.every((b: { ok: boolean }) => b.ok)).toBe(true);
    expect(draft.body.controlTotal).toBe('8601.60');

    const tb = (await t.http.get(`/v1/audit/trial-balance?programId=${program.id}`).set(auditor.auth).expect(200)).body;
    expect(tb.balanced).toBe(true);
    const byCategory = (c: string) => sumMoney(tb.accounts.filter((a: { category: string }) => a.category === c).map((a: { balance: string }) => a.balance)).toFixed(2);
    expect(byCategory('bank_in_transit')).toBe('6451.20');
    expect(byCategory('payee_payable')).toBe('8601.60');
  });

  it('COOP-8, M4, COOP-10b–e: a Cooperativas tranche leaves the grant account through a grants batch to the cooperative\'s CLABE; a later demand opens a receivable and moves nothing; a restitution reaches the reintegro', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS', { appropriate: 'authorized' });
    const coop = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 6 });
    const noBank = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 5 });
    await t.http.put(`/v1/beneficiaries/${coop.id}/bank-account`).set(officer.auth).send({ clabe: clabe(500), holderName: 'COOPERATIVA EL ÁRBOL SC DE RL' }).expect(200);
    const grant = (await award(t, operator, program.id, { beneficiaryId: coop.id, awardAmount: '50000.00', stage: 'fortalecimiento-1' }).expect(201)).body;
    const waiting = (await award(t, operator, program.id, { beneficiaryId: noBank.id, awardAmount: '20000.00', stage: 'fortalecimiento-1' }).expect(201)).body;
    const cycles = t.app.get(CyclesService);
    const d = await cycles.createDraft(program.id, { period: '2016-03', kind: 'tranche' }, { userId: null, name: 'test:preparer' });
    await cycles.approve(d.id, { userId: null, name: 'test:approver' });
    await cycles.start(d.id);
    await cycles.postChunk(d.id, 1, d.controlCount);
    await cycles.finish(d.id);
    // The tranche drew from the award reserve (grant:<id>:award) into the grant account.
    expect(await balanceOf(t.db, grant.awardAccountId)).toBe('0.00');
    expect(await balanceOf(t.db, grant.accountId)).toBe('50000.00');

    const batch = await draftBatch(t, program.id, 'grants', operator).expect(201);
    expect(batch.body).toMatchObject({ kind: 'grants', controlCount: 1, controlTotal: '50000.00', exclusions: { missing_bank_account: 1 } });
    const excluded = (await t.http.get(`/v1/payout-batches/${batch.body.id}/exclusions`).set(officer.auth).expect(200)).body.data;
    expect(excluded).toMatchObject([{ payeeKind: 'grantee', payeeId: noBank.id, reason: 'missing_bank_account', amount: '20000.00' }]);
    await approveBatch(t, batch.body.id, approver).expect(200);
    expect(await balanceOf(t.db, grant.accountId)).toBe('0.00');
    const [line] = await batchLines(t, batch.body.id, operator);
    expect(line).toMatchObject({ payeeKind: 'grantee', payeeId: coop.id, grantId: grant.id, sourceAccountId: grant.accountId });
    await postResults(t, batch.body.id, operator, [{ lineId: line.id, status: 'paid' }]).expect(200);

    // No proof: the second letter (7 days after the day-45 letter) demands the 50,000 at the
    // cooperative's bank. The demand is a receivable; nothing moves out of the grant account.
    t.clock.set('2016-05-10T18:00:00Z');
    const sweeps = t.app.get(SweepsService);
    for (const date of ['2016-03-31', '2016-04-15']) await sweeps.trancheProofs({ programId: program.id, date });
    const sweep = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-22' });
    // The other cooperative's tranche, still in its grant account for want of a CLABE, is demanded
    // too: the receipt date is the release date (COOP-10a design decision), whether transferred or not.
    expect(sweep.demands).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ grantId: grant.id, trancheNo: 1, amount: '50000.00', dueOn: '2016-04-29' }),
        expect.objectContaining({ grantId: waiting.id, trancheNo: 1, amount: '20000.00', dueOn: '2016-04-29' }),
      ]),
    );
    expect(sweep.demands).toHaveLength(2);
    expect(await balanceOf(t.db, waiting.accountId)).toBe('20000.00');
    const demanded = (await t.http.get(`/v1/grants/${grant.id}`).set(approver.auth).expect(200)).body;
    expect(demanded).toMatchObject({ status: 'demanded', balance: '0.00', receivable: { cause: 'unproven_tranche', amount: '50000.00', paid: '0.00', status: 'open' } });
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('0.00');
    expect(await reintegrosOf(program.id)).toEqual([]);
    let rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true, paidOut: '50000.00', reintegrated: '0.00' });

    // The cooperative pays it back: bank → grant account → reintegro, in one request; the grant
    // account ends empty, so no grants batch can pay it out again.
    await t.http
      .post(`/v1/grants/${grant.id}/restitutions`)
      .set(operator.auth)
      .set('Idempotency-Key', randomUUID())
      .send({ amount: '50000.00', paidOn: '2016-04-27', reference: 'SPEI-2016-04-27' })
      .expect(201);
    expect(await balanceOf(t.db, grant.accountId)).toBe('0.00');
    expect((await reintegrosOf(program.id)).map((r) => [r.cause, r.amount, r.source])).toEqual([['unproven_tranche', '50000.00', 'grant']]);
    const again = await draftBatch(t, program.id, 'grants', operator).expect(422);
    expect(again.body).toMatchObject({ code: 'nothing_to_pay', exclusions: { missing_bank_account: 1 } }); // only the other cooperative's 20,000
    rec = (await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200)).body;
    expect(rec).toMatchObject({ ok: true, payoutsOk: true, paidOut: '0.00', reintegrated: '50000.00' });
  });
});
