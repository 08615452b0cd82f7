import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { Clock } from '../common/clock';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { LedgerService } from './ledger.service';

/** How often expired holds are released. Capture refuses an expired hold regardless (ledger_hold_capture). */
export const HOLD_EXPIRY_EVERY_MS = 30_000;

/** How often the monthly partitions of postings are created ahead (three months ahead, so a missed day never matters). */
export const POSTINGS_MONTHS_EVERY_MS = 86_400_000;

@Processor(QUEUES.holds)
export class HoldsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly log = new Logger(HoldsProcessor.name);

  constructor(
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    @InjectQueue(QUEUES.holds) private readonly queue: Queue,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    keepScheduled(this.queue, 'expire-holds', { every: HOLD_EXPIRY_EVERY_MS });
    keepScheduled(this.queue, 'postings-months', { every: POSTINGS_MONTHS_EVERY_MS });
  }

  /** Releases expired holds; the daily `postings-months` job creates the partitions of postings ahead instead. */
  async process(job?: Job): Promise<{ expired: number; months?: number }> {
    if (job?.name === 'postings-months') return { expired: 0, months: await this.ledger.ensurePostingsMonths() };
    let expired = 0;
    for (;;) {
      const n = await this.ledger.expireHolds(this.clock.now(), 5000);
      expired += n;
      if (n < 5000) break;
    }
    if (expired > 0) this.log.log({ expired }, 'released expired holds');
    return { expired };
  }
}
