import 'reflect-metadata';
import { loadConfig } from '../../src/config/config';
import { migrate, recreateDatabase } from '../../src/database/migrate';
import { clearQueuePrefix } from '../../src/jobs/redis';

/** Recreates the test database from the migrations and empties the test queues, once per run. */
export default async function globalSetup(): Promise<void> {
  require('./env');
  const config = loadConfig();
  const name = new URL(config.DATABASE_URL).pathname.slice(1);
  if (!/_test$/.test(name)) throw new Error(`refusing to recreate ${name}: test databases end in _test`);
  await recreateDatabase(config.DATABASE_URL);
  await migrate(config);

  await clearQueuePrefix(config.REDIS_URL, config.QUEUE_PREFIX);
}
