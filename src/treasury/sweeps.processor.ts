import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { configureWorker } from '../jobs/worker-options';
import { SweepKind, SWEEP_KINDS } from './treasury.rules';
import { SweepsService } from './sweeps.service';

/**
 * When the sweeps run (Job Schedulers, in DEFAULT_TIME_ZONE). Voucher expiry right after midnight
 * (the end of the expiry date); card collection and tranche proofs early every morning; the
 * fiscal-year close on 1–7 January (design: a week of retries if the worker was down on the 1st;
 * later catch-up with `npm run cli -- sweep:run --kind fiscal-close`).
 */
export const SWEEP_PATTERNS: Record<SweepKind, string> = {
  'voucher-expiry': '5 0 * * *',
  'card-collection': '30 6 * * *',
  'tranche-proofs': '40 6 * * *',
  'fiscal-close': '10 0 1-7 1 *',
};

/**
 * The `sweeps` queue: one job name per sweep kind; data `{date?, programId?}`. Every sweep is
 * idempotent in the database, so at-least-once delivery (a stalled job re-run by another
 * worker after a crash) posts nothing twice.
 */
@Processor(QUEUES.sweeps)
export class SweepsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(SweepsProcessor.name);

  constructor(
    private readonly sweeps: SweepsService,
    @InjectQueue(QUEUES.sweeps) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    // A dead worker's sweep is taken over after its lock expires.
    const lockMs = config.SWEEPS_LOCK_MS;
    configureWorker(SweepsProcessor, QUEUES.sweeps, { concurrency: 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 10 });
  }

  onApplicationBootstrap(): void {
    const tz = this.config.DEFAULT_TIME_ZONE;
    for (const kind of SWEEP_KINDS) keepScheduled(this.queue, `sweep-${kind}`, { pattern: SWEEP_PATTERNS[kind], tz }, kind);
  }

  async process(job: Job<{ date?: string; programId?: string }>): Promise<unknown> {
    if (!(SWEEP_KINDS as readonly string[]).includes(job.name)) {
      this.log.warn(`unknown sweep job ${job.name}`);
      return null;
    }
    const result = await this.sweeps.run(job.name as SweepKind, {
      date: job.data?.date,
      programId: job.data?.programId,
      onProgress: (done) => job.updateProgress({ done }).catch(() => undefined),
    });
    this.log.log({ sweep: job.name }, 'sweep finished');
    return result;
  }
}
