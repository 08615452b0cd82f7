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
