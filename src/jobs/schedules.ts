import { Logger } from '@nestjs/common';
import type { JobSchedulerTemplateOptions, Queue, RepeatOptions } from 'bullmq';

const log = new Logger('JobSchedules');

/**
 * Registers a BullMQ Job Scheduler without blocking start-up, and registers it again whenever
 * the queue's Redis connection becomes ready (a Redis that restarted empty loses its schedulers).
 * Upserting is idempotent, so every worker process may do it.
 */
export function keepScheduled(
  queue: Queue,
  schedulerId: string,
  repeat: Omit<RepeatOptions, 'key'>,
  jobName = schedulerId,
  data: object = {},
  opts?: JobSchedulerTemplateOptions,
): void {
  const upsert = () =>
    queue.upsertJobScheduler(schedulerId, repeat, { name: jobName, data, ...(opts ? { opts } : {}) }).catch((error: unknown) => {
      log.warn({ err: error, schedulerId }, 'could not register job scheduler yet; will retry when Redis is back');
    });
  void upsert();
  void queue.client.then((client) => client.on('ready', () => void upsert())).catch(() => undefined);
}
