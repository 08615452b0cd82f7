import type { DataSource, EntityManager } from 'typeorm';

/**
 * Folds final journal entries (those below the sealing horizon, audit_seal_horizon(); see
 * SealsService) into a running summary, batch after batch until a batch comes back short, one
 * folder at a time per `lock` (another holder makes this return 0). `fold` folds at most `batch`
 * entries below the horizon and returns how many.
 */
export async function foldFinalEntries(db: DataSource, lock: string, batch: number, fold: (m: EntityManager, horizon: string) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [lock]);
      if (!locked) return 0;
      const [{ horizon }] = await m.query(`SELECT audit_seal_horizon()::text AS horizon`);
      return fold(m, horizon as string);
    });
    total += n;
    if (n < batch) return total;
  }
}
