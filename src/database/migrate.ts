import { Client } from 'pg';
import type { AppConfig } from '../config/config';
import { createDataSource, runMigrations } from './data-source';

type DbConfig = Pick<AppConfig, 'DATABASE_URL' | 'DB_POOL_SIZE' | 'DB_STATEMENT_TIMEOUT_MS'>;

/** Creates the database named in DATABASE_URL if it does not exist (connecting to `postgres`). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
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
