import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { SettlementRun, SettlementService } from './settlement.service';

/** Daily at 01:00 in the settlement time zone: settle yesterday (a Job Scheduler, one per deployment). */
export const DAILY_SETTLEMENT_PATTERN = '0 1 * * *';

@Processor(QUEUES.settlement)
export class SettlementProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly settlement: SettlementService,
    @InjectQueue(QUEUES.settlement) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  /** Never blocks start-up on Redis: the scheduler is (re)registered whenever Redis is ready. */
  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'daily-settlement', { pattern: DAILY_SETTLEMENT_PATTERN, tz: this.config.DEFAULT_TIME_ZONE });
  }

  /** Idempotent: merchant_settle settles each merchant at most once per business date. */
  async process(job: Job<{ businessDate?: string }>): Promise<SettlementRun> {
    return this.settlement.settle(job.data?.businessDate ?? this.settlement.previousBusinessDate());
  }
}
