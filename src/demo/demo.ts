import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Presets, SingleBar } from 'cli-progress';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { configureHttpApp, createFastifyAdapter } from '../app.setup';
import { IntegrityService } from '../audit/integrity.service';
import { ReconciliationService } from '../audit/reconciliation.service';
import { SealsService } from '../audit/seals.service';
import { StaffUsersService } from '../auth/staff-users.service';
import { writePadronFile } from '../beneficiaries/padron-generator';
import { PadronImportService } from '../beneficiaries/padron-import.service';
import { Clock } from '../common/clock';
import { loadConfig } from '../config/config';
import { migrate, recreateDatabase } from '../database/migrate';
import { CyclesService } from '../disbursements/cycles.service';
import { ProgramsService } from '../programs/programs.service';
import { SweepsService } from '../treasury/sweeps.service';
import { formatMoney, money, ZERO } from '../common/money';
import { DemoCycle, DemoIntegrity, DemoReconciliation, DemoStep, DemoSummary, duration, formatSummary, groupInt, groupMoney } from './demo-report';
import { clearQueuePrefix } from '../jobs/redis';

/**
 * `npm run demo [-- --people N] [--json] [--redemptions N] [--seed N]`: a disbursement year of
 * the seed programs on a fresh database of its own (default `monedero_demo`, recreated;
 * DEMO_DATABASE_URL overrides), through the real services, the real HTTP API of an in-process
 * app on a random port, and the real BullMQ jobs of its in-process worker. The service clock
 * runs from dates of the programs' seed year (2016), so cycles, expiry and sweeps happen on
 * their real dates.
 */

export interface DemoOptions {
  people: number;
  redemptions: number;
  seed: number;
  json: boolean;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** Progress bars on stderr (only drawn on a terminal). */
  progress: boolean;
  /** Step lines on stderr. */
  log: boolean;
}

export class DemoUsageError extends Error {}

const DEMO_OPTIONS = {
  people: { type: 'string' },
  redemptions: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const PIN = '1234';
const WRONG_PIN = '9999';
const PASSWORD = 'demo passphrase 2016';
const PENSION = 'PENSION-AM-2016';
const UTILES = 'UTILES-2016';

export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoOptions {
  let opts: Record<string, string | boolean | undefined>;
  try {
    opts = parseArgs({ args: argv, options: DEMO_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new DemoUsageError((error as Error).message);
  }
  if (opts.help) throw new DemoUsageError('usage');
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = opts[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isInteger(n) || n < min || n > max) throw new DemoUsageError(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const people = int('people', 100_000, 20, 5_000_000);
  const base = loadConfig(env);
  let databaseUrl = env.DEMO_DATABASE_URL;
  if (!databaseUrl) {
    const url = new URL(base.DATABASE_URL);
    url.pathname = '/monedero_demo';
    databaseUrl = url.toString();
  }
  const name = new URL(databaseUrl).pathname.slice(1);
  // The demo drops and recreates its database: never one that is not obviously a demo's.
  if (!/^[a-z0-9_]*demo[a-z0-9_]*$/.test(name)) throw new DemoUsageError(`the demo recreates its database; its name must contain "demo" (got ${name})`);
  return {
    people,
    redemptions: int('redemptions', Math.min(3000, Math.max(10, Math.floor(people / 10))), 0, 1_000_000),
    seed: int('seed', 2016, 0, 2 ** 31),
    json: opts.json === true,
    databaseUrl,
    redisUrl: base.REDIS_URL,
    queuePrefix: env.DEMO_QUEUE_PREFIX ?? 'monedero-demo',
    progress: process.stderr.isTTY === true,
    log: true,
  };
}

/** Drops and recreates the demo database, then migrates it. */
async function freshDatabase(databaseUrl: string): Promise<void> {
  await recreateDatabase(databaseUrl);
  await migrate({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 600_000 });
}

/** Integer centavos → "123.45" (the demo draws amounts as whole centavos; no floating point). */
function centavos(c: number): string {
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

interface Card {
  instrumentId: string;
  number: string;
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const steps: DemoStep[] = [];
  const skipped: string[] = [];
  const say = (line: string) => o.log && process.stderr.write(`${line}\n`);
  const bar = (label: string, total: number) => {
    const b = o.progress
      ? new SingleBar({ format: ` ${label.padEnd(32)} |{bar}| {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 }, Presets.shades_classic)
      : null;
    b?.start(Math.max(total, 1), 0);
    return {
      update: (n: number, newTotal?: number) => {
        if (newTotal !== undefined) b?.setTotal(Math.max(newTotal, n, 1));
        b?.update(n);
      },
      stop: () => b?.stop(),
    };
  };
  const step = async <T>(name: string, fn: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    const t0 = Date.now();
    const { value, detail } = await fn();
    const seconds = (Date.now() - t0) / 1000;
    steps.push({ name, seconds, detail });
    say(`✓ ${name} — ${detail} (${duration(seconds)})`);
    return value;
  };

  // The app reads its settings from the environment when it is created.
  Object.assign(process.env, {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.queuePrefix,
    MIGRATIONS_RUN: 'false',
  });
  process.env.LOG_LEVEL ??= o.json ? 'fatal' : 'error';
  // One in-process client makes all the merchant traffic; the long set-based steps outlive the API's default statement limit.
  process.env.MERCHANT_RATE_LIMIT_PER_SECOND ??= '100000';
  process.env.DB_STATEMENT_TIMEOUT_MS ??= '600000';

  await step('fresh database', async () => {
    await freshDatabase(o.databaseUrl);
    await clearQueuePrefix(o.redisUrl, o.queuePrefix);
    return { value: null, detail: `${new URL(o.databaseUrl).pathname.slice(1)} recreated and migrated; queue prefix ${o.queuePrefix} emptied` };
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole('all'), createFastifyAdapter(), { bufferLogs: true });
  await configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const workDir = mkdtempSync(join(tmpdir(), 'monedero-demo-'));
  try {
    // The service clock runs on from a date of the seed year (every service and job reads this one instance).
    const clock = app.get(Clock);
    let anchor = { at: Date.parse('2016-02-20T17:00:00Z'), real: Date.now() };
    clock.now = () => new Date(anchor.at + (Date.now() - anchor.real));
    const setDate = (iso: string) => (anchor = { at: Date.parse(iso), real: Date.now() });
    const db = app.get(DataSource);

    const http = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const expectStatus = (r: { status: number; body: any }, status: number, what: string) => {
      if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };

    // Staff: each role logs in through the API.
    const users = app.get(StaffUsersService);
    const staff: Record<string, { id: string; username: string; auth: Record<string, string> }> = {};
    for (const role of ['admin', 'program_officer', 'finance_operator', 'finance_approver', 'auditor'] as const) {
      const username = `demo-${role.replace('_', '-')}`;
      const user = await users.create(username, PASSWORD, role);
      const token = expectStatus(await http('POST', '/v1/auth/token', {}, { username, password: PASSWORD }), 200, `login ${username}`);
      staff[role] = { id: user.id, username, auth: { Authorization: `Bearer ${token.accessToken}` } };
    }

    const programs = await step('programs:load', async () => {
      const loaded = await app.get(ProgramsService).loadFixtures({ appropriate: true }, 'demo');
      const appropriated = loaded.filter((p) => p.appropriated).length;
      return { value: loaded, detail: `${loaded.length} seed programs created, ${appropriated} authorized budgets appropriated (treasury → budget)` };
    });
    const programId = (code: string) => {
      const p = programs.find((x) => x.code === code);
      if (!p) throw new Error(`seed program ${code} not found`);
      return p.id;
    };
    const pensionId = programId(PENSION);
    const utilesId = programId(UTILES);

    // Padrón: synthetic people (valid CURPs, eligible under each program's rules), imported in bulk; each gets a card or voucher, delivered with a PIN.
    const utilesPeople = Math.max(10, Math.round(o.people / 4));
    const pensionPeople = o.people - utilesPeople;
    const samples: Record<string, Card[]> = {};
    const sampleSize = o.redemptions + 50;
    for (const [code, id, rows] of [
      [PENSION, pensionId, pensionPeople],
      [UTILES, utilesId, utilesPeople],
    ] as const) {
      const file = join(workDir, `${code}.csv`);
      const rules = (await app.get(ProgramsService).getById(id)).rules;
      await step(`padrón ${code}: generate`, async () => {
        const b = bar(`generate ${code}`, rows);
        const written = await writePadronFile(file, { rows, seed: o.seed + rows, rules, applicationDate: '2016-01-15', invalidRate: 0.001 }, (n) => b.update(n)).finally(() => b.stop());
        return { value: written, detail: `${groupInt(written)} synthetic people (about 0.1 % deliberately invalid)` };
      });
      const sample: Card[] = (samples[code] = []);
      await step(`padrón ${code}: import + issue`, async () => {
        let b: ReturnType<typeof bar> | null = null;
        let phase = '';
        const report = await app
          .get(PadronImportService)
          .importFile(id, file, {
            actor: 'demo:padron:import',
            totalLines: rows,
            onProgress: (p) => {
              if (p.phase !== phase) {
                b?.stop();
                phase = p.phase;
                b = bar(`${p.phase === 'validate' ? 'validate + COPY' : p.phase === 'insert' ? 'insert padrón' : 'issue + deliver'} ${code}`, p.total);
              }
              b!.update(p.done, p.total);
            },
            onRejected: () => undefined,
            issueInstruments: {
              pin: PIN,
              onNumbers: (batch) => {
                for (const r of batch) if (sample.length < sampleSize) sample.push({ instrumentId: r.instrumentId, number: r.number });
              },
            },
          })
          .finally(() => (b as ReturnType<typeof bar> | null)?.stop());
        return {
          value: report,
          detail: `${groupInt(report.imported)} imported, ${groupInt(report.rejected)} rejected with their reasons, ${groupInt(report.instrumentsIssued)} ${code === UTILES ? 'vouchers' : 'cards'} issued and delivered`,
        };
      });
    }

    // A disbursement cycle through the API (maker-checker) and the BullMQ worker: draft → approve → chunks → finish.
    const runCycle = async (code: string, id: string, period: string, approveAt: string) => {
      return step(`cycle ${code} ${period}`, async () => {
        setDate(approveAt);
        const draft = expectStatus(
          await http('POST', `/v1/programs/${id}/cycles`, { ...staff.finance_operator.auth, 'Idempotency-Key': randomUUID() }, { period, kind: 'deposit' }),
          201,
          `draft ${code} ${period}`,
        );
        expectStatus(await http('POST', `/v1/cycles/${draft.id}/approve`, staff.finance_approver.auth, {}), 200, `approve ${code} ${period}`);
        const b = bar(`post ${code} ${period}`, draft.controlCount);
        const cycles = app.get(CyclesService);
        const deadline = Date.now() + 30 * 60_000;
        let c = await cycles.find(draft.id);
        try {
          while (!['completed', 'completed_with_exceptions', 'cancelled'].includes(c.status)) {
            if (Date.now() > deadline) throw new Error(`cycle ${draft.id} did not finish (status ${c.status})`);
            await new Promise((r) => setTimeout(r, 250));
            c = await cycles.find(draft.id);
            b.update(c.postedCount + c.exceptionCount);
          }
        } finally {
          b.stop();
        }
        return {
          value: c,
          detail: `${groupInt(c.controlCount)} lines, control ${groupMoney(c.controlTotal)}; ${c.status}: ${groupInt(c.postedCount)} posted, ${groupInt(c.exceptionCount)} exceptions`,
        };
      });
    };

    // Merchants affiliate through the admin API and get their API keys.
    const merchants = await step('affiliate merchants', async () => {
      const list: Array<{ name: string; category: string }> = [
        { name: 'Abarrotes La Esperanza', category: 'grocery' },
        { name: 'Farmacia San Juan', category: 'pharmacy' },
        { name: 'Papelería El Estudiante', category: 'stationery' },
        { name: 'Tienda Departamental Centro', category: 'department_store' },
      ];
      const out: Record<string, { id: string; headers: Record<string, string> }> = {};
      for (const m of list) {
        const r = expectStatus(
          await http('POST', '/v1/merchants', staff.admin.auth, { ...m, address: { street: 'Av. Juárez 10', colonia: 'Centro', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06000' } }),
          201,
          `affiliate ${m.name}`,
        );
        out[m.category] = { id: r.id, headers: { 'X-Api-Key': r.apiKey } };
      }
      return { value: out, detail: `${list.length} merchants (${list.map((m) => m.category).join(', ')}), one API key each` };
    });

    const byOutcome: Record<string, number> = {};
    let captured = ZERO;
    let attempted = 0;
    const redeem = async (merchant: string, card: Card, amountCentavos: number, pin = PIN) => {
      attempted++;
      const r = await http('POST', '/v1/redemptions', { ...merchants[merchant].headers, 'Idempotency-Key': randomUUID() }, { instrumentNumber: card.number, pin, amount: centavos(amountCentavos), reference: `demo-${attempted}` });
      const outcome = r.status === 201 ? String(r.body.status) : String(r.body?.code ?? `http_${r.status}`);
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
      if (r.status === 201) captured = captured.plus(money(r.body.amount));
      return r;
    };
    /** n redemptions on the sample's cards, 8 at a time (a point-of-sale client each). */
    const redemptionTraffic = async (label: string, cards: Card[], n: number, pick: (i: number) => { merchant: string; centavos: number }) => {
      const b = bar(label, n);
      let next = 0;
      let done = 0;
      try {
        await Promise.all(
          Array.from({ length: Math.min(8, n) }, async () => {
            for (let i = next++; i < n; i = next++) {
              const p = pick(i);
              await redeem(p.merchant, cards[i % cards.length], p.centavos);
              b.update(++done);
            }
          }),
        );
      } finally {
        b.stop();
      }
    };
    let rnd = o.seed >>> 0 || 1;
    const random = () => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
      return rnd / 2 ** 32;
    };

    await runCycle(PENSION, pensionId, '2016-03', '2016-03-01T07:00:00Z');

    const pensionShare = Math.round(o.redemptions * 0.7);
    await step('redemptions Pensión', async () => {
      setDate('2016-03-10T17:00:00Z');
      const before = attempted;
      const cards = samples[PENSION].slice(20);
      await redemptionTraffic('redeem Pensión cards', cards, pensionShare, () => ({
        merchant: random() < 0.7 ? 'grocery' : 'pharmacy',
        centavos: 5_000 + Math.floor(random() * 90_000),
      }));
      // Refusals the service must make (nothing posted): three wrong PINs lock a card; more than the balance.
      const locked = samples[PENSION][0];
      if (locked) {
        for (let i = 0; i < 3; i++) await redeem('grocery', locked, 10_000, WRONG_PIN);
        await redeem('grocery', locked, 10_000);
      }
      if (samples[PENSION][1]) await redeem('pharmacy', samples[PENSION][1], 200_000);
      return { value: null, detail: `${groupInt(attempted - before)} attempts on ${groupInt(Math.min(cards.length, pensionShare))} cards at 2 merchants, incl. wrong PINs (card locked) and one over the balance` };
    });

    await step('bajas', async () => {
      setDate('2016-04-05T16:00:00Z');
      const causes = ['death', 'voluntary_rejection', 'not_located', 'nonexistent_address', 'false_information'];
      const chosen = samples[PENSION].slice(20, 30);
      const rows: Array<{ beneficiaryId: string }> = await db.query(`SELECT beneficiary_id AS "beneficiaryId" FROM instruments WHERE id = ANY($1::uuid[]) ORDER BY id`, [chosen.map((c) => c.instrumentId)]);
      let reintegrated = ZERO;
      for (const [i, r] of rows.entries()) {
        const res = expectStatus(
          await http('POST', `/v1/beneficiaries/${r.beneficiaryId}/deactivate`, staff.program_officer.auth, { cause: causes[i % causes.length], effectiveDate: '2016-04-05', note: 'demo' }),
          200,
          'baja',
        );
        reintegrated = reintegrated.plus(money(res.reintegro.amount));
      }
      return { value: null, detail: `${rows.length} Pensión bajas; their cards blocked and ${groupMoney(formatMoney(reintegrated))} of balances moved to reintegro` };
    });

    await runCycle(UTILES, utilesId, '2016-08', '2016-08-01T07:00:00Z');

    await step('redemptions Útiles', async () => {
      setDate('2016-08-20T17:00:00Z');
      const before = attempted;
      const cards = samples[UTILES].slice(5);
      await redemptionTraffic('redeem Útiles vouchers', cards, o.redemptions - pensionShare, () => ({
        merchant: random() < 0.6 ? 'stationery' : 'department_store',
        centavos: 1_000 + Math.floor(random() * 5_000),
      }));
      // A voucher at a grocery store: refused, its category is not allowed for school supplies.
      if (samples[UTILES][0]) await redeem('grocery', samples[UTILES][0], 2_000);
      return { value: null, detail: `${groupInt(attempted - before)} attempts at the stationery and department store, one at a grocery (category not allowed)` };
    });

    // Voucher expiry: the treasury's sweep, as at the end of the expiry date.
    let sweepsService: SweepsService | null = null;
    try {
      sweepsService = app.get(SweepsService, { strict: false });
    } catch {
      sweepsService = null; // a build without the treasury module
    }
    if (sweepsService) {
      await step('voucher expiry sweep', async () => {
        setDate('2017-01-01T07:00:00Z');
        const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM instruments WHERE program_id = $1`, [utilesId]);
        const b = bar('sweep expired vouchers', n);
        const r = await sweepsService!.run('voucher-expiry', { date: '2016-12-31', onProgress: (done) => b.update(done) }).finally(() => b.stop());
        // After expiry a voucher is refused.
        if (samples[UTILES][1]) await redeem('stationery', samples[UTILES][1], 1_000);
        return { value: r, detail: `${groupInt(Number(r.vouchers))} vouchers expired on 2016-12-31, ${groupMoney(String(r.total))} to reintegro in ${r.entries} entries; a later redemption is refused` };
      });
    } else {
      skipped.push('voucher expiry: the treasury sweep (src/treasury) is not part of this build');
    }

    await step('seal the ledger', async () => {
      const seals = app.get(SealsService);
      const [{ n }] = await db.query(`SELECT (SELECT count(*) FROM journal_entries) - (SELECT count(*) FROM audit_entry_digests) AS n`);
      const b = bar('seal journal entries', Number(n));
      let sealed = 0;
      let blocks = 0;
      try {
        for (;;) {
          const r = await seals.sealPending(1);
          sealed += r.entries;
          blocks += r.blocks;
          b.update(sealed);
          if (r.blocks === 0) break;
        }
      } finally {
        b.stop();
      }
      return { value: null, detail: `${groupInt(sealed)} entries in ${blocks} hash-chained blocks, daily totals folded` };
    });

    const reconciliation = await step('reconciliation', async () => {
      const rec = app.get(ReconciliationService, { strict: false });
      const out: DemoReconciliation[] = [];
      for (const id of [pensionId, utilesId]) {
        const r = await rec.program(id);
        out.push({ ...r, cycles: r.cycles as DemoCycle[] } as DemoReconciliation);
      }
      return { value: out, detail: out.map((r) => `${r.code} ${r.ok && r.cyclesOk ? 'reconciles' : 'DOES NOT reconcile'}`).join(', ') };
    });

    const integrity = await step('integrity check', async () => {
      const r = (await app.get(IntegrityService).check()) as DemoIntegrity;
      return { value: r, detail: r.ok ? `ok over ${groupInt(r.checkedEntries)} entries and ${groupInt(r.checkedPostings)} postings` : `${r.problemCount} problems` };
    });

    const summary: DemoSummary = {
      ok: integrity.ok && reconciliation.every((r) => r.ok && r.cyclesOk),
      database: new URL(o.databaseUrl).pathname.slice(1),
      people: o.people,
      seconds: (Date.now() - started) / 1000,
      steps,
      redemptions: { attempted, byOutcome, captured: formatMoney(captured) },
      skipped,
      reconciliation,
      integrity,
    };
    return summary;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await app.close();
    await clearQueuePrefix(o.redisUrl, o.queuePrefix).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    if (error.message !== 'usage') console.error(`error: ${error.message}`);
    console.error('Usage: npm run demo [-- --people N (100000)] [--redemptions N] [--seed N] [--json]\n  database: DEMO_DATABASE_URL, else monedero_demo on the DATABASE_URL server (dropped and recreated)');
    process.exit(error.message === 'usage' ? 0 : 2);
  }
  const summary = await runDemo(options);
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : `\n${formatSummary(summary)}\n`);
  process.exit(summary.ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('demo failed:', error);
    process.exit(1);
  });
}
