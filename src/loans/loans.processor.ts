import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { configureWorker } from '../jobs/worker-options';
import { LoansService } from './loans.service';

/** The daily delinquency job: 00:20 in DEFAULT_TIME_ZONE; each program is marked at its own business date. */
export const DELINQUENCY_PATTERN = '20 0 * * *';

@Processor(QUEUES.loans)
export class LoansProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(LoansProcessor.name);

  constructor(
    private readonly loans: LoansService,
    @InjectQueue(QUEUES.loans) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    configureWorker(LoansProcessor, QUEUES.loans, { concurrency: 1 });
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'loan-delinquency', { pattern: DELINQUENCY_PATTERN, tz: this.config.DEFAULT_TIME_ZONE }, 'delinquency');
  }

  async process(job: Job): Promise<unknown> {
    if (job.name !== 'delinquency') {
      this.log.warn(`unknown loans job ${job.name}`);
      return null;
    }
    const result = await this.loans.runDelinquency();
    this.log.log({ programs: result.programs.length }, 'loan delinquency marked');
    return result;
  }
}
