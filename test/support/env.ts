// Test defaults; scripts/test.sh sets DATABASE_URL and REDIS_URL for the whole run.
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/monedero_test';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX ??= 'monedero-test';
process.env.LOG_LEVEL ??= 'silent';
process.env.MIGRATIONS_RUN = 'false';
// Concurrency tests fire hundreds of requests with one key; test/e2e/ops.spec.ts tests the limit itself.
process.env.MERCHANT_RATE_LIMIT_PER_SECOND ??= '100000';
