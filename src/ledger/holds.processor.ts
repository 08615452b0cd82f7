import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Clock } from '../common/clock';
import { QUEUES } from '../jobs/queues';
import { keepScheduled } from '../jobs/schedules';
import { LedgerService } from './ledger.service';

/** How often expired holds are released. Capture refuses an expired hold regardless (ledger_hold_capture). */
export const HOLD_EXPIRY_EVERY_MS = 30_000;

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
  }

  async process(): Promise<{ expired: number }> {
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
