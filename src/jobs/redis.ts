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
    // No reconnection in the background: each probe connects afresh if it must. A backing-off
    // client would go on reporting Redis down for seconds after it is back.
    retryStrategy: () => null,
  });
}

/** Deletes every BullMQ key under a prefix (fresh test runs, the demo, benchmarks). */
export async function clearQueuePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
