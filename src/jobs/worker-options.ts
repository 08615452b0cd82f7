import { Processor } from '@nestjs/bullmq';
import type { WorkerOptions } from 'bullmq';

/**
 * A processor's BullMQ worker options from the injected configuration. @Processor's options are
 * class metadata that the BullMQ explorer reads when it creates the worker, on module init, after
 * every provider has been constructed: a processor calls this in its constructor with values
 * from APP_CONFIG, so no configuration is read at import time (issue 13 item 4).
 */
export function configureWorker(
  processor: abstract new (...args: never[]) => unknown,
  queue: string,
  options: Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>,
): void {
  (Processor(queue, options) as (target: unknown) => void)(processor);
}
