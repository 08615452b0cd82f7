import type { INestApplicationContext } from '@nestjs/common';
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Pool } from 'pg';
import { freshBenchDatabase, option } from './support';

/**
 * Voucher-expiry sweep over N vouchers with balance (default 1,000,000) of one Uniformes-like
 * program expiring 31 Dec 2016, seeded set-based (generate_series; one load entry with a
 * posting per voucher). Times SweepsService.voucherExpiry (chunks of SWEEP_CHUNK_SIZE through
 * treasury_sweep_vouchers), checks the amounts to the centavo, then times a re-run (must post
 * nothing). Args: [--vouchers N] [--chunk N]
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vouchers = Number(option(args, 'vouchers') ?? 1_000_000);
  const chunk = Number(option(args, 'chunk') ?? 20_000);
  const url = await freshBenchDatabase('monedero_bench_sweep');
  Object.assign(process.env, {
    DATABASE_URL: url,
    QUEUE_PREFIX: `bench-sweep-${Date.now()}`,
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'silent',
    SWEEP_CHUNK_SIZE: String(chunk),
    DB_STATEMENT_TIMEOUT_MS: '600000',
  });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[sweep bench] ${msg}\n`);

  let t0 = Date.now();
  const { programId, reintegroAccountId, expected } = await seed(pool, vouchers);
  const seedSeconds = (Date.now() - t0) / 1000;
  progress(`seeded ${vouchers} vouchers (${expected}) in ${seedSeconds.toFixed(1)} s`);
  await pool.query('VACUUM ANALYZE');

  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { SweepsService } = await import('../src/treasury/sweeps.service');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  try {
    const sweeps = app.get(SweepsService);
    const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
    t0 = Date.now();
    const result = await sweeps.voucherExpiry({ programId, onProgress: (done) => {
        if (done % 200_000 < chunk) progress(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${done} swept`);
      } });
    const sweepSeconds = (Date.now() - t0) / 1000;
    const loadAfter = loadavg().map((x) => Number(x.toFixed(2)));
    progress(`swept ${result.vouchers} vouchers, ${result.total}, in ${sweepSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const replay = await sweeps.voucherExpiry({ programId });
    const replaySeconds = (Date.now() - t0) / 1000;

    const { rows: [check] } = await pool.query(
      `SELECT (SELECT posted::text FROM ledger_balances WHERE account_id = $2) AS reintegro,
              (SELECT count(*)::int FROM treasury_voucher_sweeps WHERE program_id = $1) AS swept_rows,
              (SELECT count(*)::int FROM ledger_accounts a JOIN instruments i ON i.account_id = a.id
                WHERE i.program_id = $1 AND a.posted_credits <> a.posted_debits) AS left_with_balance,
              (SELECT coalesce(sum(amount), 0)::text FROM reintegros WHERE program_id = $1) AS reintegros_total,
              (SELECT count(*)::int FROM journal_entries WHERE kind = 'voucher_expiry') AS entries`,
      [programId, reintegroAccountId],
    );
    return {
      vouchers,
      chunk,
      seedSeconds,
      sweepSeconds,
      vouchersPerSecond: Math.round(vouchers / sweepSeconds),
      targetSeconds: 60,
      metTarget: sweepSeconds <= 60,
      swept: result.vouchers,
      total: result.total,
      expected,
      exact: result.total === expected && check.reintegro === expected && check.reintegros_total === expected && check.left_with_balance === 0,
      entries: check.entries,
      replay: { seconds: replaySeconds, vouchers: replay.vouchers, entries: replay.entries },
      machine: { cpus: Number(execSync('nproc').toString().trim()), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    };
  } finally {
    await app.close();
    await pool.end();
  }
}

/** Program, N beneficiaries, N vouchers with accounts, and one load entry crediting each (amounts 0.01 … 300.00). */
async function seed(pool: Pool, n: number): Promise<{ programId: string; reintegroAccountId: string; expected: string }> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const { rows: [p] } = await c.query(`
      WITH ids AS (SELECT gen_random_uuid() AS program_id, gen_random_uuid() AS budget_id, gen_random_uuid() AS reintegro_id),
      acc AS (
        INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, no_negative_balance)
        SELECT budget_id, 'program:' || program_id || ':budget', 'bench budget', 'program_budget', 'credit', program_id, false FROM ids
        UNION ALL
        SELECT reintegro_id, 'program:' || program_id || ':reintegro', 'bench reintegro', 'reintegro_payable', 'credit', program_id, false FROM ids
        RETURNING id)
      INSERT INTO programs (id, code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
      SELECT program_id, 'UNIFORMES-BENCH', 'Uniformes bench', 2016, 'voucher',
             '{"benefit":{"type":"fixed","amount":"150.00"},"schedule":{"frequency":"loads","count":2},"voucherExpiresOn":"2016-12-31","voucherUnspentAtExpiry":"reintegro"}',
             budget_id, reintegro_id FROM ids WHERE (SELECT count(*) FROM acc) = 2
      RETURNING id, budget_account_id, reintegro_account_id`);
    await c.query(
      `INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
       SELECT md5('b' || g)::uuid, $1, 'UB-' || g, upper(substr(md5('c' || g), 1, 17)) || (g % 10), 'Nombre', 'Apellido', DATE '2008-01-01',
              '{"state":"DF"}', DATE '2016-08-01', DATE '2016-08-01'
         FROM generate_series(1, $2::int) g`,
      [p.id, n],
    );
    await c.query(
      `INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id, no_negative_balance)
       SELECT md5('a' || g)::uuid, 'instrument:' || md5('i' || g)::uuid, 'voucher', 'instrument', 'credit', $1, 'instrument', md5('i' || g)::uuid, true
         FROM generate_series(1, $2::int) g`,
      [p.id, n],
    );
    await c.query(
      `INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, expires_at, account_id, delivered_at)
       SELECT md5('i' || g)::uuid, md5('b' || g)::uuid, $1, 'voucher', 'bench:' || g, lpad((g % 10000)::text, 4, '0'), 'active',
              TIMESTAMPTZ '2017-01-01 06:00:00+00', md5('a' || g)::uuid, now()
         FROM generate_series(1, $2::int) g`,
      [p.id, n],
    );
    // The budget appropriated from the treasury, then one load entry: budget → every voucher,
    // amounts 0.01 … 300.00 (so the total checks every centavo); both through the ledger's primitive.
    const amount = `(((g % 30000) + 1) / 100.0)::numeric(18,2)`;
    const { rows: [tot] } = await c.query(`SELECT sum(${amount})::text AS total FROM generate_series(1, $1::int) g`, [n]);
    const { rows: [t] } = await c.query(
      `INSERT INTO ledger_accounts (id, code, name, category, normal_side) VALUES (gen_random_uuid(), 'treasury:MXN', 'Tesorería', 'treasury', 'debit') RETURNING id`,
    );
    await c.query(`SELECT ledger_stage()`);
    await c.query(
      `INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at) VALUES
         (md5('appropriation')::uuid, 'appropriation', 'bench:appropriation', '2016-01-02T12:00:00Z'),
         (md5('load')::uuid, 'cycle_voucher_load', 'bench:load', '2016-08-01T12:00:00Z')`,
    );
    await c.query(
      `INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
       VALUES (md5('appropriation')::uuid, $1::uuid, 'debit', $3::numeric), (md5('appropriation')::uuid, $2::uuid, 'credit', $3::numeric),
              (md5('load')::uuid, $2::uuid, 'debit', $3::numeric)`,
      [t.id, p.budget_account_id, tot.total],
    );
    await c.query(
      `INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
       SELECT md5('load')::uuid, md5('a' || g)::uuid, 'credit', ${amount} FROM generate_series(1, $1::int) g`,
      [n],
    );
    await c.query(`SELECT * FROM ledger_post_staged()`);
    await c.query('COMMIT');
    return { programId: p.id, reintegroAccountId: p.reintegro_account_id, expected: formatTotal(tot.total) };
  } catch (error) {
    await c.query('ROLLBACK');
    throw error;
  } finally {
    c.release();
  }
}

function formatTotal(total: string): string {
  const [i, f = ''] = total.split('.');
  return `${i}.${(f + '00').slice(0, 2)}`;
}
