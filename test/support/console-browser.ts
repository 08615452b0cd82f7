import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, TestApp } from './app';
import { siblingTestDatabase } from './integrity';
import { isolatedDatabase } from './isolated-database';

/**
 * The console in real headless Chromium (Debian's package, driven by playwright-core; installed by
 * scripts/ensure-browser.sh, never downloaded by a test tool), shared by the browser suites: a
 * Spanish (es-MX, Mexico City) browser, login and logout as a user would, downloads, and the
 * check every page passes — screenshots at 1366 and 390 px (test-artifacts/console/), no sideways
 * scroll at 390 px, and no serious or critical axe-core (npm) violation.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '../../test-artifacts/console');
export const STAFF_PASSWORD = 'correct horse battery staple';
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export class ConsoleBrowser {
  context!: BrowserContext;
  page!: Page;
  /** Errors thrown in the page (a walk ends expecting none). */
  readonly pageErrors: string[] = [];
  private profile = '';

  constructor(readonly base: string) {}

  async open() {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-browser.sh (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    this.profile = mkdtempSync(join(tmpdir(), 'monedero-chromium-'));
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 900 },
      locale: 'es-MX',
      timezoneId: 'America/Mexico_City',
      acceptDownloads: true,
    });
    this.context.setDefaultTimeout(20000);
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    this.page.on('pageerror', (e) => this.pageErrors.push(e.message));
    return this.page;
  }

  /** Keeps the last state of the page (to see why a step failed), then closes the browser. */
  async close() {
    if (this.pageErrors.length) console.log('errors in the page:', this.pageErrors);
    await this.page?.screenshot({ path: join(ARTIFACTS, 'last-state.png'), fullPage: true }).catch(() => undefined);
    await this.context?.close();
    if (this.profile) rmSync(this.profile, { recursive: true, force: true });
  }

  /**
   * The page as it is now: screenshots at 1366 and 390 px, no sideways scroll at 390 px, and no
   * serious or critical axe-core violation (run in the page through the DevTools protocol, which the
   * console's Content-Security-Policy does not govern).
   */
  async check(name: string) {
    const page = this.page;
    await page.screenshot({ path: join(ARTIFACTS, `${name}-1366.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(50);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-390.png`) });
    const width = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
    expect({ name, width: width <= 390 ? 'fits' : width }).toEqual({ name, width: 'fits' });
    await page.setViewportSize({ width: 1366, height: 900 });
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
    const violations: Array<{ id: string; impact: string; nodes: string[] }> = await page.evaluate(async () => {
      const g = globalThis as any;
      const r = await g.axe.run(g.document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: any) => n.target.join(' ')) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).join(', ')}`);
    expect({ name, serious }).toEqual({ name, serious: [] });
  }

  async login(username: string, password = STAFF_PASSWORD) {
    const page = this.page;
    await page.goto(`${this.base}/console/`);
    await page.getByLabel('Usuario').fill(username);
    await page.getByLabel('Contraseña').fill(password);
    // Keyboard only: Enter in the password field submits the form.
    await page.getByLabel('Contraseña').press('Enter');
    if (password === STAFF_PASSWORD) await page.locator('#who-am-i').waitFor();
  }

  async logout() {
    await this.page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await this.page.getByRole('heading', { name: 'Iniciar sesión' }).waitFor();
  }

  /** Clicks what downloads a file; its suggested name and bytes (kept under test-artifacts/console/). */
  async download(click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), click()]);
    const path = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(path);
    return { name: download.suggestedFilename(), bytes: readFileSync(path) };
  }
}

/**
 * A browser suite's service and browser: the app (API, console and worker) in a database of its
 * own (the inbox, its header count and the lists must show this walk's rows only, while other
 * files draft in the shared test database), listening on a random port, and Chromium on it.
 * `stop()` closes both and gives the shared database back.
 */
export async function startConsole(database: string, now: Date): Promise<{ t: TestApp; browser: ConsoleBrowser; page: Page; stop: () => Promise<void> }> {
  const shared = process.env.DATABASE_URL;
  process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase(database));
  const t = await createTestApp({ role: 'all', now });
  await t.app.listen(0, '127.0.0.1');
  const browser = new ConsoleBrowser(`http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`);
  const page = await browser.open();
  const stop = async () => {
    await browser.close();
    await t.close();
    process.env.DATABASE_URL = shared;
  };
  return { t, browser, page, stop };
}
