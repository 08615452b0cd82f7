import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { IntegrityService } from './integrity.service';
import { SealsService } from './seals.service';

/** How often the incremental integrity check runs (docs/audit.md "Incremental integrity"): daily. */
export const INTEGRITY_CHECKPOINT_EVERY_MS = 86_400_000;

/**
 * Job Scheduler on queue `seals`: one job every SEAL_EVERY_MS (default 1 s); idempotent (an
 * advisory lock keeps one sealer at a time). Often and small rather than seldom and big: sealing
 * 10 s of a busy till's entries at once took the machine's CPU for a second and showed in the
 * till's p99; a second's worth at a time spreads the same work evenly. The same queue runs the
 * daily incremental integrity check (`integrity-checkpoint`), which logs an error when it fails.
 */
@Processor(QUEUES.seals)
export class SealsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(SealsProcessor.name);

  constructor(
    private readonly seals: SealsService,
    private readonly integrity: IntegrityService,
    @InjectQueue(QUEUES.seals) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'seal-entries', { every: this.config.SEAL_EVERY_MS }, 'seal-entries', {}, { attempts: 1 });
    keepScheduled(this.queue, 'integrity-checkpoint', { every: INTEGRITY_CHECKPOINT_EVERY_MS }, 'integrity-checkpoint', {}, { attempts: 1 });
  }

  async process(job?: Job): Promise<Record<string, unknown>> {
    if (job?.name !== 'integrity-checkpoint') return this.seals.sealPending();
    const report = await this.integrity.checkIncremental();
    const summary = { ok: report.ok, fromBlock: report.fromBlock, toBlock: report.toBlock, checkedEntries: report.checkedEntries, problemCount: report.problemCount };
    if (report.ok) this.log.log(summary, 'incremental integrity check passed');
    else this.log.error({ ...summary, problems: report.problems.slice(0, 20).map((p) => ({ type: p.type, entryId: p.entryId, accountId: p.accountId, blockNo: p.blockNo })) }, 'incremental integrity check FAILED');
    return summary;
  }
}
