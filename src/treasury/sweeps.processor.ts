import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { loadConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { SweepKind, SWEEP_KINDS } from './treasury.rules';
import { SweepsService } from './sweeps.service';

/** A dead worker's sweep is taken over after its lock expires (read once at import: decorator options cannot be injected). */
const LOCK_MS = loadConfig().SWEEPS_LOCK_MS;

/**
 * When the sweeps run (Job Schedulers, America/Mexico_City). Voucher expiry right after midnight
 * (the end of the expiry date); card collection and tranche proofs early every morning; the
 * fiscal-year close on 1–7 January (design: a week of retries if the worker was down on the 1st;
 * later catch-up with `npm run cli -- sweep:run --kind fiscal-close`).
 */
export const SWEEP_SCHEDULES: Record<SweepKind, { pattern: string; tz: string }> = {
  'voucher-expiry': { pattern: '5 0 * * *', tz: 'America/Mexico_City' },
  'card-collection': { pattern: '30 6 * * *', tz: 'America/Mexico_City' },
  'tranche-proofs': { pattern: '40 6 * * *', tz: 'America/Mexico_City' },
  'fiscal-close': { pattern: '10 0 1-7 1 *', tz: 'America/Mexico_City' },
};

/**
 * The `sweeps` queue: one job name per sweep kind; data `{date?, programId?}`. Every sweep is
 * idempotent in the database, so at-least-once delivery (a stalled job re-run by another
 * worker after a crash) posts nothing twice.
 */
@Processor(QUEUES.sweeps, { concurrency: 1, lockDuration: LOCK_MS, stalledInterval: LOCK_MS, maxStalledCount: 10 })
export class SweepsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(SweepsProcessor.name);

  constructor(
    private readonly sweeps: SweepsService,
    @InjectQueue(QUEUES.sweeps) private readonly queue: Queue,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    for (const kind of SWEEP_KINDS) keepScheduled(this.queue, `sweep-${kind}`, SWEEP_SCHEDULES[kind], kind);
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
