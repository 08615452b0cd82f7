// Own BullMQ prefix (under the run's prefix, so global setup clears it).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-money-paths`;

import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram } from '../support/cycle-fixtures';
import { applyLoan, borrowers, disbursedLoan, loanKey, loanProgram } from '../support/loan-fixtures';

type Staff = Awaited<ReturnType<TestApp['staff']>>;

/**
 * The console's read models for the money paths added in this batch: the approvals inbox also
 * lists payment orders, loan applications and loan write-offs; a program's loans page with
 * totals; a beneficiary's folio (and name by role) for pages that hold only an id.
 */
describe('console: payment orders, loans and write-offs in the inbox; the loans list; beneficiary labels', () => {
  let t: TestApp;
  let officer: Staff;
  let operator: Staff;
  let approver: Staff;
  let auditor: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2020-05-15T17:00:00Z') });
    [officer, operator, approver, auditor] = await Promise.all([t.staff('program_officer'), t.staff('finance_operator'), t.staff('finance_approver'), t.staff('auditor')]);
  });
  afterAll(() => t?.close());

  const inbox = async (who: Staff, query: string) => (await t.http.get(`/v1/console/approvals?${query}`).set(who.auth).expect(200)).body;

  it('the inbox lists a draft payment order, a loan application and a requested write-off, each until it is decided', async () => {
    const pension = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension', budget: '10000.00' });
    const [person] = await addBeneficiaries(t.db, pension.id, 1, { incorporatedOn: '2016-01-10' });
    const order = await t.http
      .post('/v1/payment-orders')
      .set(operator.auth)
      .set('Idempotency-Key', loanKey())
      .send({ programId: pension.id, beneficiaryId: person.beneficiaryId, amount: '1075.20', reason: 'resolución de queja 12/2016' })
      .expect(201);
    const [folio] = await t.db.query(`SELECT folio FROM beneficiaries WHERE id = $1`, [person.beneficiaryId]);
    const toApprove = await inbox(approver, `programId=${pension.id}&scope=to_approve`);
    expect(toApprove.total).toBe(1);
    expect(toApprove.data[0]).toMatchObject({ kind: 'payment_order', id: order.body.id, reference: folio.folio, controlCount: 1, controlTotal: '1075.20', preparedBy: `user:${operator.username}` });
    expect((await inbox(operator, `programId=${pension.id}&scope=sent`)).data.map((a: { id: string }) => a.id)).toEqual([order.body.id]);

    const fund = await loanProgram(t, 'FONDESOC', { capital: '100000.00' });
    const [applicant, borrower] = await borrowers(t, fund.id, 2);
    const applied = await applyLoan(t, fund.id, officer, { beneficiaryId: applicant, principal: '10000.00' }).expect(201);
    const lent = await disbursedLoan(t, fund.id, { officer, operator, approver }, { beneficiaryId: borrower, principal: '10000.00' });
    await t.http.post(`/v1/loans/${lent.id}/write-off`).set(operator.auth).send({ reason: 'sin localizar' }).expect(200);
    const loans = await inbox(approver, `programId=${fund.id}&scope=to_approve`);
    expect(loans.data.map((a: { kind: string; id: string }) => [a.kind, a.id])).toEqual([
      ['loan', applied.body.id],
      ['write_off', lent.id],
    ]);
    expect(loans.data[0]).toMatchObject({ reference: applied.body.number, controlTotal: '10000.00', preparedBy: `user:${officer.username}` });
    expect(loans.data[1]).toMatchObject({ reference: lent.number, controlTotal: '10000.00', preparedBy: `user:${operator.username}`, preparedByMe: false });
    // The operator asked for the write-off: it is theirs, "sent", never "to approve"; the loan application is the officer's.
    expect((await inbox(operator, `programId=${fund.id}&scope=sent`)).data.map((a: { kind: string }) => a.kind)).toEqual(['write_off']);
    expect((await inbox(operator, `programId=${fund.id}&scope=to_approve`)).data.map((a: { kind: string }) => a.kind)).toEqual(['loan']);
    expect((await inbox(auditor, `kind=write_off&programId=${fund.id}`)).total).toBe(1);

    // Decided, they leave the inbox.
    await t.http.post(`/v1/payment-orders/${order.body.id}/approve`).set(approver.auth).set('Idempotency-Key', loanKey()).expect(200);
    await t.http.post(`/v1/loans/${applied.body.id}/approve`).set(approver.auth).set('Idempotency-Key', loanKey()).expect(200);
    await t.http.post(`/v1/loans/${lent.id}/write-off/approve`).set(approver.auth).set('Idempotency-Key', loanKey()).expect(200);
    expect((await inbox(approver, `programId=${pension.id}`)).total).toBe(0);
    expect((await inbox(approver, `programId=${fund.id}`)).total).toBe(0);
  });

  it("lists a program's loans by number with status filter and total, the borrower by folio and, for name readers, by name", async () => {
    const fund = await loanProgram(t, 'FONDESOC', { capital: '100000.00' });
    const people = await borrowers(t, fund.id, 3);
    await t.db.query(`UPDATE beneficiaries SET given_names = 'Rosa', surnames = 'Méndez Luna' WHERE id = $1`, [people[0]]);
    const first = await applyLoan(t, fund.id, officer, { beneficiaryId: people[0], principal: '10000.00' }).expect(201);
    const second = await disbursedLoan(t, fund.id, { officer, operator, approver }, { beneficiaryId: people[1], principal: '10000.00' });
    const third = await applyLoan(t, fund.id, officer, { beneficiaryId: people[2], principal: '10000.00' }).expect(201);
    const list = (who: Staff, query: string) => t.http.get(`/v1/console/programs/${fund.id}/loans?${query}`).set(who.auth);

    const all = (await list(operator, 'limit=2').expect(200)).body;
    expect(all.total).toBe(3);
    expect(all.data.map((l: { id: string }) => l.id)).toEqual([first.body.id, second.id]);
    expect(all.data[0]).toMatchObject({ number: first.body.number, status: 'applied', principal: '10000.00', outstanding: '0.00', name: null, writeOffRequested: false });
    expect(all.data[1]).toMatchObject({ status: 'disbursed', outstanding: '10000.00', repaid: '0.00' });
    const rest = (await list(operator, `limit=2&cursor=${all.nextCursor}`).expect(200)).body;
    expect(rest.data.map((l: { id: string }) => l.id)).toEqual([third.body.id]);
    expect(rest.nextCursor).toBeNull();

    const applied = (await list(auditor, 'status=applied').expect(200)).body;
    expect(applied.total).toBe(2);
    expect(applied.data[0]).toMatchObject({ name: 'Rosa Méndez Luna', folio: expect.any(String) });
    expect((await list(approver, 'status=disbursed').expect(200)).body.data.map((l: { id: string }) => l.id)).toEqual([second.id]);

    expect((await list(auditor, 'status=lost').expect(400)).body.code).toBe('validation_failed');
    expect((await list(auditor, 'cursor=xyz').expect(400)).body.code).toBe('validation_failed');
    await t.http.get('/v1/console/programs/00000000-0000-4000-8000-000000000000/loans').set(auditor.auth).expect(404);

    // The label of a beneficiary: folio for everyone who reads loans, the name only for name readers.
    const label = (who: Staff, id: string) => t.http.get(`/v1/console/beneficiaries/${id}/label`).set(who.auth);
    const [folio] = await t.db.query(`SELECT folio FROM beneficiaries WHERE id = $1`, [people[0]]);
    expect((await label(approver, people[0]).expect(200)).body).toMatchObject({ folio: folio.folio, name: null, programId: fund.id });
    expect((await label(officer, people[0]).expect(200)).body).toMatchObject({ folio: folio.folio, name: 'Rosa Méndez Luna' });
    await label(auditor, '00000000-0000-4000-8000-000000000000').expect(404);
  });
});
