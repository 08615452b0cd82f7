import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { dataSourceOptions } from './data-source';

/** Where a report was read: the replica (with how far behind it was) or the primary. */
export interface ReadSource {
  db: DataSource;
  source: 'replica' | 'primary';
  /** Replay lag of the replica when it was picked (null on the primary). */
  lagMs: number | null;
}

/**
 * Reads for auditors and reports, on a PostgreSQL streaming replica when DATABASE_READ_URL is set
 * (the primary otherwise). Only reports come here: nothing that moves money ever reads a replica,
 * and the replica's connections are read-only (`default_transaction_read_only`), so a report that
 * tried to write would fail rather than write somewhere else.
 *
 * - `replica()`: the replica as it is, labelled with its lag (`X-Read-Source`, `X-Replica-Lag-Ms`).
 * - `current()`: for reads that must see everything committed before the request: the replica once
 *   it has replayed the primary's WAL up to the position the primary had when asked (waiting up to
 *   READ_REPLICA_WAIT_MS); a replica further behind is refused and the primary serves the read.
 */
@Injectable()
export class ReadDatabase implements OnModuleDestroy {
  private readonly log = new Logger(ReadDatabase.name);
  private readonly replicaDb: DataSource | null;
  private initialized: Promise<DataSource> | null = null;

  constructor(
    @InjectDataSource() private readonly primary: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.replicaDb = config.DATABASE_READ_URL
      ? new DataSource({
          ...dataSourceOptions({ ...config, DATABASE_URL: config.DATABASE_READ_URL, DB_POOL_SIZE: Math.max(2, Math.ceil(config.DB_POOL_SIZE / 2)) }),
          migrations: [],
          extra: {
            statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
            connectionTimeoutMillis: 5000,
            application_name: 'monedero-read',
            options: '-c default_transaction_read_only=on',
          },
        })
      : null;
  }

  get configured(): boolean {
    return this.replicaDb !== null;
  }

  async replica(): Promise<ReadSource> {
    if (!this.replicaDb) return { db: this.primary, source: 'primary', lagMs: null };
    const db = await this.connected();
    const [row] = await db.query(
      `SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                   ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000) END AS lag`,
    );
    return { db, source: 'replica', lagMs: row.lag === null ? null : Math.round(Number(row.lag)) };
  }

  async current(): Promise<ReadSource> {
    if (!this.replicaDb) return { db: this.primary, source: 'primary', lagMs: null };
    const [{ lsn }] = await this.primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
    const db = await this.connected();
    const deadline = Date.now() + this.config.READ_REPLICA_WAIT_MS;
    for (;;) {
      const [row] = await db.query(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up`, [lsn]);
      if (row.caught_up) return { db, source: 'replica', lagMs: 0 };
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.log.warn({ waitedMs: this.config.READ_REPLICA_WAIT_MS }, 'replica behind the primary: a read that must be current goes to the primary');
    return { db: this.primary, source: 'primary', lagMs: null };
  }

  async onModuleDestroy(): Promise<void> {
    if (this.replicaDb?.isInitialized) await this.replicaDb.destroy();
  }

  private connected(): Promise<DataSource> {
    this.initialized ??= this.replicaDb!.initialize().catch((error: unknown) => {
      this.initialized = null;
      throw error;
    });
    return this.initialized;
  }
}

/** The response headers that say where a report was read. */
export function readSourceHeaders(read: ReadSource): Record<string, string> {
  return { 'x-read-source': read.source, ...(read.lagMs !== null ? { 'x-replica-lag-ms': String(read.lagMs) } : {}) };
}
