import IORedis, { RedisOptions } from 'ioredis';

/**
 * Connection settings for BullMQ (workers need maxRetriesPerRequest: null so a Redis outage
 * pauses them instead of failing jobs) and for quick probes (fail fast, never queue commands).
 */
export function bullConnectionOptions(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password || undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
    enableReadyCheck: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

export function createProbeClient(redisUrl: string): IORedis {
  return new IORedis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  });
}
