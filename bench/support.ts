import { Client } from 'pg';
import { loadConfig } from '../src/config/config';
import { migrate } from '../src/database/migrate';

/** A freshly migrated benchmark database of its own (never the service's or the tests'). */
export async function freshBenchDatabase(name: string): Promise<string> {
  const base = new URL(loadConfig().DATABASE_URL);
  base.pathname = '/postgres';
  const admin = new Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  await migrate({ DATABASE_URL: url.toString(), DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 600000 });
  return url.toString();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
