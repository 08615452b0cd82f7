// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-browser`;

import type { Page } from 'playwright-core';
import { LedgerService } from '../../src/ledger/ledger.service';
import type { TestApp } from '../support/app';
import { ConsoleBrowser, startConsole } from '../support/console-browser';
import { addBeneficiaries, createProgram, meetObligations, ProgramFixture } from '../support/cycle-fixtures';
import { createMerchant } from '../support/merchant-fixtures';
import { programFromFixture, runCycle } from '../support/payout-fixtures';

/**
 * The finance and audit console in real headless Chromium (Debian's package, driven by
 * playwright-core; installed by scripts/ensure-browser.sh, never downloaded by a test tool) against
 * the real service, each role doing its own task on a program of 1,200 pensioners: the operator
 * prepares, the approver finds it in the inbox and approves knowing the budget and the exclusions,
 * the exceptions of the whole cycle are found on the server and exported, a remittance and a payout
 * batch go round trip, the auditor checks. Every page passes ConsoleBrowser.check (screenshots at
 * 1366 and 390 px, no sideways scroll, no serious axe-core violation).
 */
const PEOPLE = 1200;
// Cards blocked after the draft: exceptions spread over pages of 100 (lines 3, 150, 640, 1,190).
const BLOCKED_LINES = [3, 150, 640, 1190];

type Staff = Awaited<ReturnType<TestApp['staff']>>;

describe('console in headless Chromium: each role at work on a seeded program', () => {
  let t: TestApp;
  let browser: ConsoleBrowser;
  let page: Page;
  let stop: () => Promise<void>;
  let program: ProgramFixture;

  beforeAll(async () => {
    ({ t, browser, page, stop } = await startConsole('console_browser', new Date('2016-02-25T18:00:00Z')));
    program = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension', budget: '1500000.00' });
    await addBeneficiaries(t.db, program.id, PEOPLE, { incorporatedOn: '2016-01-10' });
  }, 60000);
  afterAll(() => stop?.());

  const check = (name: string) => browser.check(name);
  const login = (who: Staff | string, password?: string) => browser.login(typeof who === 'string' ? who : who.username, password);
  const logout = () => browser.logout();
  const downloadText = (click: () => Promise<void>) => browser.download(click);

  it('operator prepares, approver approves from the inbox, exceptions are found across pages, money goes round trip, the auditor checks', async () => {
    const [operator, approver, auditor, admin, officer] = await Promise.all([
      t.staff('finance_operator'),
      t.staff('finance_approver'),
      t.staff('auditor'),
      t.staff('admin'),
      t.staff('program_officer'),
    ]);
    await createMerchant(t, admin, { name: 'Abarrotes La Esperanza' });

    // A wrong password: the problem is told in Spanish by its code.
    await login(operator, 'not the password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('unauthenticated');
    expect(await alert.textContent()).toContain('Usuario o contraseña incorrectos');
    expect(await alert.textContent()).not.toContain('Wrong');
    expect(await page.title()).toBe('Iniciar sesión · Consola · Monedero');
    await check('login-error');

    // Operator: starts at the inbox (nothing sent yet), sees the budget, prepares a draft with a month picker.
    await login(operator);
    expect(await page.locator('#who-am-i').getAttribute('data-role')).toBe('finance_operator');
    await page.locator('#inbox-sent[aria-labelledby]').waitFor();
    expect(await page.locator('#inbox-to-approve').count()).toBe(0);
    const nav = page.getByRole('navigation');
    expect(await nav.getByRole('link', { name: 'Integridad' }).count()).toBe(0);
    await nav.getByRole('link', { name: 'Programas' }).click();
    const row = page.locator(`tr[data-program="${program.code}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('$1,500,000.00');
    expect(await page.title()).toBe('Programas y presupuesto · Consola · Monedero');
    await check('programs');
    await row.getByRole('link', { name: program.code }).click();
    await page.getByRole('heading', { name: 'Ciclos de dispersión' }).waitFor();
    await page.locator('#prepare-cycle-panel summary').click();
    await page.getByLabel('Periodo').fill('2016-03');
    expect(await page.getByLabel('Tipo').locator('option').allTextContents()).toEqual(['Depósito']); // no ministración for a card program
    await page.getByRole('button', { name: 'Preparar borrador' }).click();
    await page.waitForURL(/#\/cycles\/[0-9a-f-]{36}$/);
    const cycleId = /#\/cycles\/([0-9a-f-]{36})$/.exec(page.url())![1];
    await page.locator('#cycle-status[data-status="draft"]').waitFor();
    expect(await page.locator('#cycle-control-count').textContent()).toBe('1,200');
    expect(await page.locator('#cycle-control-total').textContent()).toBe('$1,290,240.00'); // 1,200 × 1,075.20
    await page.locator('#sent-for-approval').waitFor(); // the preparer is told it went for approval
    expect(await page.locator('#approve-cycle').count()).toBe(0);
    expect(await page.getByRole('progressbar').count()).toBe(0); // no progress bar on a draft
    await check('cycle-draft');
    await logout();
    // Between draft and approval four cards are blocked: their lines will be exceptions.
    await t.db.query(`UPDATE instruments SET status = 'blocked' WHERE id IN (SELECT instrument_id FROM cycle_lines WHERE cycle_id = $1 AND line_no = ANY ($2::int[]))`, [
      cycleId,
      BLOCKED_LINES,
    ]);

    // Approver: the inbox says what waits; the approval screen shows what the approver must know.
    await login(approver);
    const waiting = page.locator(`#inbox-to-approve tr[data-id="${cycleId}"]`);
    await waiting.waitFor();
    expect(await page.locator('#inbox-to-approve .count-badge').getAttribute('data-total')).toBe('1');
    expect(await page.locator('#pending-count').getAttribute('data-total')).toBe('1'); // the header counts it too
    expect(await waiting.textContent()).toContain('$1,290,240.00');
    expect(await waiting.textContent()).toContain(operator.username);
    expect(await waiting.textContent()).not.toContain('user:');
    await check('inbox-approver');
    await waiting.getByRole('link').click();
    await page.locator('#approval-facts').waitFor();
    await page.locator('#approval-available', { hasText: '$1,500,000.00' }).waitFor();
    expect(await page.locator('#approval-after').textContent()).toBe('$209,760.00');
    await page.locator('#approval-previous', { hasText: 'Sin periodo anterior' }).waitFor();
    expect(await page.locator('#approval-prepared').textContent()).toContain(operator.username);
    expect(await page.locator('#approval-prepared').textContent()).toMatch(/2016/);
    await check('cycle-approve');
    // Approve asks for confirmation, restating the amount; going back changes nothing.
    await page.locator('#approve-cycle').click();
    const dialog = page.locator('#approve-cycle-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('$1,290,240.00');
    await check('cycle-approve-dialog');
    await dialog.getByRole('button', { name: 'Volver sin cambios' }).click();
    expect(await page.locator('#cycle-status').getAttribute('data-status')).toBe('draft');
    await page.locator('#approve-cycle').click();
    await page.locator('#approve-cycle-confirm').click();
    await page.locator('#cycle-status[data-status="completed_with_exceptions"]').waitFor({ timeout: 30000 });
    await page.locator('[role=progressbar][aria-label="Avance"][aria-valuenow="100"]').waitFor();
    expect(await page.locator('#cycle-live').count()).toBe(0); // no "updating" message once it ended
    expect(await page.locator('#cycle-exceptions').textContent()).toBe('4 · $4,300.80');

    // The exceptions of the whole cycle, found on the server: four, across what would be 12 pages.
    await page.locator('#lines-pager').getByText('de 1,200').waitFor();
    await page.getByLabel('Mostrar').selectOption('exception');
    await page.locator('#lines-pager').getByText('Registros 1–4 de 4').waitFor();
    expect(await page.locator('#lines-table tbody tr[data-status="exception"]').count()).toBe(4);
    expect(await page.locator('#lines-table tbody tr td:first-child').allTextContents()).toEqual(BLOCKED_LINES.map(String));
    expect(await page.locator('#lines-table tbody tr').first().textContent()).toContain('Tarjeta bloqueada');
    await check('cycle-exceptions');
    const csv = await downloadText(() => page.getByRole('button', { name: /Registros \(CSV\)/ }).click());
    expect(csv.name).toBe(`lineas-${program.code}-2016-03-deposito-excepciones.csv`);
    expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csvRows = csv.bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
    expect(csvRows[0]).toBe('Línea,Folio,Importe,Estado,Motivo de la excepción,Póliza');
    expect(csvRows).toHaveLength(5);
    // Search by folio, among all outcomes; paging forward and back through all lines.
    const [line640] = await t.db.query(`SELECT b.folio FROM cycle_lines l JOIN beneficiaries b ON b.id = l.beneficiary_id WHERE l.cycle_id = $1 AND l.line_no = 640`, [cycleId]);
    await page.getByLabel('Mostrar').selectOption('');
    await page.getByLabel('Buscar folio, CURP o nombre').fill(line640.folio);
    await page.getByRole('button', { name: 'Buscar', exact: true }).click();
    await page.locator('#lines-pager').getByText('Registros 1–1 de 1').waitFor();
    expect(await page.locator('#lines-table tbody tr').textContent()).toContain(line640.folio);
    await page.getByLabel('Buscar folio, CURP o nombre').fill('');
    await page.getByRole('button', { name: 'Buscar', exact: true }).click();
    await page.locator('#lines-pager').getByText('Registros 1–100 de 1,200').waitFor();
    await page.locator('#lines-pager').getByRole('button', { name: 'Siguiente' }).click();
    await page.locator('#lines-pager').getByText('Registros 101–200 de 1,200').waitFor();
    expect(await page.locator('#lines-table tbody tr').first().locator('td').first().textContent()).toBe('101');
    await page.locator('#lines-pager').getByRole('button', { name: 'Anterior' }).click();
    await page.locator('#lines-pager').getByText('Registros 1–100 de 1,200').waitFor();
    await logout();

    // A baja: its balance becomes a reintegro. The operator remits it from the top of the page…
    const [paid] = await t.db.query(`SELECT beneficiary_id AS id FROM cycle_lines WHERE cycle_id = $1 AND line_no = 10`, [cycleId]);
    await t.http.post(`/v1/beneficiaries/${paid.id}/deactivate`).set(officer.auth).send({ cause: 'death', effectiveDate: '2016-03-10' }).expect(200);
    await login(operator);
    await page.goto(`${browser.base}/console/#/treasury?program=${program.id}`);
    await page.locator('#reintegro-totals dd[data-status="pending"]', { hasText: '$1,075.20' }).waitFor();
    await page.locator('#reintegros-pager').getByText('de 1').waitFor();
    await check('treasury');
    await page.getByRole('button', { name: /Preparar remesa \(1 pendientes\)/ }).click();
    await page.waitForURL(/#\/remittances\/[0-9a-f-]{36}$/);
    const remittanceId = /#\/remittances\/([0-9a-f-]{36})$/.exec(page.url())![1];
    await page.locator('#sent-for-approval').waitFor();
    await page.locator('#remittance-items tbody tr', { hasText: 'Fallecimiento' }).waitFor();
    expect(await page.locator('#approve-remittance').count()).toBe(0);
    await check('remittance-draft');
    await logout();
    // …and the approver approves it from the inbox, after a confirmation.
    await login(approver);
    await page.locator(`#inbox-to-approve tr[data-id="${remittanceId}"] a`).click();
    await page.locator('#remittance-status[data-status="draft"]').waitFor();
    await page.locator('#approve-remittance').click();
    expect(await page.locator('#approve-remittance-dialog').textContent()).toContain('$1,075.20');
    await page.locator('#approve-remittance-confirm').click();
    await page.locator('#remittance-status[data-status="approved"]').waitFor();
    expect(await page.locator('#remittance-status').textContent()).toBe('Aprobada y enterada'); // a remesa is feminine
    await page.locator('#remittance-items tbody tr', { hasText: 'Enterado' }).waitFor();
    // The remittance document for a spreadsheet: Spanish, a BOM, a readable name, Mexico City time.
    const doc = await downloadText(() => page.getByRole('button', { name: /Documento \(CSV\)/ }).click());
    expect(doc.name).toMatch(new RegExp(`^remesa-RM-\\d{8}-${program.code}\\.csv$`));
    expect([...doc.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const docRows = doc.bytes.subarray(3).toString('utf8').trimEnd().split(/\r?\n/);
    expect(docRows[0]).toBe('Remesa,Estado,Programa,Reintegro,Causa,Causa de la baja,Fecha y hora,Origen,Referencia del origen,Folio,Últimos 4 dígitos,Importe,Póliza');
    expect(docRows[1]).toContain('Aprobada y enterada');
    expect(docRows[1]).toContain('Fallecimiento');
    await check('remittance-approved');
    await logout();

    // A payout batch round trip on a program paid by bank transfer.
    const bank = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00' });
    await addBeneficiaries(t.db, bank.id, 3, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, bank.id, '2016-12');
    await runCycle(t, bank.id, '2016-03', operator, approver);
    await login(operator);
    await page.goto(`${browser.base}/console/#/payouts?program=${bank.id}`);
    await page.getByLabel('Tipo de lote').selectOption('beneficiaries');
    await page.getByRole('button', { name: 'Preparar lote de pago' }).click();
    await page.waitForURL(/#\/payouts\/[0-9a-f-]{36}$/);
    const batchId = /#\/payouts\/([0-9a-f-]{36})$/.exec(page.url())![1];
    await page.locator('#batch-status-value[data-status="draft"]').waitFor();
    await page.locator('#sent-for-approval').waitFor();
    await check('batch-draft');
    await logout();
    await login(approver);
    await page.locator(`#inbox-to-approve tr[data-id="${batchId}"] a`).click();
    await page.locator('#approve-batch').click();
    await page.locator('#approve-batch-confirm').click();
    await page.locator('#batch-status-value[data-status="sent"]').waitFor();
    const file = await downloadText(() => page.getByRole('button', { name: /Archivo para el banco/ }).click());
    const fileRows = file.bytes.toString('utf8').trimEnd().split(/\r?\n/);
    const header = fileRows.findIndex((r) => r.replace(/"/g, '').startsWith('line_id,'));
    const lineIds = fileRows.slice(header + 1).map((r) => r.replace(/"/g, '').split(',')[0]).filter((id) => /^[0-9a-f-]{36}$/.test(id));
    expect(lineIds).toHaveLength(3);
    // The bank answers: two paid, one rejected. The results file is uploaded in the browser.
    const results = ['line_id,status,reason', `${lineIds[0]},paid,`, `${lineIds[1]},paid,`, `${lineIds[2]},rejected,cuenta cancelada`].join('\r\n');
    await page.setInputFiles('#results-file', { name: 'respuesta-banco.csv', mimeType: 'text/csv', buffer: Buffer.from(results, 'utf8') });
    await page.getByRole('button', { name: 'Cargar respuesta' }).click();
    await page.getByText('Respuesta del banco aplicada (respuesta-banco.csv): 2 pagadas.').waitFor();
    await page.locator('#batch-paid', { hasText: '2 ·' }).waitFor();
    await page.getByLabel('Mostrar').selectOption('rejected');
    await page.locator('#batch-lines-pager').getByText('de 1').waitFor();
    expect(await page.locator('#batch-lines tbody tr[data-status="rejected"]').count()).toBe(1);
    await check('batch-results');
    await logout();

    // Auditor: every page read-only, the action log in words, the reconciliation in Spanish words.
    await login(auditor);
    expect(await page.getByRole('button', { name: 'Preparar borrador' }).count()).toBe(0);
    await page.goto(`${browser.base}/console/#/cycles/${cycleId}`);
    await page.locator('#cycle-status[data-status="completed_with_exceptions"]').waitFor();
    expect(await page.locator('#approve-cycle, #cancel-cycle').count()).toBe(0);
    expect(await page.locator('#lines-table tbody tr').first().textContent()).toContain('Nombre Apellido'); // auditors read names
    await page.goto(`${browser.base}/console/#/reconciliation?program=${program.id}`);
    await page.locator('#rec-result').waitFor();
    expect(await page.locator('#rec-result').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#equations-table tbody').textContent()).not.toMatch(/instrumentBalances/);
    await check('reconciliation');
    await page.goto(`${browser.base}/console/#/integrity`);
    await page.locator('#integrity-result').waitFor();
    expect(await page.locator('#integrity-result').getAttribute('data-ok')).toBe('true');
    await check('integrity');
    await page.goto(`${browser.base}/console/#/events`);
    await page.getByRole('textbox', { name: 'Persona' }).fill(approver.username);
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.locator('#events-table tbody tr', { hasText: 'Aprobó un ciclo' }).first().waitFor();
    await check('events');
    await page.goto(`${browser.base}/console/#/merchants`);
    await page.locator('#merchants-table tbody tr', { hasText: 'Abarrotes La Esperanza' }).waitFor();
    // Settlements are filtered by the merchant's name, never by typing its id.
    await page.getByLabel('Comercio', { exact: true }).selectOption({ label: 'Abarrotes La Esperanza' });
    await check('merchants');
    await page.goto(`${browser.base}/console/#/payouts/${batchId}`);
    await page.locator('#batch-status-value').waitFor();
    expect(await page.locator('#approve-batch, #cancel-batch, #upload-results').count()).toBe(0);
    await logout();

    // Admin prepares a draft of their own: no Approve for them; they cancel it, giving a reason.
    const own = await t.http.post(`/v1/programs/${program.id}/cycles`).set(admin.auth).set('Idempotency-Key', `console-browser-${Date.now()}`).send({ period: '2016-04', kind: 'deposit' }).expect(201);
    await login(admin);
    await page.goto(`${browser.base}/console/#/cycles/${own.body.id}`);
    await page.locator('#cycle-status[data-status="draft"]').waitFor();
    await page.locator('#preparer-note').waitFor();
    expect(await page.locator('#approve-cycle').count()).toBe(0);
    // The change from the previous period: the baja and the four blocked cards are not in this draft.
    const fewer = 1200 - own.body.controlCount;
    expect(fewer).toBe(5);
    await page.locator('#approval-previous', { hasText: '1,200 → 1,195 (−5)' }).waitFor();
    expect(await page.locator('#approval-previous').textContent()).toContain('-$5,376.00');
    expect(await page.locator('#approval-exclusions').textContent()).toContain('Sin tarjeta o vale activo: 4');
    await page.locator('#cancel-cycle').click();
    expect(await page.locator('#cancel-cycle-confirm').isDisabled()).toBe(true); // no reason, no cancel
    await page.getByLabel('Motivo (obligatorio)').fill('periodo equivocado');
    await page.locator('#cancel-cycle-confirm').click();
    await page.locator('#cycle-status[data-status="cancelled"]').waitFor();
    expect(await page.locator('#cycle-cancelled').textContent()).toContain(`Cancelado por ${admin.username}`);
    expect(await page.locator('#cycle-cancelled').textContent()).toContain('periodo equivocado');
    await page.getByLabel('Mostrar').selectOption('cancelled');
    await page.locator('#lines-pager').getByText('de 1,195').waitFor();
    expect(await page.locator('#lines-table tbody tr').first().textContent()).toContain('Ciclo cancelado');
    await check('cycle-cancelled');
    const refused = await t.http.post(`/v1/cycles/${own.body.id}/approve`).set(admin.auth).expect(409);
    expect(refused.body.code).toBe('invalid_cycle_state');
    expect(browser.pageErrors).toEqual([]);
  }, 600000);
});
