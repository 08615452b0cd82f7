import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { SettlementRun, SettlementService } from './settlement.service';

/** Daily at 01:00 in the settlement time zone: settle yesterday (a Job Scheduler, one per deployment). */
export const DAILY_SETTLEMENT_PATTERN = '0 1 * * *';

@Processor(QUEUES.settlement)
export class SettlementProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(SettlementProcessor.name);

  constructor(
    private readonly settlement: SettlementService,
    @InjectQueue(QUEUES.settlement) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  /** Never blocks start-up on Redis: the scheduler is (re)registered whenever Redis is ready. */
  onApplicationBootstrap(): void {
    const upsert = () =>
      this.queue
        .upsertJobScheduler('daily-settlement', { pattern: DAILY_SETTLEMENT_PATTERN, tz: this.config.DEFAULT_TIME_ZONE }, { name: 'daily-settlement' })
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not register the settlement scheduler yet'));
    void upsert();
    void this.queue.client.then((client) => client.on('ready', () => void upsert())).catch(() => undefined);
  }

  /** Idempotent: merchant_settle settles each merchant at most once per business date. */
  async process(job: Job<{ businessDate?: string }>): Promise<SettlementRun> {
    return this.settlement.settle(job.data?.businessDate ?? this.settlement.previousBusinessDate());
  }
}
