// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-money-paths-browser`;

import type { Page } from 'playwright-core';
import { LedgerService } from '../../src/ledger/ledger.service';
import type { TestApp } from '../support/app';
import { ConsoleBrowser, startConsole } from '../support/console-browser';
import { addBeneficiaries, createProgram, waitForCycle } from '../support/cycle-fixtures';
import { applyLoan, borrowers, disbursedLoan, loanProgram } from '../support/loan-fixtures';
import { key } from '../support/payout-fixtures';

/**
 * The money paths of this batch in the console, in real headless Chromium, each for the role that
 * uses it: the operator pays an owed period with a payment order and the approver approves it
 * from the inbox (the header counts what waits); an approver approves a loan application and a
 * write-off the operator asked for, after the operator recorded a repayment; the auditor reads the
 * portfolio, the budget execution and overdue complaints; a program officer registers and answers a
 * complaint. Every page passes ConsoleBrowser.check (1366 and 390 px, no serious axe violation).
 */
const PEOPLE = 40;
const BLOCKED_LINES = [2, 31];

type Staff = Awaited<ReturnType<TestApp['staff']>>;

describe('console in headless Chromium: arrears, payment orders, loans, write-offs, complaints and budget execution', () => {
  let t: TestApp;
  let browser: ConsoleBrowser;
  let page: Page;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ t, browser, page, stop } = await startConsole('console_money_browser', new Date('2016-02-25T18:00:00Z')));
  }, 60000);
  afterAll(() => stop?.());

  const go = (route: string) => page.goto(`${browser.base}/console/#${route}`);

  it('an owed period paid by a payment order (maker, checker); a complaint answered; a loan approved, a repayment recorded and a write-off approved; the auditor reads the portfolio, overdue complaints and the execution', async () => {
    const [operator, approver, auditor, officer] = await Promise.all([t.staff('finance_operator'), t.staff('finance_approver'), t.staff('auditor'), t.staff('program_officer')]);
    const login = (who: Staff) => browser.login(who.username);

    // March is paid to everyone but two people whose cards were blocked after the draft: they are owed March.
    const program = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension', budget: '100000.00' });
    await addBeneficiaries(t.db, program.id, PEOPLE, { incorporatedOn: '2016-01-10' });
    const draft = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-03', kind: 'deposit' }).expect(201);
    const blocked = `SELECT instrument_id FROM cycle_lines WHERE cycle_id = $1 AND line_no = ANY ($2::int[])`;
    await t.db.query(`UPDATE instruments SET status = 'blocked' WHERE id IN (${blocked})`, [draft.body.id, BLOCKED_LINES]);
    await t.http.post(`/v1/cycles/${draft.body.id}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, draft.body.id, ['completed_with_exceptions']);
    await t.db.query(`UPDATE instruments SET status = 'active' WHERE id IN (${blocked})`, [draft.body.id, BLOCKED_LINES]);
    t.clock.set('2016-03-20T18:00:00Z');
    const [owed] = await t.db.query(`SELECT b.folio FROM cycle_lines l JOIN beneficiaries b ON b.id = l.beneficiary_id WHERE l.cycle_id = $1 AND l.line_no = $2`, [
      draft.body.id,
      BLOCKED_LINES[0],
    ]);

    // Operator: the owed periods with their reason; one becomes a payment order, with its reason.
    await login(operator);
    await page.getByRole('navigation').getByRole('link', { name: 'Adeudos' }).click();
    await page.getByLabel('Programa').selectOption(program.id);
    await page.locator('#arrears-table tbody tr[data-period="2016-03"]').nth(1).waitFor();
    expect(await page.locator('#arrears-table tbody tr').count()).toBe(2);
    const row = page.locator('#arrears-table tbody tr', { hasText: owed.folio });
    expect(await row.textContent()).toContain('Tarjeta bloqueada');
    expect(await row.textContent()).toContain('$1,075.20');
    expect(await page.title()).toBe('Adeudos y órdenes de pago · Consola · Monedero');
    await browser.check('arrears');
    await row.getByRole('button', { name: /Orden de pago/ }).click();
    const dialog = page.locator('dialog[open]');
    expect(await dialog.textContent()).toContain('$1,075.20');
    await dialog.getByLabel('Motivo (obligatorio)').fill('tarjeta reactivada, queja 12/2016');
    await dialog.getByRole('button', { name: 'Sí, enviar a aprobación' }).click();
    await page.waitForURL(/#\/payment-orders\/[0-9a-f-]{36}$/);
    const orderId = /#\/payment-orders\/([0-9a-f-]{36})$/.exec(page.url())![1];
    await page.locator('#order-status[data-status="draft"]').waitFor();
    await page.locator('#sent-for-approval').waitFor();
    await page.locator('#order-beneficiary', { hasText: owed.folio }).waitFor();
    expect(await page.locator('#approve-order').count()).toBe(0); // the preparer never approves
    await browser.check('payment-order-draft');
    await browser.logout();

    // Approver: the header counts it; approved from the inbox after restating the amount.
    await login(approver);
    await page.locator('#pending-count[data-total="1"]').waitFor();
    await page.locator(`#inbox-to-approve tr[data-kind="payment_order"][data-id="${orderId}"] a`).click();
    await page.locator('#order-status[data-status="draft"]').waitFor();
    await page.locator('#order-available', { hasText: '$' }).waitFor();
    await page.locator('#approve-order').click();
    expect(await page.locator('#approve-order-dialog').textContent()).toContain('$1,075.20');
    await page.locator('#approve-order-confirm').click();
    await page.locator('#order-status[data-status="posted"]').waitFor();
    expect(await page.locator('#order-status').textContent()).toBe('Aprobada y pagada');
    await page.locator('#pending-count[data-total="0"]').waitFor();
    await browser.check('payment-order-approved');
    await go(`/arrears?program=${program.id}`);
    await page.locator('#arrears-pager').getByText('Adeudos 1–1').waitFor(); // the paid period left the list
    expect(await page.locator('#arrears-table').textContent()).not.toContain(owed.folio);
    expect(await page.locator('#arrears-table button').count()).toBe(0); // approvers do not prepare orders
    await browser.logout();

    // Program officer: a complaint registered and answered in writing with a commitment; another left open.
    await t.http.post('/v1/complaints').set(officer.auth).send({ programId: program.id, channel: 'phone', subject: 'other', description: 'no le contestan en el módulo' }).expect(201);
    await login(officer);
    await page.getByRole('navigation').getByRole('link', { name: 'Quejas' }).click();
    await page.getByLabel('Programa').selectOption(program.id);
    await page.locator('#complaints-table tbody tr[data-status="open"]').waitFor();
    await page.locator('#complaint-intake summary').click();
    await page.getByLabel('Medio').selectOption('in_person');
    await page.getByLabel('Asunto').selectOption('card_balance');
    await page.getByLabel('Lo que la persona expone').fill('El saldo de marzo no aparece en su tarjeta.');
    await page.getByRole('button', { name: 'Registrar queja' }).click();
    await page.waitForURL(/#\/complaints\/[0-9a-f-]{36}$/);
    await page.locator('#complaint-status-value[data-status="open"]').waitFor();
    expect(await page.locator('#complaint-due').textContent()).toMatch(/2016/);
    await browser.check('complaint-open');
    await page.getByLabel('Respuesta', { exact: true }).fill('Se verificó el abono de marzo; se emitió una orden de pago.');
    await page.getByLabel('Sentido de la respuesta').selectOption('remedy');
    await page.getByLabel('Compromiso (opcional)').fill('Confirmar el saldo con la persona');
    await page.getByLabel('Fecha del compromiso').fill('2016-04-15');
    await page.getByRole('button', { name: 'Enviar respuesta' }).click();
    await page.locator('#complaint-status-value[data-status="answered"]').waitFor();
    await page.locator('#complaint-commitments tbody tr', { hasText: 'Confirmar el saldo' }).waitFor();
    expect(await page.locator('#complaint-answer').textContent()).toContain('Procedente con reparación');
    await browser.check('complaint-answered');
    await browser.logout();

    // Loans: one applied, one disbursed; the operator records a repayment and asks for a write-off.
    t.clock.set('2020-05-15T17:00:00Z');
    const fund = await loanProgram(t, 'FONDESOC', { capital: '100000.00' });
    const [applicant, borrower] = await borrowers(t, fund.id, 2);
    const applied = (await applyLoan(t, fund.id, officer, { beneficiaryId: applicant, principal: '10000.00' }).expect(201)).body;
    const lent = await disbursedLoan(t, fund.id, { officer, operator, approver }, { beneficiaryId: borrower, principal: '10000.00' });
    await login(operator);
    await go(`/loans/${lent.id}`);
    await page.locator('#loan-status-value[data-status="disbursed"]').waitFor();
    await page.locator('#loan-schedule tbody tr').nth(11).waitFor(); // 12 instalments after the grace months
    await page.getByLabel('Monto', { exact: true }).fill('1000.00');
    await page.getByLabel('Fecha del pago (vacío: hoy)').fill('2020-05-15');
    await page.getByLabel('Referencia bancaria').fill('OP-778812');
    await page.getByRole('button', { name: 'Registrar pago' }).click();
    await page.getByText('Pago registrado (referencia OP-778812).').waitFor();
    await page.locator('#loan-outstanding', { hasText: '$9,000.00' }).waitFor();
    expect(await page.locator('#approve-loan, #approve-write-off').count()).toBe(0);
    await page.locator('#request-write-off').click();
    await page.locator('#request-write-off-dialog').getByLabel('Motivo (obligatorio)').fill('acreditado no localizado');
    await page.locator('#request-write-off-confirm').click();
    await page.locator('#write-off-pending', { hasText: 'acreditado no localizado' }).waitFor();
    expect(await page.locator('#approve-write-off').count()).toBe(0); // who asked never approves
    await browser.check('loan-write-off-requested');
    await browser.logout();

    // Approver: the application and the write-off wait in the inbox; both approved after confirming.
    await login(approver);
    await page.locator('#pending-count[data-total="2"]').waitFor();
    expect(await page.locator('#inbox-to-approve tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')))).toEqual(['loan', 'write_off']);
    await browser.check('inbox-loans');
    await page.locator(`#inbox-to-approve tr[data-kind="loan"] a`).click();
    await page.locator('#loan-status-value[data-status="applied"]').waitFor();
    await page.locator('#approve-loan').click();
    expect(await page.locator('#approve-loan-dialog').textContent()).toContain('$10,000.00');
    await page.locator('#approve-loan-confirm').click();
    await page.locator('#loan-status-value[data-status="approved"]').waitFor();
    await page.locator('#awaiting-acceptance').waitFor(); // the borrower still has to accept before the money goes
    await browser.check('loan-approved');
    await go(`/loans/${lent.id}`);
    await page.locator('#approve-write-off').click();
    expect(await page.locator('#approve-write-off-dialog').textContent()).toContain('$9,000.00');
    await page.locator('#approve-write-off-confirm').click();
    await page.locator('#loan-status-value[data-status="written_off"]').waitFor();
    await page.locator('#pending-count[data-total="0"]').waitFor();
    await browser.logout();

    // Auditor: the portfolio and every loan, read only, borrowers by folio and name.
    await login(auditor);
    await go(`/loans?program=${fund.id}`);
    await page.locator('#portfolio-status tbody tr[data-status="written_off"]').waitFor();
    expect(await page.locator('#portfolio-lent').textContent()).toBe('$10,000.00');
    expect(await page.locator('#fund-ok').getAttribute('data-ok')).toBe('true');
    await page.locator('#loans-pager').getByText('Préstamos 1–2 de 2').waitFor();
    expect(await page.locator(`#loans-table tr[data-loan="${applied.id}"]`).textContent()).toContain('Aprobado');
    expect(await page.locator(`#loans-table tr[data-loan="${lent.id}"]`).textContent()).toContain('Castigado');
    expect(await page.locator('#loans-table tbody').textContent()).toContain('Nombre Apellido');
    await page.getByLabel('Estado').selectOption('written_off');
    await page.locator('#loans-pager').getByText('Préstamos 1–1 de 1').waitFor();
    await browser.check('loans-portfolio');
    await page.locator(`#loans-table a`).first().click();
    await page.locator('#loan-status-value[data-status="written_off"]').waitFor();
    expect(await page.locator('#approve-loan, #disburse-loan, #request-write-off, #approve-write-off, #repayment-form').count()).toBe(0);
    await browser.check('loan-auditor');

    // Auditor: the complaint left open is overdue now, and is found by that filter; nothing to register.
    await go(`/complaints?program=${program.id}`);
    await page.locator('#complaints-table tbody tr').nth(1).waitFor();
    expect(await page.locator('#complaint-intake').count()).toBe(0);
    await page.getByLabel('Estado').selectOption('overdue');
    await page.locator('#complaints-pager').getByText('Quejas 1–1').waitFor();
    expect(await page.locator('#complaints-table tbody tr').textContent()).toContain('Vencida');
    expect(await page.locator('#complaints-overdue').getAttribute('data-n')).toBe('1');
    await browser.check('complaints-auditor');

    // Auditor: the budget execution of the fund by month, every total against its parts, and its CSV in Spanish.
    await go(`/execution?program=${fund.id}`);
    await page.locator('#execution-verdict').waitFor();
    expect(await page.locator('#execution-totals td[data-column="appropriated"]').textContent()).toBe('$100,000.00');
    expect(await page.locator('#execution-table tbody tr').first().textContent()).toContain('enero de 2020');
    expect(await page.locator('#execution-checks tbody').textContent()).not.toMatch(/total vs/);
    await page.getByLabel('Desglose').selectOption('component');
    await page.locator('#execution-table caption', { hasText: 'por Componente' }).waitFor();
    await browser.check('execution');
    expect(browser.pageErrors).toEqual([]);
  }, 300000);
});
