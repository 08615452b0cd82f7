import { Client } from 'pg';
import type { AppConfig } from '../config/config';
import { createDataSource, runMigrations } from './data-source';

type DbConfig = Pick<AppConfig, 'DATABASE_URL' | 'DB_POOL_SIZE' | 'DB_STATEMENT_TIMEOUT_MS'>;

/** The database name of a URL, and a URL to the same server's `postgres` database. */
function maintenanceTarget(databaseUrl: string): { name: string; maintenanceUrl: string } {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  url.pathname = '/postgres';
  return { name, maintenanceUrl: url.toString() };
}

/** Drops (forcing out connections) and creates the database of a URL: tests, benchmarks, demo. */
export async function recreateDatabase(databaseUrl: string): Promise<void> {
  const { name, maintenanceUrl } = maintenanceTarget(databaseUrl);
  const client = new Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/** Creates the database named in DATABASE_URL if it does not exist (connecting to `postgres`). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { name, maintenanceUrl } = maintenanceTarget(databaseUrl);
  const client = new Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return false; // created concurrently
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations under an advisory lock, so several processes starting together
 * (scale-out) migrate once.
 */
export async function migrate(config: DbConfig): Promise<string[]> {
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createDataSource({ ...config, DB_POOL_SIZE: 2 });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query(`SELECT pg_advisory_lock(hashtext('monedero:migrations'))`);
    return await runMigrations(dataSource);
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtext('monedero:migrations'))`).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
