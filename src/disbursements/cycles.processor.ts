import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { CyclesService } from './cycles.service';
import { loadConfig } from '../config/config';

/**
 * Worker settings of the cycles queue, read once at import (decorator options cannot be injected):
 * concurrency, and the lock after which a dead worker's chunk is retried (BullMQ stalled check).
 */
const { CYCLES_CONCURRENCY: CONCURRENCY, CYCLES_LOCK_MS: LOCK_MS } = loadConfig();

/** When the scheduler looks for drafts to make (daily, business time zone). */
export const DRAFT_SCHEDULER_ID = 'cycle-drafts';
export const DRAFT_SCHEDULE = { pattern: '0 6 * * *', tz: 'America/Mexico_City' };

/**
 * The `cycles` queue: `start` (delayed to scheduledFor) adds the cycle's flow; `chunk` posts one
 * chunk; `finish` (the flow's parent) closes the cycle; `scheduled-drafts` (Job Scheduler) makes
 * the next monthly drafts. Every job is idempotent in the database (at-least-once delivery).
 */
@Processor(QUEUES.cycles, { concurrency: CONCURRENCY, lockDuration: LOCK_MS, stalledInterval: LOCK_MS, maxStalledCount: 10 })
export class CyclesProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(CyclesProcessor.name);

  constructor(
    private readonly cycles: CyclesService,
    @InjectQueue(QUEUES.cycles) private readonly queue: Queue,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, DRAFT_SCHEDULER_ID, DRAFT_SCHEDULE, 'scheduled-drafts');
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case 'start':
        return { outcome: await this.cycles.start(job.data.cycleId) };
      case 'chunk':
        return this.cycles.postChunk(job.data.cycleId, job.data.from, job.data.to);
      case 'finish': {
        const c = await this.cycles.finish(job.data.cycleId);
        return { status: c.status, postedCount: c.postedCount, exceptionCount: c.exceptionCount };
      }
      case 'scheduled-drafts':
        return { created: await this.cycles.createScheduledDrafts() };
      default:
        this.log.warn(`unknown job ${job.name}`);
        return null;
    }
  }
}
