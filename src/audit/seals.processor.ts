import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { ExecutionService } from './execution.service';
import { SealsService } from './seals.service';

/**
 * Job Scheduler on queue `seals`: one job every SEAL_EVERY_MS (default 1 s); idempotent (an
 * advisory lock keeps one sealer at a time). Often and small rather than seldom and big: sealing
 * 10 s of a busy till's entries at once took the machine's CPU for a second and showed in the
 * till's p99; a second's worth at a time spreads the same work evenly.
 */
@Processor(QUEUES.seals)
export class SealsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly seals: SealsService,
    private readonly execution: ExecutionService,
    @InjectQueue(QUEUES.seals) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'seal-entries', { every: this.config.SEAL_EVERY_MS }, 'seal-entries', {}, { attempts: 1 });
  }

  /** Seals, then folds the same final entries into the execution summary (ExecutionService.refreshSummary). */
  async process(): Promise<{ blocks: number; entries: number; folded: number; executionFolded: number }> {
    const sealed = await this.seals.sealPending();
    return { ...sealed, executionFolded: await this.execution.refreshSummary() };
  }
}
