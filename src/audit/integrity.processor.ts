import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { IntegrityService } from './integrity.service';

/** When the incremental integrity check runs: daily at 06:15 UTC (00:15 in Mexico City), after the day closes. */
export const INTEGRITY_CHECK_PATTERN = '15 6 * * *';

/**
 * Queue `integrity`: the daily incremental integrity check (docs/audit.md "Incremental integrity").
 * A queue of its own, so a long check never delays the sealer; logs an error when the check fails.
 */
@Processor(QUEUES.integrity)
export class IntegrityProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(IntegrityProcessor.name);

  constructor(
    private readonly integrity: IntegrityService,
    @InjectQueue(QUEUES.integrity) private readonly queue: Queue,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'integrity-checkpoint', { pattern: INTEGRITY_CHECK_PATTERN, tz: 'UTC' }, 'integrity-checkpoint', {}, { attempts: 1 });
  }

  async process(): Promise<{ ok: boolean; fromBlock: number; toBlock: number; checkedEntries: number; problemCount: number }> {
    const report = await this.integrity.checkIncremental();
    const summary = { ok: report.ok, fromBlock: report.fromBlock, toBlock: report.toBlock, checkedEntries: report.checkedEntries, problemCount: report.problemCount };
    if (report.ok) this.log.log(summary, 'incremental integrity check passed');
    else this.log.error({ ...summary, problems: report.problems.slice(0, 20).map((p) => ({ type: p.type, entryId: p.entryId, accountId: p.accountId, blockNo: p.blockNo })) }, 'incremental integrity check FAILED');
    return summary;
  }
}
