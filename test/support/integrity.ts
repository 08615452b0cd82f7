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
