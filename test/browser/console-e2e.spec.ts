// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-browser`;

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram, ProgramFixture } from '../support/cycle-fixtures';
import { createMerchant } from '../support/merchant-fixtures';

/**
 * The finance and audit console in real headless Chromium (Debian's package, driven by
 * playwright-core; installed by scripts/ensure-browser.sh, never downloaded by a test tool) against
 * the real service: an operator prepares a cycle, an approver approves it, it runs to the end
 * with a live progress bar, and the program's reconciliation balances. Screenshots of each page go
 * to test-artifacts/console/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '../../test-artifacts/console');
const PASSWORD = 'correct horse battery staple';

describe('console in headless Chromium: prepare, approve, watch, reconcile', () => {
  let t: TestApp;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let program: ProgramFixture;
  let beneficiaries: Array<{ beneficiaryId: string }>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-browser.sh (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    program = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension', budget: '1250000.00' });
    beneficiaries = await addBeneficiaries(t.db, program.id, 40, { incorporatedOn: '2016-01-10' });

    profile = mkdtempSync(join(tmpdir(), 'monedero-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1366, height: 900 },
      locale: 'es-MX',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(20000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await t?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function login(username: string, password = PASSWORD) {
    await page.goto(`${base}/console/`);
    await page.getByLabel('Usuario').fill(username);
    await page.getByLabel('Contraseña').fill(password);
    // Keyboard only: Enter in the password field submits the form.
    await page.getByLabel('Contraseña').press('Enter');
  }

  async function logout() {
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await page.getByRole('heading', { name: 'Iniciar sesión' }).waitFor();
  }

  it('runs a payment day from the browser, each person seeing only what their role allows', async () => {
    const [operator, approver, auditor, admin, officer] = await Promise.all([
      t.staff('finance_operator'),
      t.staff('finance_approver'),
      t.staff('auditor'),
      t.staff('admin'),
      t.staff('program_officer'),
    ]);
    await createMerchant(t, admin, { name: 'Abarrotes La Esperanza' });

    // A wrong password: the API's problem document is shown (title, detail, code).
    await login(operator.username, 'not the password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('unauthenticated');
    expect(await alert.textContent()).toContain('Wrong username or password');
    await shot('login-error');

    // Operator: programs with their budget as money, then a new draft cycle.
    await login(operator.username);
    await page.locator('#who-am-i').waitFor();
    expect(await page.locator('#who-am-i').getAttribute('data-role')).toBe('finance_operator');
    // The operator has no integrity check or action log in the menu.
    const nav = page.getByRole('navigation');
    expect(await nav.getByRole('link', { name: 'Integridad' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Bitácora' }).count()).toBe(0);
    const row = page.locator(`tr[data-program="${program.code}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('$1,250,000.00');
    expect(await page.locator(`[id="chart-${program.id}-d"]`).textContent()).toContain('Autorizado $1,250,000.00');
    await shot('programs');

    await page.goto(`${base}/console/#/cycles?program=${program.id}`);
    await page.getByLabel('Periodo').fill('2016-03');
    await page.getByLabel('Tipo').selectOption('deposit');
    await page.getByRole('button', { name: 'Preparar borrador' }).click();
    await page.waitForURL(/#\/cycles\/[0-9a-f-]{36}$/);
    const cycleId = /#\/cycles\/([0-9a-f-]{36})$/.exec(page.url())![1];
    await page.locator('#cycle-status[data-status="draft"]').waitFor();
    expect(await page.locator('#cycle-control-count').textContent()).toBe('40');
    expect(await page.locator('#cycle-control-total').textContent()).toBe('$43,008.00'); // 40 × 1,075.20
    // No Approve for the operator; Cancel is there.
    expect(await page.locator('#approve-cycle').count()).toBe(0);
    expect(await page.locator('#cancel-cycle').count()).toBe(1);
    await shot('cycle-draft');
    await logout();

    // Approver: finds the draft in the list, approves it, and watches it run to the end.
    await login(approver.username);
    await page.locator('#who-am-i').waitFor();
    await page.goto(`${base}/console/#/cycles?program=${program.id}`);
    await page.locator(`tr[data-cycle="${cycleId}"]`).waitFor();
    await shot('cycles');
    await page.locator(`tr[data-cycle="${cycleId}"] a`).click();
    await page.locator('#cycle-status[data-status="draft"]').waitFor();
    const approve = page.getByRole('button', { name: 'Aprobar' });
    await approve.focus();
    await page.keyboard.press('Enter'); // keyboard again
    const progress = page.getByRole('progressbar', { name: 'Avance' });
    await page.locator('#cycle-status[data-status="completed"]').waitFor({ timeout: 30000 });
    await page.locator('[role=progressbar][aria-label="Avance"][aria-valuenow="100"]').waitFor();
    expect(await progress.getAttribute('aria-valuetext')).toBe('100%');
    expect(await page.locator('#cycle-posted-total').textContent()).toBe('$43,008.00');
    expect(await page.locator('#approve-cycle').count()).toBe(0);
    expect(await page.locator('#cancel-cycle').count()).toBe(0);
    await page.locator('#lines-table tbody tr').nth(39).waitFor();
    expect(await page.locator('#lines-table tbody tr', { hasText: 'Abonado' }).count()).toBe(40);
    await shot('cycle-completed');

    // A baja moves that beneficiary's balance to a reintegro; the operator batches it into a remittance…
    await t.http
      .post(`/v1/beneficiaries/${beneficiaries[0].beneficiaryId}/deactivate`)
      .set(officer.auth)
      .send({ cause: 'death', effectiveDate: '2016-03-10' })
      .expect(200);
    await logout();
    await login(operator.username);
    await page.locator('#who-am-i').waitFor();
    await page.goto(`${base}/console/#/treasury?program=${program.id}`);
    await page.locator('#reintegros-table tbody tr', { hasText: '$1,075.20' }).waitFor();
    expect(await page.locator('#reintegros-table tbody tr').first().textContent()).toContain('Pendiente');
    await page.getByRole('button', { name: 'Preparar remesa' }).click();
    const remittanceRow = page.locator('#remittances-table tbody tr[data-remittance]').first();
    await remittanceRow.locator('.status-draft').waitFor();
    expect(await remittanceRow.textContent()).toContain('$1,075.20');
    expect(await page.locator('.approve-remittance').count()).toBe(0); // the operator prepares, never approves
    await shot('treasury-draft');
    await logout();

    // …and an approver approves it: the money goes back to the treasury.
    await login(approver.username);
    await page.locator('#who-am-i').waitFor();
    await page.goto(`${base}/console/#/treasury?program=${program.id}`);
    await page.locator('.approve-remittance').first().click();
    await page.locator('#remittances-table tbody tr[data-remittance] .status-approved').first().waitFor();
    await page.locator('#reintegros-table tbody tr .status-remitted').first().waitFor();
    await shot('treasury');

    // The reconciliation balances to the cent, and the page says so; English on request.
    await page.goto(`${base}/console/#/reconciliation?program=${program.id}`);
    const verdict = page.locator('#rec-result');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#rec-verdict').textContent()).toContain('cuadra al centavo');
    expect(await page.locator('#equations-table tr.row-difference').count()).toBe(0);
    expect(await page.locator('#rec-cycles tbody tr').first().textContent()).toContain('$43,008.00');
    expect(await page.locator('#rec-result').textContent()).toContain('$1,075.20'); // the remitted reintegro is accounted for
    await shot('reconciliation');
    // CSV: fetched with the bearer token and saved from a Blob.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Balanza de comprobación/ }).click()]);
    expect(download.suggestedFilename()).toBe('trial-balance.csv');
    const csvPath = join(ARTIFACTS, 'trial-balance.csv');
    await download.saveAs(csvPath);
    const csv = readFileSync(csvPath, 'utf8');
    expect(csv.split(/\r?\n/)[0]).toBe('code,name,category,normal_side,debits,credits,balance');
    expect(csv).toContain(`program:${program.id}:budget`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Program reconciliation' }).waitFor();
    expect(await page.locator('#rec-verdict').textContent()).toContain('balances to the cent');
    await shot('reconciliation-en');
    await page.getByRole('button', { name: 'Español' }).click();
    await logout();

    // Auditor: integrity check, staff action log filtered to the operator, settlements, reintegros.
    await login(auditor.username);
    await page.locator('#who-am-i').waitFor();
    expect(await page.getByRole('button', { name: 'Preparar borrador' }).count()).toBe(0);
    await page.goto(`${base}/console/#/integrity`);
    await page.locator('#integrity-result').waitFor();
    expect(await page.locator('#integrity-result').getAttribute('data-ok')).toBe('true');
    await shot('integrity');
    await page.goto(`${base}/console/#/events`);
    await page.getByRole('textbox', { name: 'Persona' }).fill(operator.username);
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.locator('#events-table tbody tr', { hasText: 'POST /v1/programs/:id/cycles' }).first().waitFor();
    const actors = await page.locator('#events-table tbody tr td:nth-child(2)').allTextContents();
    expect(actors.length).toBeGreaterThan(0);
    expect(new Set(actors)).toEqual(new Set([operator.username]));
    await shot('events');
    await page.goto(`${base}/console/#/cycles/${cycleId}`);
    await page.locator('#cycle-status[data-status="completed"]').waitFor();
    expect(await page.locator('#approve-cycle, #cancel-cycle').count()).toBe(0);
    await page.goto(`${base}/console/#/merchants`);
    await page.locator('#settlements-table').waitFor();
    await page.locator('#merchants-table tbody tr', { hasText: 'Abarrotes La Esperanza' }).waitFor();
    await shot('merchants');
    await logout();

    // Admin: prepares a draft of their own; the console shows them no Approve and the API refuses.
    const own = await t.http
      .post(`/v1/programs/${program.id}/cycles`)
      .set(admin.auth)
      .set('Idempotency-Key', `console-browser-${Date.now()}`)
      .send({ period: '2016-04', kind: 'deposit' })
      .expect(201);
    await login(admin.username);
    await page.locator('#who-am-i').waitFor();
    await page.goto(`${base}/console/#/cycles/${own.body.id}`);
    await page.locator('#cycle-status[data-status="draft"]').waitFor();
    await page.locator('#preparer-note').waitFor();
    expect(await page.locator('#approve-cycle').count()).toBe(0);
    const refused = await t.http.post(`/v1/cycles/${own.body.id}/approve`).set(admin.auth).expect(403);
    expect(refused.body.code).toBe('same_user_cannot_approve');
    expect(pageErrors).toEqual([]);
  }, 90000);
});
