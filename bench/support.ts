import type { Pool } from 'pg';
import { loadConfig } from '../src/config/config';
import { migrate, recreateDatabase } from '../src/database/migrate';
import { ThrowawayPostgres } from '../test/support/throwaway-servers';

/**
 * Where benchmarks run. By default a private PostgreSQL cluster started for the run with
 * production-like memory and WAL settings (durability untouched: fsync and synchronous_commit on),
 * because the machine's stock cluster (128 MB shared_buffers, 1 GB max_wal_size) measures
 * checkpoint churn rather than our SQL once a benchmark touches a million accounts.
 * BENCH_PG=shared runs against DATABASE_URL's server instead, to compare.
 */
export const BENCH_POSTGRES_SETTINGS: Record<string, string> = {
  fsync: 'on',
  synchronous_commit: 'on',
  shared_buffers: '2GB',
  wal_buffers: '64MB',
  max_wal_size: '8GB',
  checkpoint_timeout: '30min',
  effective_cache_size: '8GB',
  work_mem: '32MB',
  maintenance_work_mem: '512MB',
  max_connections: '200',
};

let privateCluster: ThrowawayPostgres | null = null;

export function benchServerKind(): 'private' | 'shared' {
  return process.env.BENCH_PG === 'shared' || !ThrowawayPostgres.available() ? 'shared' : 'private';
}

async function serverUrl(database: string): Promise<string> {
  if (benchServerKind() === 'shared') {
    const url = new URL(loadConfig().DATABASE_URL);
    url.pathname = `/${database}`;
    return url.toString();
  }
  if (!privateCluster) {
    privateCluster = await ThrowawayPostgres.create(BENCH_POSTGRES_SETTINGS);
    const cluster = privateCluster;
    process.on('exit', () => cluster.destroySync());
  }
  return privateCluster.urlFor(database);
}

/** A freshly migrated benchmark database of its own (never the service's or the tests'). */
export async function freshBenchDatabase(name: string): Promise<string> {
  const url = await serverUrl(name);
  await recreateDatabase(url);
  await migrate({ DATABASE_URL: url, DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 600000 });
  return url;
}

/** What the figures were measured on, for the printed JSON. */
export function benchEnvironment(): Record<string, unknown> {
  return { postgres: benchServerKind() === 'private' ? { server: 'private cluster', settings: BENCH_POSTGRES_SETTINGS } : { server: 'shared (DATABASE_URL)' } };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The value after `--name` in a benchmark's arguments (`npm run bench -- cycle --cards 1000`), if any. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * A Pensión-like program of the benchmark database, seeded set-based: budget (appropriated),
 * reintegro, N active beneficiaries and N active, delivered cards with their accounts.
 */
export async function seedPensionCards(pool: Pool, n: number): Promise<{ programId: string; budgetAccountId: string }> {
  const { rows: acc } = await pool.query(
    `INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES ('treasury:MXN', 'Tesorería', 'treasury', 'debit'),
       ('program:bench:budget', 'budget', 'program_budget', 'credit'), ('program:bench:reintegro', 'reintegro', 'reintegro_payable', 'credit')
     RETURNING id, code`,
  );
  const id = (code: string) => acc.find((a) => a.code === code).id;
  await pool.query(`UPDATE ledger_accounts SET no_negative_balance = true WHERE code = 'program:bench:budget'`);
  const rules = { benefit: { type: 'unidades_de_cuenta', unitValue: '71.68', factor: '15' }, schedule: { frequency: 'monthly', dayOfMonth: 1 } };
  const { rows: prog } = await pool.query(
    `INSERT INTO programs (code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     VALUES ('PENSION-BENCH-2016', 'Pensión (bench)', 2016, 'card', $1, $2, $3) RETURNING id`,
    [JSON.stringify(rules), id('program:bench:budget'), id('program:bench:reintegro')],
  );
  const programId = prog[0].id;
  await pool.query(`UPDATE ledger_accounts SET program_id = $1 WHERE code LIKE 'program:bench:%'`, [programId]);
  await pool.query(
    `SELECT ledger_post('appropriation', 'bench:appropriation', now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[6676950641.00, 6676950641.00])`,
    [id('treasury:MXN'), id('program:bench:budget')],
  );
  await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     SELECT $1, 'B-' || g, 'BENC' || lpad(g::text, 12, '0') || 'XX', 'Nombre', 'Apellido', DATE '1940-01-01', '{"state":"DF"}', DATE '2016-01-01', DATE '2016-01-01'
       FROM generate_series(1, $2::int) g`,
    [programId, n],
  );
  await pool.query(
    `WITH b AS MATERIALIZED (SELECT id AS beneficiary_id, gen_random_uuid() AS instrument_id, gen_random_uuid() AS account_id FROM beneficiaries WHERE program_id = $1),
     acc AS (
       INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id, no_negative_balance)
       SELECT account_id, 'instrument:' || instrument_id, 'instrument', 'instrument', 'credit', $1, 'instrument', instrument_id, true FROM b
       RETURNING id)
     INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, account_id, issued_at, delivered_at)
     SELECT instrument_id, beneficiary_id, $1, 'card', 'bench:' || instrument_id, '0000', 'active', account_id, '2015-12-01', '2015-12-15' FROM b`,
    [programId],
  );
  await pool.query(`ANALYZE beneficiaries; ANALYZE instruments; ANALYZE ledger_accounts`);
  return { programId, budgetAccountId: id('program:bench:budget') };
}
