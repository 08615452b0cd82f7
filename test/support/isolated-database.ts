import { migrate, recreateDatabase } from '../../src/database/migrate';

/**
 * A freshly migrated database of its own on the test server, for tests that must see the whole
 * ledger unchanged (other test files post concurrently into the shared test database).
 */
export async function isolatedDatabase(name: string): Promise<string> {
  if (!/^monedero_[a-z0-9_]+_test$/.test(name)) throw new Error(`isolated test databases are named monedero_*_test, not ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  await recreateDatabase(url.toString());
  await migrate({ DATABASE_URL: url.toString(), DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 30000 });
  return url.toString();
}
