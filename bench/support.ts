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
