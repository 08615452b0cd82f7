import { sumMoney } from '../../src/common/money';
import { createTestApp, TestApp } from '../support/app';
import { approveBatch, balanceByCode, batchLines, draftBatch, payableOf, postResults } from '../support/payout-fixtures';
import {
  acceptLoan,
  applyLoan,
  approveLoan,
  borrowers,
  disbursedLoan,
  disburseLoan,
  LoanActors,
  loanKey,
  loanProgram,
  portfolio,
  repayLoan,
} from '../support/loan-fixtures';

describe('loans and revolving funds (FONDESOC 000, Cali Fondo Solidario 001)', () => {
  let t: TestApp;
  let who: LoanActors;
  let approver2: Awaited<ReturnType<TestApp['staff']>>;
  let auditor: Awaited<ReturnType<TestApp['staff']>>;
  const MAY_2020 = '2020-05-15T17:00:00Z';
  const DEC_2022 = '2022-12-15T17:00:00Z';

  beforeAll(async () => {
    t = await createTestApp({ now: new Date(MAY_2020) });
    who = { officer: await t.staff('program_officer'), operator: await t.staff('finance_operator'), approver: await t.staff('finance_approver') };
    approver2 = await t.staff('finance_approver');
    auditor = await t.staff('auditor');
  });
  beforeEach(() => t.clock.set(MAY_2020));
  afterAll(() => t.close());

  const schedule = async (loanId: string) => (await t.http.get(`/v1/loans/${loanId}/schedule`).set(auditor.auth).expect(200)).body as Array<Record<string, any>>;
  const loan = async (loanId: string) => (await t.http.get(`/v1/loans/${loanId}`).set(auditor.auth).expect(200)).body;

  it('R000-01, R000-02, R000-05: FONDESOC end to end — apply, approve, online acceptance before disbursement, payout batch to the bank, schedule, repayments oldest first, portfolio', async () => {
    const program = await loanProgram(t, 'FONDESOC', { capital: '500000.00' });
    const [borrower] = await borrowers(t, program.id, 1);
    const [withoutClabe] = await borrowers(t, program.id, 1, { bankAccount: false });

    const wrong = await applyLoan(t, program.id, who.officer, { beneficiaryId: borrower, principal: '9000.00' }).expect(422);
    expect(wrong.body).toMatchObject({ code: 'invalid_principal', principalMin: '10000.00', principalMax: '10000.00' });
    const applied = await applyLoan(t, program.id, who.officer, { beneficiaryId: borrower, principal: '10000.00' }).expect(201);
    expect(applied.body).toMatchObject({ status: 'applied', principal: '10000.00', number: expect.stringMatching(/^LN-\d{8}$/) });
    expect((await applyLoan(t, program.id, who.officer, { beneficiaryId: borrower, principal: '10000.00' }).expect(409)).body.code).toBe('loan_exists');
    const id = applied.body.id;

    // Disbursement before approval, then before the acceptance (R000-05).
    expect((await disburseLoan(t, id, who.operator).expect(409)).body.code).toBe('invalid_loan_state');
    await approveLoan(t, id, who.approver).expect(200);
    const early = await disburseLoan(t, id, who.operator).expect(422);
    expect(early.body.code).toBe('acceptance_required');
    expect(await balanceByCode(t, payableOf(program.id, 'borrower', borrower))).toBe('0.00');
    const future = await t.http.post(`/v1/loans/${id}/acceptance`).set(who.officer.auth).send({ acceptedAt: '2020-05-16T00:00:00Z', documentRef: 'X' }).expect(400);
    expect(future.body.code).toBe('validation_failed');
    const accepted = await acceptLoan(t, id, who.officer).expect(200);
    expect(accepted.body.acceptance).toMatchObject({ documentRef: expect.stringMatching(/^ACEPTACION\//) });
    const disbursed = await disburseLoan(t, id, who.operator).expect(200);
    expect(disbursed.body).toMatchObject({ status: 'disbursed', disbursedOn: '2020-05-15', graceMonths: 3, instalments: 12, outstanding: '10000.00' });

    // A borrower without bank details cannot be disbursed.
    const other = await applyLoan(t, program.id, who.officer, { beneficiaryId: withoutClabe, principal: '10000.00' }).expect(201);
    await approveLoan(t, other.body.id, who.approver).expect(200);
    await acceptLoan(t, other.body.id, who.officer).expect(200);
    expect((await disburseLoan(t, other.body.id, who.operator).expect(422)).body.code).toBe('missing_bank_account');

    // The schedule fixed at disbursement: 3 months of grace, then 12 equal instalments, the remainder on the last.
    const s = await schedule(id);
    expect(s).toHaveLength(12);
    expect(s[0]).toEqual({ number: 1, dueOn: '2020-09-15', amount: '833.33', paid: '0.00', status: 'due' });
    expect(s[11]).toMatchObject({ number: 12, dueOn: '2021-08-15', amount: '833.37' });
    expect(sumMoney(s.map((i) => i.amount)).toFixed(2)).toBe('10000.00');

    // The money reaches the borrower through the existing payout batches (kind loans).
    expect(await balanceByCode(t, payableOf(program.id, 'borrower', borrower))).toBe('10000.00');
    const batch = await draftBatch(t, program.id, 'loans', who.operator).expect(201);
    expect(batch.body).toMatchObject({ controlCount: 1, controlTotal: '10000.00' });
    await approveBatch(t, batch.body.id, who.approver).expect(200);
    const [line] = await batchLines(t, batch.body.id, who.operator);
    await postResults(t, batch.body.id, who.operator, [{ lineId: line.id, status: 'paid' }]).expect(200);
    expect(await balanceByCode(t, payableOf(program.id, 'borrower', borrower))).toBe('0.00');

    // Repayments: the oldest instalment first; more than the outstanding is refused.
    t.clock.set('2020-09-20T17:00:00Z');
    const paid = await repayLoan(t, id, who.operator, { amount: '1000.00', paidOn: '2020-09-18', reference: 'LN-pay-1' }).expect(201);
    expect(paid.body.allocation).toEqual([{ number: 1, amount: '833.33' }, { number: 2, amount: '166.67' }]);
    expect(paid.body.loan).toMatchObject({ repaid: '1000.00', outstanding: '9000.00', status: 'disbursed' });
    const after = await schedule(id);
    expect(after.slice(0, 3).map((i) => [i.status, i.paid])).toEqual([['paid', '833.33'], ['due', '166.67'], ['due', '0.00']]);
    expect((await repayLoan(t, id, who.operator, { amount: '9000.01', paidOn: '2020-09-18', reference: 'LN-pay-2' }).expect(422)).body).toMatchObject({ code: 'overpayment', outstanding: '9000.00' });
    expect((await repayLoan(t, id, who.operator, { amount: '1.00', paidOn: '2020-09-18', reference: 'LN-pay-1' }).expect(409)).body.code).toBe('duplicate_repayment');
    await repayLoan(t, id, who.operator, { amount: '9000.00', paidOn: '2020-09-19', reference: 'LN-pay-3' }).expect(201);
    expect(await loan(id)).toMatchObject({ status: 'repaid', outstanding: '0.00', repaid: '10000.00' });

    // Not revolving (FONDESOC): the repayments are recovered, not lent again.
    const p = await portfolio(t, program.id, auditor);
    expect(p.caps).toEqual({
      loans: { approved: 2, max: 50000 },
      money: { basis: 'budget', capital: '500000.00', lent: '10000.00', committed: '10000.00', available: '480000.00' },
    });
    expect(p.fund).toMatchObject({ repaid: '10000.00', returnedToPool: '0.00', recoveredNotLendable: '10000.00', receivable: '0.00', ok: true });
    expect(p.byStatus).toEqual([
      { status: 'approved', loans: 1, principal: '10000.00', outstanding: '0.00' },
      { status: 'repaid', loans: 1, principal: '10000.00', outstanding: '0.00' },
    ]);
    expect(p.repaymentRate).toBe('1.0000');
  });

  it('R000-01: the count cap refuses exactly the approvals over it under 50 concurrent approvals, and the money cap those over the budget', async () => {
    const capped = await loanProgram(t, 'FONDESOC', { capital: '500000.00', rules: (r) => ({ ...r, loan: { ...r.loan!, maxLoans: 30 } }) });
    const apply = async (programId: string) =>
      Promise.all((await borrowers(t, programId, 50)).map(async (b) => (await applyLoan(t, programId, who.officer, { beneficiaryId: b, principal: '10000.00' }).expect(201)).body.id as string));
    const ids = await apply(capped.id);
    const results = await Promise.all(ids.map((id) => approveLoan(t, id, who.approver)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(30);
    expect(results.filter((r) => r.status === 422).map((r) => r.body.code)).toEqual(Array(20).fill('loan_cap_reached'));
    const p = await portfolio(t, capped.id, auditor);
    expect(p.caps.loans).toEqual({ approved: 30, max: 30 });
    expect(p.caps.money).toMatchObject({ committed: '300000.00', available: '200000.00' });

    // The money cap: $250,000 of budget lends 25 loans of $10,000 and refuses the other 25.
    const poor = await loanProgram(t, 'FONDESOC', { capital: '250000.00' });
    const ids2 = await apply(poor.id);
    const results2 = await Promise.all(ids2.map((id) => approveLoan(t, id, who.approver)));
    expect(results2.filter((r) => r.status === 200)).toHaveLength(25);
    expect(results2.filter((r) => r.status === 422).map((r) => r.body.code)).toEqual(Array(25).fill('insufficient_budget'));
    const p2 = await portfolio(t, poor.id, auditor);
    expect(p2.caps).toMatchObject({ loans: { approved: 25 }, money: { committed: '250000.00', available: '0.00' } });
    expect(p2.fund.ok).toBe(true);
    // 100 applications and 100 approvals over HTTP: more than the default minute on a busy shared machine.
  }, 240_000);

  it('R000-01: batches of loans are approved and disbursed all or none, against the same two caps', async () => {
    const program = await loanProgram(t, 'FONDESOC', { capital: '100000.00', rules: (r) => ({ ...r, loan: { ...r.loan!, maxLoans: 5 } }) });
    const ids: string[] = [];
    for (const b of await borrowers(t, program.id, 6)) ids.push((await applyLoan(t, program.id, who.officer, { beneficiaryId: b, principal: '10000.00' }).expect(201)).body.id);
    const batch = (what: 'approve' | 'disburse', actor: typeof who.approver, loanIds: string[], programId = program.id) =>
      t.http.post(`/v1/programs/${programId}/loans/${what}`).set(actor.auth).set('Idempotency-Key', loanKey()).send({ loanIds });
    expect((await batch('approve', who.approver, ids).expect(422)).body.code).toBe('loan_cap_reached');
    expect((await portfolio(t, program.id, auditor)).caps).toMatchObject({ loans: { approved: 0 }, money: { committed: '0.00' } });
    const approved = await batch('approve', who.approver, ids.slice(0, 5)).expect(200);
    expect(approved.body).toMatchObject({ approved: 5, total: '50000.00' });
    expect((await batch('approve', who.approver, ids.slice(4)).expect(409)).body).toMatchObject({ code: 'invalid_loan_state', loanIds: [ids[4]] });
    for (const id of ids.slice(0, 4)) await acceptLoan(t, id, who.officer).expect(200);
    const early = await batch('disburse', who.operator, ids.slice(0, 5)).expect(422);
    expect(early.body).toMatchObject({ code: 'acceptance_required', loanIds: [ids[4]] });
    await acceptLoan(t, ids[4], who.officer).expect(200);
    expect((await batch('disburse', who.operator, ids.slice(0, 5)).expect(200)).body).toMatchObject({ disbursed: 5, total: '50000.00', disbursedOn: '2020-05-15' });
    for (const id of ids.slice(0, 5)) {
      expect(await loan(id)).toMatchObject({ status: 'disbursed', outstanding: '10000.00' });
      expect(sumMoney((await schedule(id)).map((i) => i.amount)).toFixed(2)).toBe('10000.00');
    }
    expect((await portfolio(t, program.id, auditor)).fund).toMatchObject({ disbursed: '50000.00', committed: '0.00', lendable: '50000.00', receivable: '50000.00', ok: true });

    // The money cap: $30,000 lends a batch of 3 loans, never a batch of 4.
    const poor = await loanProgram(t, 'FONDESOC', { capital: '30000.00' });
    const more: string[] = [];
    for (const b of await borrowers(t, poor.id, 4)) more.push((await applyLoan(t, poor.id, who.officer, { beneficiaryId: b, principal: '10000.00' }).expect(201)).body.id);
    expect((await batch('approve', who.approver, more, poor.id).expect(422)).body.code).toBe('insufficient_budget');
    expect((await portfolio(t, poor.id, auditor)).caps.loans.approved).toBe(0);
    await batch('approve', who.approver, more.slice(0, 3), poor.id).expect(200);
    expect((await portfolio(t, poor.id, auditor)).caps).toMatchObject({ loans: { approved: 3 }, money: { available: '0.00' } });
  }, 120_000);

  it('R001-02, R001-03: the Cali fund takes applications until 2022-12-15; on 2022-12-16 → 422 enrolment_closed; a new term opens only with a new agreement', async () => {
    t.clock.set(DEC_2022);
    const program = await loanProgram(t, 'CALI-FONDO-SOLIDARIO');
    const [a, b] = await borrowers(t, program.id, 2);
    await applyLoan(t, program.id, who.officer, { beneficiaryId: a, principal: '2000000.00', line: 'microcredito' }).expect(201);
    expect((await applyLoan(t, program.id, who.officer, { beneficiaryId: b, principal: '2000000.00' }).expect(422)).body.code).toBe('invalid_loan_line');
    t.clock.set('2022-12-16T17:00:00Z');
    const closed = await applyLoan(t, program.id, who.officer, { beneficiaryId: b, principal: '2000000.00', line: 'microcredito' }).expect(422);
    expect(closed.body).toMatchObject({ code: 'enrolment_closed', closesOn: '2022-12-15' });
    // The next term: the old agreement's window never reopens by itself; new rules with a new agreement open it.
    t.clock.set('2023-03-01T17:00:00Z');
    expect((await applyLoan(t, program.id, who.officer, { beneficiaryId: b, principal: '2000000.00', line: 'microcredito' }).expect(422)).body.code).toBe('enrolment_closed');
    const next = await loanProgram(t, 'CALI-FONDO-SOLIDARIO', {
      rules: (r) => ({ ...r, enrolment: { opensOn: '2023-02-01', closesOn: '2023-12-15', agreement: 'Convenio Fondo Solidario 2023 (nuevo)' } }),
    });
    const [c] = await borrowers(t, next.id, 1);
    await applyLoan(t, next.id, who.officer, { beneficiaryId: c, principal: '2000000.00', line: 'microcredito' }).expect(201);
  });

  it('R001-01: a revolving fund lends repaid money again, and its reconciliation holds (capital + returned − disbursed − committed = lendable)', async () => {
    t.clock.set('2022-06-01T17:00:00Z');
    const program = await loanProgram(t, 'CALI-FONDO-SOLIDARIO', { capital: '5000000.00' });
    const [a, b] = await borrowers(t, program.id, 2);
    const first = await disbursedLoan(t, program.id, who, { beneficiaryId: a, principal: '5000000.00', line: 'microcredito' });
    expect(first).toMatchObject({ currency: 'COP', graceMonths: 2, instalments: 12 });
    const second = await applyLoan(t, program.id, who.officer, { beneficiaryId: b, principal: '1000000.00', line: 'capital-de-trabajo' }).expect(201);
    expect((await approveLoan(t, second.body.id, who.approver).expect(422)).body.code).toBe('insufficient_budget');

    t.clock.set('2022-09-05T17:00:00Z');
    await repayLoan(t, first.id, who.operator, { amount: '1000000.00', paidOn: '2022-09-01', reference: 'LN-cali-1' }).expect(201);
    const mid = await portfolio(t, program.id, auditor);
    expect(mid.fund).toMatchObject({ capital: '5000000.00', repaid: '1000000.00', returnedToPool: '1000000.00', disbursed: '5000000.00', lendable: '1000000.00', receivable: '4000000.00', ok: true });
    expect(mid.caps.money).toMatchObject({ basis: 'lendable_pool', available: '1000000.00' });

    // The repaid million is lent again.
    await approveLoan(t, second.body.id, who.approver).expect(200);
    await acceptLoan(t, second.body.id, who.officer).expect(200);
    await disburseLoan(t, second.body.id, who.operator).expect(200);
    const end = await portfolio(t, program.id, auditor);
    expect(end.fund).toMatchObject({ disbursed: '6000000.00', lendable: '0.00', receivable: '5000000.00', ok: true });
    const audit = await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200);
    expect(audit.body.ok).toBe(true);
  });

  it('R001-05: the portfolio reports execution by zone from the borrower\'s address', async () => {
    t.clock.set('2022-06-01T17:00:00Z');
    const program = await loanProgram(t, 'CALI-FONDO-SOLIDARIO', { capital: '9000000.00' });
    const [a, b, c] = await borrowers(t, program.id, 3);
    const zone = (id: string, municipality: string) => t.db.query(`UPDATE beneficiaries SET address = address || jsonb_build_object('municipality', $2::text) WHERE id = $1`, [id, municipality]);
    await zone(a, 'Comuna 6');
    await zone(b, 'Comuna 6');
    await zone(c, 'Corregimiento Montebello');
    for (const [who_, principal] of [[a, '1000000.00'], [b, '2000000.00'], [c, '3000000.00']]) {
      await disbursedLoan(t, program.id, who, { beneficiaryId: who_, principal, line: 'microcredito' });
    }
    expect((await portfolio(t, program.id, auditor)).byZone).toEqual([
      { zone: 'Comuna 6', loans: 2, disbursed: '3000000.00', outstanding: '3000000.00' },
      { zone: 'Corregimiento Montebello', loans: 1, disbursed: '3000000.00', outstanding: '3000000.00' },
    ]);
  });

  it('a late instalment ages on the business clock: the daily job marks it late and the loan delinquent; a repayment makes it current again', async () => {
    const program = await loanProgram(t, 'FONDESOC', { capital: '20000.00' });
    const [b] = await borrowers(t, program.id, 1);
    const l = await disbursedLoan(t, program.id, who, { beneficiaryId: b, principal: '10000.00' });
    const run = async () => (await t.http.post('/v1/loans/delinquency/run').set(who.operator.auth).expect(200)).body.programs.find((p: { programId: string }) => p.programId === program.id);

    // Due 2020-09-15: still current on that date (Mexico City), late from the 16th.
    t.clock.set('2020-09-16T04:00:00Z');
    expect(await run()).toMatchObject({ date: '2020-09-15', instalmentsLate: 0, loansDelinquent: 0 });
    t.clock.set('2020-09-16T17:00:00Z');
    expect(await run()).toMatchObject({ date: '2020-09-16', instalmentsLate: 1, loansDelinquent: 1 });
    expect(await run()).toMatchObject({ instalmentsLate: 0, loansDelinquent: 0 });
    expect(await loan(l.id)).toMatchObject({ status: 'delinquent', pastDueSince: '2020-09-15', daysPastDue: 1, ageingBucket: '1-30' });
    expect((await schedule(l.id))[0].status).toBe('late');

    t.clock.set('2020-10-26T17:00:00Z');
    await run();
    expect(await loan(l.id)).toMatchObject({ status: 'delinquent', pastDueSince: '2020-09-15', daysPastDue: 41, ageingBucket: '31-60' });
    const p = await portfolio(t, program.id, auditor);
    expect(p.ageing.find((a: { bucket: string }) => a.bucket === '31-60')).toEqual({ bucket: '31-60', loans: 1, outstanding: '10000.00' });
    expect(p.expectedCollections[0]).toEqual({ month: '2020-09', amount: '833.33' });
    expect(p.repaymentRate).toBe('0.0000');

    // Paying both instalments due makes the loan current again.
    await repayLoan(t, l.id, who.operator, { amount: '1666.66', paidOn: '2020-10-26', reference: 'LN-late-1' }).expect(201);
    expect(await loan(l.id)).toMatchObject({ status: 'disbursed', pastDueSince: null, daysPastDue: 0, ageingBucket: 'current' });
  });

  it('the bank repayment file is imported line by line and idempotently: a line already imported changes nothing', async () => {
    const program = await loanProgram(t, 'FONDESOC', { capital: '20000.00' });
    const [a, b] = await borrowers(t, program.id, 2);
    const la = await disbursedLoan(t, program.id, who, { beneficiaryId: a, principal: '10000.00' });
    const lb = await disbursedLoan(t, program.id, who, { beneficiaryId: b, principal: '10000.00' });
    t.clock.set('2020-10-01T17:00:00Z');
    const file = [
      'reference,amount,paidOn',
      `${la.number}/OP-1,833.33,2020-09-15`,
      `${lb.number}/OP-2,500.00,2020-09-16`,
      `${lb.number}/OP-3,20000.00,2020-09-16`,
      `LN-99999999/OP-4,1.00,2020-09-16`,
      `garbage,1.00,2020-09-16`,
      '',
    ].join('\r\n');
    const post = (body: string) =>
      t.http.post(`/v1/programs/${program.id}/loan-repayments/import`).set(who.operator.auth).set('Idempotency-Key', loanKey()).set('content-type', 'text/csv').send(body);
    const entries = async () => (await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind = 'loan_repayment' AND metadata->>'programId' = $1`, [program.id]))[0].n;
    const first = await post(file).expect(200);
    expect(first.body).toMatchObject({ lines: 5, applied: 2, unchanged: 0, refused: 3 });
    expect(first.body.results.map((r: Record<string, string>) => [r.line, r.status, r.reason ?? null])).toEqual([
      [2, 'applied', null],
      [3, 'applied', null],
      [4, 'refused', 'overpayment'],
      [5, 'refused', 'unknown_loan'],
      [6, 'refused', 'invalid_reference'],
    ]);
    expect(await entries()).toBe(2);
    const again = await post(file).expect(200);
    expect(again.body).toMatchObject({ applied: 0, unchanged: 2, refused: 3 });
    expect(await entries()).toBe(2);
    expect(await loan(lb.id)).toMatchObject({ repaid: '500.00' });
    // The same reference with another amount is a conflict, not a second payment.
    const conflict = await post(`reference,amount,paidOn\r\n${la.number}/OP-1,100.00,2020-09-15\r\n`).expect(200);
    expect(conflict.body.results).toEqual([expect.objectContaining({ status: 'refused', reason: 'reference_conflict' })]);
    expect(await loan(la.id)).toMatchObject({ repaid: '833.33' });
  });

  it('write-off is maker-checker: the operator asks, another user approves; the receivable drops and the fund still reconciles', async () => {
    const program = await loanProgram(t, 'FONDESOC', { capital: '10000.00' });
    const [b] = await borrowers(t, program.id, 1);
    const l = await disbursedLoan(t, program.id, who, { beneficiaryId: b, principal: '10000.00' });
    t.clock.set('2021-03-01T17:00:00Z');
    await repayLoan(t, l.id, who.operator, { amount: '2000.00', paidOn: '2021-02-20', reference: 'LN-wo-1' }).expect(201);
    expect((await t.http.post(`/v1/loans/${l.id}/write-off/approve`).set(approver2.auth).set('Idempotency-Key', loanKey()).expect(409)).body.code).toBe('invalid_loan_state');
    await t.http.post(`/v1/loans/${l.id}/write-off`).set(who.operator.auth).send({ reason: 'sin localizar' }).expect(200);
    expect((await t.http.post(`/v1/loans/${l.id}/write-off/approve`).set(who.operator.auth).set('Idempotency-Key', loanKey()).expect(403)).body.code).toBe('forbidden');
    const done = await t.http.post(`/v1/loans/${l.id}/write-off/approve`).set(approver2.auth).set('Idempotency-Key', loanKey()).expect(200);
    expect(done.body).toMatchObject({ status: 'written_off', writtenOff: '8000.00', outstanding: '0.00', writeOff: { reason: 'sin localizar' } });
    expect((await schedule(l.id)).filter((i) => i.status === 'written_off')).toHaveLength(10);
    const p = await portfolio(t, program.id, auditor);
    expect(p.fund).toMatchObject({ disbursed: '10000.00', repaid: '2000.00', writtenOff: '8000.00', receivable: '0.00', ok: true });
    expect((await repayLoan(t, l.id, who.operator, { amount: '1.00', paidOn: '2021-02-21', reference: 'LN-wo-2' }).expect(409)).body.code).toBe('invalid_loan_state');
  });
});
