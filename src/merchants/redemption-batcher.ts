import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../ops/metrics.service';

/** One redemption or authorization as merchant_redeem_batch takes it (hashes already computed). */
export interface RedeemItem {
  op: 'redeem' | 'authorize';
  merchantId: string;
  terminalId: string | null;
  apiKeyId: string | null;
  numberHash: string;
  pinHash: string;
  amount: string;
  reference: string | null;
  at: Date;
  idemScope: string;
  idemKey: string;
  idemHash: string;
}

/** What the SQL function answers for one item: its domain outcome (redemption-outcomes.ts renders it). */
export interface RedeemOutcome {
  outcome: string;
  facts: Record<string, unknown> | null;
  replayed: boolean;
}

interface Waiting {
  item: RedeemItem;
  resolve: (outcome: RedeemOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Takes, in arrival order, up to `max` waiting items that may share one transaction: each card
 * and each Idempotency-Key at most once (a second purchase on the same card must see the first
 * one's balance). The others stay waiting, in order, for the next batch.
 */
export function takeBatch<T extends { item: Pick<RedeemItem, 'numberHash' | 'idemScope' | 'idemKey'> }>(waiting: T[], max: number): T[] {
  const batch: T[] = [];
  const cards = new Set<string>();
  const keys = new Set<string>();
  let kept = 0;
  for (const w of waiting) {
    const key = `${w.item.idemScope}\n${w.item.idemKey}`;
    if (batch.length < max && !cards.has(w.item.numberHash) && !keys.has(key)) {
      batch.push(w);
      cards.add(w.item.numberHash);
      keys.add(key);
    } else {
      waiting[kept++] = w;
    }
  }
  waiting.length = kept;
  return batch;
}

/**
 * Group commit for the till. Concurrent redemptions are posted together by one
 * merchant_redeem_batch call: one transaction, one round trip, one durable commit for many
 * purchases. A request never waits for a timer: when fewer than REDEMPTION_BATCH_CONCURRENCY
 * batches are running it goes out at once (with whatever arrived in the same tick); otherwise
 * it joins the next batch, which leaves as soon as a running one finishes. So an idle till sees
 * no added latency and a busy one gets bigger batches.
 *
 * If a whole batch fails (a deadlock, a lost connection), each of its requests is retried on its
 * own, so one request's failure is never another's: each gets its own answer or its own error.
 * A request whose card another transaction holds locked (a cycle chunk, for a moment) is left
 * out of the batch by the database and sent again alone, so it waits without holding up others.
 */
@Injectable()
export class RedemptionBatcher {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private flushScheduled = false;
  private readonly maxBatch: number;
  private readonly maxRunning: number;
  private readonly holdTtl: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    // Absent in CLI contexts (no OpsModule).
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.maxBatch = config.REDEMPTION_BATCH_SIZE;
    this.maxRunning = config.REDEMPTION_BATCH_CONCURRENCY;
    this.holdTtl = `${config.AUTHORIZATION_TTL_SECONDS} seconds`;
  }

  submit(item: RedeemItem): Promise<RedeemOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.running < this.maxRunning && this.waiting.length > 0) {
      const batch = takeBatch(this.waiting, this.maxBatch);
      this.metrics?.redemptionBatchSize.observe(batch.length);
      this.running++;
      void this.post(batch).finally(() => {
        this.running--;
        this.flush();
      });
    }
  }

  private async post(batch: Waiting[]): Promise<void> {
    let outcomes: (RedeemOutcome | null)[];
    try {
      outcomes = await this.call(batch.map((w) => w.item));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      outcomes = batch.map(() => null);
    }
    // Unanswered (the whole batch failed, or the card was locked by another transaction): each
    // goes again alone, outside the batch slots, so one waiting for a lock holds up no batch.
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome) w.resolve(outcome);
      else void this.alone(w);
    });
  }

  private async alone(w: Waiting): Promise<void> {
    try {
      const [outcome] = await this.call([w.item], true);
      if (outcome) w.resolve(outcome);
      else w.reject(new Error('merchant_redeem_batch left a request of one unanswered'));
    } catch (error) {
      w.reject(error);
    }
  }

  /** One merchant_redeem_batch call; null for a request it left unanswered (its card was locked). */
  private async call(items: RedeemItem[], waitForLocks = false): Promise<(RedeemOutcome | null)[]> {
    const rows: { ord: number; outcome: string | null; facts: Record<string, unknown> | null; replayed: boolean }[] = await this.db.query(
      `SELECT o_ord AS ord, o_outcome AS outcome, o_facts AS facts, o_replayed AS replayed
         FROM merchant_redeem_batch($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::numeric[],
                                    $8::text[], $9::timestamptz[], $10::interval, $11::text[], $12::text[], $13::text[], $14)`,
      [
        items.map((i) => i.op),
        items.map((i) => i.merchantId),
        items.map((i) => i.terminalId),
        items.map((i) => i.apiKeyId),
        items.map((i) => i.numberHash),
        items.map((i) => i.pinHash),
        items.map((i) => i.amount),
        items.map((i) => i.reference),
        items.map((i) => i.at),
        this.holdTtl,
        items.map((i) => i.idemScope),
        items.map((i) => i.idemKey),
        items.map((i) => i.idemHash),
        waitForLocks,
      ],
    );
    const outcomes: (RedeemOutcome | null)[] = [];
    for (const r of rows) outcomes[r.ord - 1] = r.outcome === null ? null : { outcome: r.outcome, facts: r.facts, replayed: r.replayed };
    if (rows.length !== items.length) throw new Error(`merchant_redeem_batch answered ${rows.length} of ${items.length} requests`);
    return outcomes;
  }
}
