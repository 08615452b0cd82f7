import { isTimeZone } from '../common/calendar';
import { z } from 'zod';

/**
 * Every setting the service reads from the environment, validated once at start.
 * Defaults are safe for a developer machine; production must set JWT_SECRET.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/monedero'),
  /**
   * A streaming replica for auditor and report reads (never money-moving ones); unset: they read
   * the primary. READ_REPLICA_WAIT_MS: how long a read that must be current waits for the replica
   * to replay up to the primary before it is served by the primary instead.
   */
  DATABASE_READ_URL: z.string().url().optional(),
  READ_REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  MONEDERO_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  MIGRATIONS_RUN: z.enum(['true', 'false']).default('true'),
  JWT_SECRET: z.string().min(16, 'JWT_SECRET must be at least 16 characters').default('dev-only-secret-change-me-please'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().min(1).default('monedero'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(20),
  /** Upper bound of any single SQL statement, so a stuck query fails cleanly instead of hanging a request. */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  /** Idempotency records left "in flight" longer than this are considered abandoned (the process died). */
  IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS: z.coerce.number().int().positive().default(60),
  /** Key of the HMAC that stores instrument numbers (never kept in clear). */
  INSTRUMENT_NUMBER_SECRET: z.string().min(16).default('dev-only-instrument-secret'),
  /** Requests per second one merchant API key may make (per API process). */
  MERCHANT_RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(200),
  /**
   * Group commit of redemptions: at most this many purchases share one transaction, and at most
   * this many such transactions run at once per API process (keep it below DB_POOL_SIZE).
   */
  REDEMPTION_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(64),
  REDEMPTION_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Lines per chunk job of a disbursement cycle, and chunk jobs one worker process runs at once. */
  CYCLE_CHUNK_SIZE: z.coerce.number().int().min(100).max(100_000).default(10_000),
  CYCLES_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** A dead worker's chunk (or sweep) is retried by another worker once its BullMQ lock expires. */
  CYCLES_LOCK_MS: z.coerce.number().int().min(500).default(30_000),
  SWEEPS_LOCK_MS: z.coerce.number().int().min(500).default(60_000),
  /** Days before a monthly program's payment date on which the scheduler makes its draft cycle. */
  CYCLE_DRAFT_LEAD_DAYS: z.coerce.number().int().min(0).max(60).default(5),
  /** How often final journal entries are sealed and folded into the daily totals. */
  SEAL_EVERY_MS: z.coerce.number().int().min(200).max(600_000).default(1_000),
  /** Vouchers per chunk (one transaction) of the voucher-expiry sweep. */
  SWEEP_CHUNK_SIZE: z.coerce.number().int().min(100).max(200_000).default(20_000),
  /** Disjoint id ranges of a program's vouchers swept at once (one connection each). */
  SWEEP_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  DEFAULT_TIME_ZONE: z.string().refine(isTimeZone, 'must be an IANA time zone such as America/Mexico_City').default('America/Mexico_City'),
  /** Where the staff console's static files are read from (default: the repository's console/). */
  CONSOLE_DIR: z.string().min(1).optional(),
  /** Where settlement payout files (CSV for the bank) are written (merchants). */
  SETTLEMENT_DIR: z.string().min(1).default('var/settlements'),
  /** Scrape token of GET /metrics (`Authorization: Bearer …`); unset: /metrics is not served. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** How long a merchant authorization (hold) lives before it is released automatically. */
  AUTHORIZATION_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
});

export type AppConfig = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  if (config.NODE_ENV === 'production' && config.JWT_SECRET === 'dev-only-secret-change-me-please') {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: must be set in production');
  }
  if (config.NODE_ENV === 'production' && config.INSTRUMENT_NUMBER_SECRET === 'dev-only-instrument-secret') {
    throw new ConfigError('Invalid configuration:\n  INSTRUMENT_NUMBER_SECRET: must be set in production');
  }
  return Object.freeze(config);
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
