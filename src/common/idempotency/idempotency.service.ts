import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { Clock } from '../clock';

export type IdempotencyStart =
  | { kind: 'started' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'reused' }
  | { kind: 'in_flight' };

/** The Idempotency-Key records of API.md, kept in PostgreSQL (table idempotency_keys). */
@Injectable()
export class IdempotencyService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Claims the key for this request in one statement. A record left in flight past its lease
   * (the process died) may be taken over by a retry of the same request; the ledger's own
   * unique keys still stop a second posting.
   */
  async start(scope: string, key: string, fingerprint: string): Promise<IdempotencyStart> {
    const now = this.clock.now();
    const lease = new Date(now.getTime() + this.config.IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS * 1000);
    const claimed = await this.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_until)
       VALUES ($1, $2, $3, 'in_flight', $4)
       ON CONFLICT (scope, key) DO UPDATE SET locked_until = EXCLUDED.locked_until
        WHERE idempotency_keys.status = 'in_flight' AND idempotency_keys.locked_until < $5
          AND idempotency_keys.request_hash = EXCLUDED.request_hash
       RETURNING 1`,
      [scope, key, fingerprint, lease, now],
    );
    if (claimed.length > 0) return { kind: 'started' };
    const rows = await this.db.query(
      `SELECT request_hash AS "hash", status, response_status AS "responseStatus", response_body AS "responseBody"
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    const row = rows[0];
    if (!row) return this.start(scope, key, fingerprint); // forgotten between the two statements
    if (row.hash !== fingerprint) return { kind: 'reused' };
    if (row.status === 'in_flight') return { kind: 'in_flight' };
    return { kind: 'replay', status: row.responseStatus, body: row.responseBody };
  }

  async complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.db.query(
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4, completed_at = now()
        WHERE scope = $1 AND key = $2`,
      [scope, key, status, JSON.stringify(body ?? null)],
    );
  }

  /** Forgets the key so the client may retry it (validation errors and server faults). */
  async forget(scope: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_flight'`, [scope, key]);
  }
}
