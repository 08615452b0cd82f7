import type { INestApplicationContext } from '@nestjs/common';
import { loadavg } from 'node:os';
import { Pool } from 'pg';
import { readProgramFixtures } from '../src/programs/program-fixtures';
import { freshBenchDatabase, option } from './support';

const ALCALDIAS = [
  'Álvaro Obregón', 'Azcapotzalco', 'Benito Juárez', 'Coyoacán', 'Cuajimalpa', 'Cuauhtémoc', 'Gustavo A. Madero', 'Iztacalco',
  'Iztapalapa', 'Magdalena Contreras', 'Miguel Hidalgo', 'Milpa Alta', 'Tláhuac', 'Tlalpan', 'Venustiano Carranza', 'Xochimilco',
];

/**
 * `npm run bench -- reports [--beneficiaries N] [--months M] [--runs R]`
 *
 * The auditors' reports over one Pensión program (fixtures/programs/01-pension-am.json) of N
 * beneficiaries (default 1,000,000) with a card each, its arrival at the office and its delivery,
 * and M monthly cycles (default 12) of one `cycle_deposit` entry per beneficiary out of the cycle's
 * commitment, as cycles post them (metadata.beneficiaryId), in 2016; seeded set-based in its own
 * database monedero_bench_reports. Then times, R times each (default 3), through the services the
 * routes call: the indicators as of the year end and for Q2 (P56, P57, P58), the execution report
 * by month, zone (16 alcaldías) and component, and the whole public padrón streamed as CSV; and, as
 * the reference of the same run, a plain count(*) of every posting.
 * The execution report reads its summary (audit_execution_days): the seeded year is folded first
 * (timed: what the seals job does as entries arrive), then each report is timed from the summary
 * and, as its reference in the same run, from every posting (source `entries`, the query the
 * summary replaced), and the two answers compared. `--only execution` skips the indicators and
 * the padrón.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: number) => Number(option(args, name) ?? dflt);
  const n = opt('beneficiaries', 1_000_000);
  const months = opt('months', 12);
  const runs = opt('runs', 3);
  const executionOnly = option(args, 'only') === 'execution';
  const url = await freshBenchDatabase('monedero_bench_reports');
  Object.assign(process.env, { DATABASE_URL: url, QUEUE_PREFIX: `bench-reports-${Date.now()}`, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent' });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[reports bench] ${msg}\n`);
  const t0 = Date.now();
  const programId = await seed(pool, n, months, progress);
  const seedSeconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  const [{ entries, postings }] = (await pool.query(`SELECT (SELECT count(*) FROM journal_entries)::bigint::text AS entries, (SELECT count(*) FROM postings)::bigint::text AS postings`)).rows;
  progress(`seeded ${n} beneficiaries, ${entries} entries, ${postings} postings in ${seedSeconds} s`);

  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { IndicatorsService } = await import('../src/audit/indicators.service');
  const { ExecutionService } = await import('../src/audit/execution.service');
  const { BeneficiariesService } = await import('../src/beneficiaries/beneficiaries.service');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  const now = new Date('2017-01-15T18:00:00Z');
  try {
    const indicators = app.get(IndicatorsService);
    const execution = app.get(ExecutionService);
    const beneficiaries = app.get(BeneficiariesService);
    const time = async <T>(fn: () => Promise<T>) => {
      const ms: number[] = [];
      let last: T | undefined;
      for (let i = 0; i < runs; i++) {
        const s = process.hrtime.bigint();
        last = await fn();
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      ms.sort((a, b) => a - b);
      return { result: last as T, medianMs: Math.round(ms[Math.floor(ms.length / 2)]), minMs: Math.round(ms[0]), maxMs: Math.round(ms[ms.length - 1]) };
    };
    const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
    // Reference from the same run: one plain scan of every posting (how loaded the machine is).
    const reference = await time(async () => (await pool.query(`SELECT count(*) FROM postings`)).rows[0].count as string);
    const strip = <T extends { result: unknown }>(x: T) => ({ medianMs: (x as unknown as { medianMs: number }).medianMs, minMs: (x as unknown as { minMs: number }).minMs, maxMs: (x as unknown as { maxMs: number }).maxMs });

    const f0 = Date.now();
    const folded = await execution.refreshSummary();
    const summaryFoldSeconds = Number(((Date.now() - f0) / 1000).toFixed(1));
    const [{ rows: summaryRows }] = (await pool.query(`SELECT count(*)::int AS rows FROM audit_execution_days`)).rows;
    progress(`summary: ${folded} entries folded into ${summaryRows} rows in ${summaryFoldSeconds} s`);
    const year2016 = { from: '2016-01-01', to: '2016-12-31' };
    const executionFigures: Record<string, unknown> = {};
    for (const by of ['month', 'zone', 'component'] as const) {
      const summary = await time(() => execution.program(programId, now, { ...year2016, by }, 'summary'));
      const entriesRef = await time(() => execution.program(programId, now, { ...year2016, by }, 'entries'));
      executionFigures[by] = {
        summary: strip(summary),
        referenceFromEveryPosting: strip(entriesRef),
        identical: JSON.stringify(summary.result) === JSON.stringify(entriesRef.result),
        rows: summary.result.rows.length,
        differences: summary.result.differences.length,
        ...(by === 'month' ? { totals: summary.result.totals } : {}),
      };
    }
    const out: Record<string, unknown> = {
      beneficiaries: n,
      months,
      entries: Number(entries),
      postings: Number(postings),
      runsEach: runs,
      seedSeconds,
      referenceCountPostings: strip(reference),
      summaryFold: { entries: folded, rows: summaryRows, seconds: summaryFoldSeconds },
      execution: executionFigures,
    };
    if (!executionOnly) {
      const year = await time(() => indicators.program(programId, now, { asOf: '2016-12-31' }));
      const q2 = await time(() => indicators.program(programId, now, { quarter: '2016-Q2' }));
      const padron = await time(async () => {
        let bytes = 0;
        for await (const chunk of beneficiaries.publicExport(programId)) bytes += Buffer.byteLength(chunk);
        return bytes;
      });
      const ind = (r: typeof year.result) => Object.fromEntries(r.indicators.map((i) => [i.id, { numerator: i.numerator, denominator: i.denominator, value: i.value }]));
      Object.assign(out, {
        indicatorsYear: { ...strip(year), indicators: ind(year.result) },
        indicatorsQ2: { ...strip(q2), indicators: ind(q2.result) },
        publicPadronCsv: { ...strip(padron), bytes: padron.result, mbPerSecond: Number((padron.result / 1e6 / (padron.medianMs / 1000)).toFixed(1)) },
      });
    }
    return { ...out, loadAverage: { before: loadBefore, after: loadavg().map((x) => Number(x.toFixed(2))) } };
  } finally {
    await app.close();
    await pool.end();
  }
}

/** The program, its padrón, cards, arrivals, deliveries, one appropriation and `months` cycles, set-based. */
async function seed(pool: Pool, n: number, months: number, progress: (m: string) => void): Promise<string> {
  const fixture = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;
  const benefit = '1075.20';
  const q = (sql: string, params: unknown[] = []) => pool.query(sql, params);
  await q(`INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES ('treasury:MXN', 'treasury', 'treasury', 'debit')`);
  const { rows: [p] } = await q(
    `WITH b AS (INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES ('bench:budget', 'budget', 'program_budget', 'credit') RETURNING id),
          r AS (INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES ('bench:reintegro', 'reintegro', 'reintegro_payable', 'credit') RETURNING id)
     INSERT INTO programs (code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     SELECT 'PENSION-AM-2016', $1, 2016, 'card', $2, b.id, r.id FROM b, r RETURNING id, budget_account_id AS budget`,
    [fixture.name, JSON.stringify(fixture.rules)],
  );
  await q(`UPDATE ledger_accounts SET program_id = $1 WHERE code IN ('bench:budget', 'bench:reintegro')`, [p.id]);
  const batch = 250_000;
  for (let lo = 1; lo <= n; lo += batch) {
    const hi = Math.min(n, lo + batch - 1);
    await q(
      `INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
       SELECT md5('b' || g)::uuid, $1, 'P-' || lpad(g::text, 8, '0'), upper(substr(md5('c' || g), 1, 16)) || 'X' || (g % 10), 'Nombre', 'Apellido', DATE '1940-01-01',
              jsonb_build_object('state', 'DF', 'municipality', ($2::text[])[1 + g % 16]), DATE '2016-01-01', DATE '2016-01-01'
         FROM generate_series($3::int, $4::int) g`,
      [p.id, ALCALDIAS, lo, hi],
    );
    await q(
      `INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id)
       SELECT md5('a' || g)::uuid, 'instrument:' || md5('i' || g)::uuid, 'card', 'instrument', 'credit', $1, 'instrument', md5('i' || g)::uuid
         FROM generate_series($2::int, $3::int) g`,
      [p.id, lo, hi],
    );
    // Cards arrive on one of 40 days of the first half; delivered 0–24 calendar days later.
    await q(
      `INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, account_id, issued_at, delivered_at)
       SELECT md5('i' || g)::uuid, md5('b' || g)::uuid, $1, 'card', 'bench:' || g, '0000', 'active', md5('a' || g)::uuid,
              timestamptz '2016-01-01 12:00+00', (DATE '2016-01-04' + (g % 40) * 4 + g % 25) + time '17:00' AT TIME ZONE 'America/Mexico_City'
         FROM generate_series($2::int, $3::int) g`,
      [p.id, lo, hi],
    );
    await q(
      `INSERT INTO instrument_card_arrivals (instrument_id, arrived_on, recorded_by, recorded_at)
       SELECT md5('i' || g)::uuid, DATE '2016-01-04' + (g % 40) * 4, 'bench', now() FROM generate_series($1::int, $2::int) g`,
      [lo, hi],
    );
  }
  progress(`padrón and cards: ${n}`);
  const post = async (kind: string, at: string, from: string, to: string, amount: string, metadata: Record<string, unknown> = {}) => {
    const { rows: [e] } = await q(`INSERT INTO journal_entries (kind, effective_at, metadata) VALUES ($1, $2, $3) RETURNING id`, [kind, at, JSON.stringify(metadata)]);
    await q(
      `INSERT INTO postings (entry_id, account_id, side, amount, effective_at) VALUES ($1, $2, 'debit', $4, $5), ($1, $3, 'credit', $4, $5)`,
      [e.id, from, to, amount, at],
    );
  };
  const { rows: [treasury] } = await q(`SELECT id FROM ledger_accounts WHERE code = 'treasury:MXN'`);
  const yearTotal = (BigInt(n) * BigInt(months) * 107520n).toString();
  await post('appropriation', '2016-01-01T06:00:00Z', treasury.id, p.budget, `${yearTotal.slice(0, -2)}.${yearTotal.slice(-2)}`);
  for (let mm = 1; mm <= months; mm++) {
    const period = `2016-${String(mm).padStart(2, '0')}`;
    const at = `${period}-01T12:00:00Z`;
    const { rows: [c] } = await q(
      `INSERT INTO ledger_accounts (code, name, category, normal_side, program_id) VALUES ($1, 'commitment', 'cycle_commitment', 'credit', $2) RETURNING id`,
      [`bench:commitment:${period}`, p.id],
    );
    const total = (BigInt(n) * 107520n).toString();
    await post('cycle_commitment', at, p.budget, c.id, `${total.slice(0, -2)}.${total.slice(-2)}`);
    for (let lo = 1; lo <= n; lo += batch) {
      const hi = Math.min(n, lo + batch - 1);
      await q(
        `INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, metadata)
         SELECT md5($1 || g)::uuid, 'cycle_deposit', 'cycle:' || $1 || ':line:' || md5('b' || g)::uuid, $2,
                jsonb_build_object('cycleId', $1, 'beneficiaryId', md5('b' || g)::uuid, 'period', $1)
           FROM generate_series($3::int, $4::int) g`,
        [period, at, lo, hi],
      );
      await q(
        `INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
         SELECT md5($1 || g)::uuid, x.account, x.side, $5::numeric, $2
           FROM generate_series($3::int, $4::int) g,
           LATERAL (VALUES ($6::uuid, 'debit'), (md5('a' || g)::uuid, 'credit')) x(account, side)`,
        [period, at, lo, hi, benefit, c.id],
      );
    }
    progress(`cycle ${period}`);
  }
  await q(`ANALYZE`);
  return p.id;
}
