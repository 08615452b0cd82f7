import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { ApiProblem } from '../common/problem';

/** deadlock_detected and serialization_failure: PostgreSQL rolled the transaction back; running it again is safe. */
export const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

export function isRetryableTransactionError(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Called before each retry (tests count them). */
  onRetry?: (attempt: number, error: unknown) => void;
}

/**
 * One transaction of a staff use case. When PostgreSQL aborts it as the victim of a deadlock
 * (40P01) or a serialization failure (40001), nothing of it was written, so it runs again, up to
 * `attempts` times with a short random pause (the other transaction finishes meanwhile). If it
 * still collides, the client gets 503 `transaction_conflict` (retry later) instead of a 500.
 * The work function must touch nothing outside the database, since it may run more than once.
 */
export async function withTransaction<T>(db: DataSource, work: (m: EntityManager) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return options.isolation ? await db.transaction(options.isolation, work) : await db.transaction(work);
    } catch (error) {
      if (!isRetryableTransactionError(error)) throw error;
      if (attempt >= attempts) {
        throw new ApiProblem(503, 'transaction_conflict', 'The request collided with concurrent changes; retry it');
      }
      options.onRetry?.(attempt, error);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}
