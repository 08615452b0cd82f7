import type { INestApplicationContext } from '@nestjs/common';
import { Pool } from 'pg';
import { freshBenchDatabase, option, seedPensionCards } from './support';
import { clearQueuePrefix } from '../src/jobs/redis';

/**
 * Money owed and fiscal-year rollover at scale (issue 14): a Pensión-like padrón of N active cards
 * (default 1,000,000) whose January–March deposit cycles ran, with M periods still owed (default
 * 50,000: March for the first M beneficiaries). Measures the first page of the arrears list, the
 * arrears draft (one line per owed period), and the rollover of the whole padrón to 2017 (no money
 * moves: the ledger's totals are compared before and after). Reference from the same run: a deposit
 * draft over the same padrón. Args: [--padron N] [--owed M]
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const padron = Number(option(args, 'padron') ?? 1_000_000);
  const owed = Number(option(args, 'owed') ?? 50_000);
  const url = await freshBenchDatabase('monedero_arrears_bench');
  const prefix = `bench-arrears-${Date.now()}`;
  Object.assign(process.env, { DATABASE_URL: url, QUEUE_PREFIX: prefix, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent', DB_STATEMENT_TIMEOUT_MS: '600000' });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[arrears bench] ${msg}\n`);

  let t0 = Date.now();
  const programId = await seed(pool, padron, owed);
  const seedSeconds = (Date.now() - t0) / 1000;
  progress(`seeded ${padron} cards, ${owed} owed periods in ${seedSeconds.toFixed(1)} s`);

  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { CyclesService } = await import('../src/disbursements/cycles.service');
  const { ArrearsService } = await import('../src/disbursements/arrears.service');
  const { RolloverService } = await import('../src/programs/rollover.service');
  const { SettableClock, Clock } = await import('../src/common/clock');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  try {
    // The injected clock sits in April 2016 (the deposit cycles' periods are in the past).
    const clock = app.get(Clock);
    if (clock instanceof SettableClock) clock.set(new Date('2016-04-10T18:00:00Z'));
    const cycles = app.get(CyclesService);
    const arrears = app.get(ArrearsService);
    const program = await cycles.findProgram(programId);

    t0 = Date.now();
    const page = await arrears.list(program, { upTo: '2016-03', limit: 500 });
    const listFirstPageSeconds = (Date.now() - t0) / 1000;
    progress(`arrears list, first page (${page.data.length} rows) in ${listFirstPageSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const draft = await cycles.createDraft(programId, { period: '2016-03', kind: 'arrears' }, { userId: null, name: 'bench:operator' });
    const arrearsDraftSeconds = (Date.now() - t0) / 1000;
    progress(`arrears draft: ${draft.controlCount} lines in ${arrearsDraftSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const deposit = await cycles.createDraft(programId, { period: '2016-04', kind: 'deposit' }, { userId: null, name: 'bench:operator' });
    const referenceDepositDraftSeconds = (Date.now() - t0) / 1000;
    progress(`reference: deposit draft of ${deposit.controlCount} lines in ${referenceDepositDraftSeconds.toFixed(1)} s`);

    const ledgerTotals = async () =>
      (await pool.query(`SELECT count(*)::int AS entries, coalesce(sum(posted_debits), 0)::text AS debits, coalesce(sum(posted_credits), 0)::text AS credits FROM ledger_accounts`)).rows[0];
    const before = await ledgerTotals();
    t0 = Date.now();
    const next = await app.get(RolloverService).rollover(programId, { fiscalYear: 2017 }, 'bench:admin');
    const rolloverSeconds = (Date.now() - t0) / 1000;
    const after = await ledgerTotals();
    progress(`rollover of ${next.carried.beneficiaries} beneficiaries, ${next.carried.instruments} instruments in ${rolloverSeconds.toFixed(1)} s`);

    return {
      padron,
      owedPeriods: owed,
      seedSeconds,
      listFirstPageSeconds,
      arrearsDraftSeconds,
      arrearsDraftLines: draft.controlCount,
      arrearsDraftTotal: draft.controlTotal,
      referenceDepositDraftSeconds,
      referenceDepositDraftLines: deposit.controlCount,
      rolloverSeconds,
      carried: next.carried,
      // Two new zero-balance accounts (the 2017 budget and reintegro); debits and credits unchanged.
      ledgerUnchanged: before.debits === after.debits && before.credits === after.credits,
      targetSeconds: 30,
      note: 'the machine has 2 cores shared with other work; figures vary with the load',
    };
  } finally {
    await app.close();
    await pool.end();
    await clearQueuePrefix(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  }
}

async function seed(pool: Pool, n: number, owed: number): Promise<string> {
  const { programId, budgetAccountId } = await seedPensionCards(pool, n);
  // January–March ran (rows only: what matters to the arrears is which periods were paid to whom).
  await pool.query(
    `INSERT INTO disbursement_cycles (program_id, kind, period, payment_date, status, entry_kind, currency, control_count, control_total, chunk_size, budget_account_id, prepared_by, created_at)
     SELECT $1, 'deposit', p, (p || '-01')::date, 'completed', 'cycle_deposit', 'MXN', 0, 0, 10000, $2, 'bench', now() FROM unnest(ARRAY['2016-01', '2016-02', '2016-03']) p`,
    [programId, budgetAccountId],
  );
  // Every period paid, except March for the first `owed` beneficiaries (their card was blocked then).
  await pool.query(
    `INSERT INTO paid_periods (lineage, beneficiary_key, period, load_no, program_id, beneficiary_id, amount, cycle_id, line_no, journal_entry_id, paid_at)
     SELECT 'PENSION-BENCH', b.curp, c.period, 0, $1, b.id, 1075.20, c.id, 1, gen_random_uuid(), now()
       FROM beneficiaries b CROSS JOIN disbursement_cycles c
      WHERE b.program_id = $1 AND c.program_id = $1 AND NOT (c.period = '2016-03' AND b.folio IN (SELECT 'B-' || g FROM generate_series(1, $2::int) g))`,
    [programId, owed],
  );
  await pool.query(`ANALYZE beneficiaries; ANALYZE instruments; ANALYZE ledger_accounts; ANALYZE paid_periods; ANALYZE disbursement_cycles`);
  return programId;
}
