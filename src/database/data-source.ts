import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import type { AppConfig } from '../config/config';

/** One definition of the database connection, shared by the service, the CLI and the tests. */
export function dataSourceOptions(config: Pick<AppConfig, 'DATABASE_URL' | 'DB_POOL_SIZE' | 'DB_STATEMENT_TIMEOUT_MS'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    entities: [],
    logging: false,
    poolSize: config.DB_POOL_SIZE,
    extra: {
      statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMillis: 5000,
      // Idle connections stay open (pg closes them after 10 s by default): a new backend plans
      // every SQL function again, and the first second after a quiet spell paid for it at the till.
      idleTimeoutMillis: 0,
      application_name: 'monedero',
    },
  };
}

export function createDataSource(config: Parameters<typeof dataSourceOptions>[0]): DataSource {
  return new DataSource(dataSourceOptions(config));
}

/** Applies pending migrations; returns their names. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
