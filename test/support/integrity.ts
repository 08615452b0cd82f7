import { Client } from 'pg';
import type { INestApplicationContext } from '@nestjs/common';
import { IntegrityService } from '../../src/audit/integrity.service';
import { SealsService } from '../../src/audit/seals.service';

/**
 * The audit integrity check, in-process, after sealing what is final (docs/audit.md): so the
 * check covers the digests of the entries a test just wrote, not only their balances. Returns
 * the report; callers assert `ok` and that the ledger is not empty.
 */
export async function sealAndCheckIntegrity(app: INestApplicationContext) {
  await app.get(SealsService).sealPending();
  const report = await app.get(IntegrityService).check();
  return {
    ok: report.ok,
    problems: report.problems.slice(0, 5),
    checkedEntries: report.checkedEntries,
    sealedEntries: report.sealedEntries,
  };
}

/** `monedero_<x>_<suffix>_test` next to the test database (for isolatedDatabase): suites whose integrity check must not see other suites' fixtures. */
export function siblingTestDatabase(suffix: string): string {
  const base = new URL(process.env.DATABASE_URL!).pathname.slice(1).replace(/_test$/, '');
  return `${base}_${suffix}_test`;
}

/** Runs SQL on `url` as the database superuser with triggers (and FK checks) switched off: behind the service's back (tamper tests). */
export async function behindTheBack(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SET LOCAL session_replication_role = replica`);
    await c.query(sql, params);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}
