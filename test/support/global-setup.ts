import 'reflect-metadata';
import IORedis from 'ioredis';
import { loadConfig } from '../../src/config/config';
import { migrate, recreateDatabase } from '../../src/database/migrate';

/** Recreates the test database from the migrations and empties the test queues, once per run. */
export default async function globalSetup(): Promise<void> {
  require('./env');
  const config = loadConfig();
  const name = new URL(config.DATABASE_URL).pathname.slice(1);
  if (!/_test$/.test(name)) throw new Error(`refusing to recreate ${name}: test databases end in _test`);
  await recreateDatabase(config.DATABASE_URL);
  await migrate(config);

  const redis = new IORedis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.QUEUE_PREFIX}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}
