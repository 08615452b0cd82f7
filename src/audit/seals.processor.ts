import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { SealsService } from './seals.service';

/** How often final journal entries are sealed and folded into the daily totals. */
export const SEAL_EVERY_MS = 10_000;

/** Job Scheduler on queue `seals`: one job every SEAL_EVERY_MS; idempotent (an advisory lock keeps one sealer at a time). */
@Processor(QUEUES.seals)
export class SealsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly seals: SealsService,
    @InjectQueue(QUEUES.seals) private readonly queue: Queue,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'seal-entries', { every: SEAL_EVERY_MS }, 'seal-entries', {}, { attempts: 1 });
  }

  async process(): Promise<{ blocks: number; entries: number; folded: number }> {
    return this.seals.sealPending();
  }
}
