import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { APP_CONFIG, AppConfig } from '../config/config';
import { configureWorker } from '../jobs/worker-options';
import { CyclesService } from './cycles.service';

/** When the scheduler looks for drafts to make: daily at 06:00 in DEFAULT_TIME_ZONE. */
export const DRAFT_SCHEDULER_ID = 'cycle-drafts';
export const DRAFT_SCHEDULE_PATTERN = '0 6 * * *';

/**
 * The `cycles` queue: `start` (delayed to scheduledFor) adds the cycle's flow; `chunk` posts one
 * chunk; `finish` (the flow's parent) closes the cycle; `scheduled-drafts` (Job Scheduler) makes
 * the next monthly drafts. Every job is idempotent in the database (at-least-once delivery).
 */
@Processor(QUEUES.cycles)
export class CyclesProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(CyclesProcessor.name);

  constructor(
    private readonly cycles: CyclesService,
    @InjectQueue(QUEUES.cycles) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    // Chunks per worker, and the lock after which a dead worker's chunk is retried (stalled check).
    const lockMs = config.CYCLES_LOCK_MS;
    configureWorker(CyclesProcessor, QUEUES.cycles, { concurrency: config.CYCLES_CONCURRENCY, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 10 });
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, DRAFT_SCHEDULER_ID, { pattern: DRAFT_SCHEDULE_PATTERN, tz: this.config.DEFAULT_TIME_ZONE }, 'scheduled-drafts');
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
        return { created: await this.cycles.createScheduledDrafts(this.config.CYCLE_DRAFT_LEAD_DAYS) };
      default:
        this.log.warn(`unknown job ${job.name}`);
        return null;
    }
  }
}
