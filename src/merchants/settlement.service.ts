import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { addDays, businessDate, isDate, startOfBusinessDate } from '../common/calendar';
import { decodeCursor, pageOf } from '../common/pagination';
import { Clock } from '../common/clock';
import { ApiProblem, problems } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import { LedgerService } from '../ledger/ledger.service';
import type { AccountSpec } from '../ledger/ledger.types';
import { payoutCsv, PayoutLine, payoutTotalsByCurrency } from './merchants.rules';

export interface SettlementRun {
  businessDate: string;
  cutoffAt: string;
  settlements: number;
  /** Net paid per currency, e.g. { MXN: '160.00' }; a run with nothing to pay has none. */
  totals: Record<string, string>;
  payoutFile: string;
}

/**
 * Daily settlement: each merchant's captures and refunds not settled yet and made before the end
 * of the business date are netted into a settlement with a statement id; the net moves from the
 * merchant payable to `bank:settlement` (`bank:settlement:<currency>` for a merchant in another currency) in the ledger, and a payout CSV is written for the bank.
 *
 * Design decision: merchants have no time zone of their own, so business dates of settlement
 * are in DEFAULT_TIME_ZONE (America/Mexico_City). Each merchant settles in its own transaction
 * (merchant_settle, idempotent per merchant and date), so a rerun settles nothing twice.
 */
/** The bank account settlements are paid from, one per currency (pesos keep the original code `bank:settlement`). */
function settlementBank(currency: string): AccountSpec {
  return currency === 'MXN'
    ? { code: 'bank:settlement', name: 'Settlement bank account', category: 'bank' }
    : { code: `bank:settlement:${currency}`, name: `Settlement bank account ${currency}`, category: 'bank', currency };
}

@Injectable()
export class SettlementService {
  private readonly log = new Logger(SettlementService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The business date the daily job settles: yesterday, in the settlement time zone. */
  previousBusinessDate(now: Date = this.clock.now()): string {
    return addDays(businessDate(now, this.config.DEFAULT_TIME_ZONE), -1);
  }

  async settle(date: string = this.previousBusinessDate()): Promise<SettlementRun> {
    if (!isDate(date)) throw problems.validation('businessDate must be a valid date YYYY-MM-DD');
    const cutoff = startOfBusinessDate(addDays(date, 1), this.config.DEFAULT_TIME_ZONE);
    const now = this.clock.now();
    if (cutoff > now) throw new ApiProblem(422, 'settlement_date_open', `Business date ${date} has not ended yet`);
    const merchants: Array<{ id: string; payableAccountId: string; currency: string }> = await this.db.query(
      `SELECT m.id, m.payable_account_id AS "payableAccountId", a.currency
         FROM merchants m JOIN ledger_accounts a ON a.id = m.payable_account_id
        WHERE NOT EXISTS (SELECT 1 FROM settlements s WHERE s.merchant_id = m.id AND s.business_date = $1)
          AND (EXISTS (SELECT 1 FROM redemptions r WHERE r.merchant_id = m.id AND r.status = 'captured'
                          AND r.settlement_id IS NULL AND r.captured_at < $2)
               OR EXISTS (SELECT 1 FROM redemption_refunds f WHERE f.merchant_id = m.id AND f.settlement_id IS NULL AND f.created_at < $2))
        ORDER BY m.id`,
      [date, cutoff],
    );
    const banks = new Map<string, string>();
    for (const m of merchants) {
      let bank = banks.get(m.currency);
      if (!bank) {
        bank = (await this.ledger.ensureAccount(settlementBank(m.currency))).id;
        banks.set(m.currency, bank);
      }
      await this.ledger.rollup(m.payableAccountId); // fold the hot account's appended deltas first
      await this.db.query(`SELECT merchant_settle($1, $2::date, $3, $4, $5) AS id`, [m.id, date, cutoff, now, bank]);
    }
    const lines = await this.payoutLines(date);
    const file = await this.writePayoutFile(date, lines);
    const run = { businessDate: date, cutoffAt: cutoff.toISOString(), settlements: lines.length, totals: payoutTotalsByCurrency(lines), payoutFile: file };
    this.log.log(run, 'settlement run');
    return run;
  }

  /** Latest business date first (then statement id), keyset-paged; the index settlements_page serves it. */
  async list(q: { businessDate?: string; merchantId?: string; limit: number; cursor?: string }) {
    const after = decodeCursor(q.cursor, ['date', 'text'] as const);
    const rows = await this.db.query(
      `SELECT s.id, s.statement_id AS "statementId", s.merchant_id AS "merchantId", s.business_date::text AS "businessDate", s.currency,
              s.captures_count AS "capturesCount", s.captures_total::text AS "capturesTotal",
              s.refunds_count AS "refundsCount", s.refunds_total::text AS "refundsTotal", s.net_amount::text AS "netAmount",
              s.entry_id AS "entryId", s.created_at AS "createdAt"
         FROM settlements s
        WHERE ($1::date IS NULL OR s.business_date = $1) AND ($2::uuid IS NULL OR s.merchant_id = $2)
          AND ($3::date IS NULL OR (s.business_date <= $3 AND (s.business_date < $3 OR s.statement_id > $4)))
        ORDER BY s.business_date DESC, s.statement_id LIMIT $5`,
      [q.businessDate ?? null, q.merchantId ?? null, after?.[0] ?? null, after?.[1] ?? null, q.limit + 1],
    );
    return pageOf(rows as Array<{ businessDate: string; statementId: string }>, q.limit, (s) => [s.businessDate, s.statementId]);
  }

  fileName(date: string): string {
    return join(resolve(this.config.SETTLEMENT_DIR), `payout-${date}.csv`);
  }

  async payoutFile(date: string): Promise<string> {
    if (!isDate(date)) throw problems.validation('date must be YYYY-MM-DD');
    try {
      return await readFile(this.fileName(date), 'utf8');
    } catch {
      throw problems.notFound('payout file');
    }
  }

  private async payoutLines(date: string): Promise<PayoutLine[]> {
    return this.db.query(
      `SELECT s.statement_id AS "statementId", s.merchant_id AS "merchantId", m.name AS "merchantName", m.bank_account AS "bankAccount",
              s.net_amount::text AS amount, s.currency, s.business_date::text AS "businessDate"
         FROM settlements s JOIN merchants m ON m.id = s.merchant_id
        WHERE s.business_date = $1 AND s.net_amount > 0 ORDER BY s.statement_id`,
      [date],
    );
  }

  /** Written to a temporary name then renamed, so the bank never picks up half a file. */
  private async writePayoutFile(date: string, lines: PayoutLine[]): Promise<string> {
    const file = this.fileName(date);
    await mkdir(resolve(this.config.SETTLEMENT_DIR), { recursive: true });
    await writeFile(`${file}.tmp`, payoutCsv(lines), 'utf8');
    await rename(`${file}.tmp`, file);
    return file;
  }
}
