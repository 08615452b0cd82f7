import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { businessDate, endOfBusinessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, money, sumMoney } from '../common/money';
import { ApiProblem } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import { BeneficiariesService } from '../beneficiaries/beneficiaries.service';
import { LedgerService } from '../ledger/ledger.service';
import { PayoutsService } from '../payouts/payouts.service';
import { GrantRecoveryService } from './grant-recovery.service';
import { cardCollectionDue, SweepKind, uuidRanges } from './treasury.rules';
import { TreasuryService } from './treasury.service';

/** Who the sweeps' own changes are recorded as (e.g. the P22 baja in the padrón history). */
export const SWEEPS_ACTOR = 'system:sweeps';

export interface SweepOptions {
  /** Business date D: the sweep runs as at the end of D (default: now). */
  date?: string;
  programId?: string;
  onProgress?: (done: number) => Promise<void> | void;
}

/**
 * The treasury sweeps (queue `sweeps`, CLI `sweep:run`): voucher expiry, card collection (P22),
 * tranche proofs (recovery letters, receivables, legal referrals) and the fiscal-year close. Each is set-based
 * where money moves in bulk, idempotent in the database, and safe to re-run: a re-run posts nothing.
 */
@Injectable()
export class SweepsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly beneficiaries: BeneficiariesService,
    private readonly treasury: TreasuryService,
    private readonly payouts: PayoutsService,
    private readonly recovery: GrantRecoveryService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The instant a sweep runs as: now, or the end of business date D in the default time zone.
   * A date that has not ended yet is refused (422 sweep_date_open): nothing expires early.
   */
  async asOf(date?: string): Promise<Date> {
    const now = this.clock.now();
    if (!date) return now;
    if (!isDate(date)) throw new ApiProblem(400, 'validation_failed', 'date must be a real date YYYY-MM-DD');
    const at = endOfBusinessDate(date, this.config.DEFAULT_TIME_ZONE);
    if (at > now) throw new ApiProblem(422, 'sweep_date_open', `business date ${date} has not ended yet`);
    return at;
  }

  async run(kind: SweepKind, opts: SweepOptions = {}): Promise<Record<string, unknown>> {
    switch (kind) {
      case 'voucher-expiry':
        return this.voucherExpiry(opts);
      case 'card-collection':
        return this.cardCollection(opts);
      case 'tranche-proofs':
        return this.trancheProofs(opts);
      case 'fiscal-close':
        return this.fiscalClose(opts);
    }
  }

  /**
   * Voucher expiry: after the end of the expiry date (program time zone) every remaining voucher
   * balance moves to the program's reintegro payable, chunk by chunk (treasury_sweep_vouchers:
   * one transaction, one journal entry and one reintegro per chunk), SWEEP_CONCURRENCY disjoint
   * id ranges at once. Vouchers already swept are skipped, so a re-run, or a second worker after a
   * crash, posts nothing twice.
   */
  async voucherExpiry(opts: SweepOptions = {}) {
    const now = await this.asOf(opts.date);
    const programs: Array<{ id: string; code: string }> = await this.db.query(
      `SELECT id, code FROM programs
        WHERE ($1::uuid IS NULL OR id = $1) AND coalesce(rules->>'voucherUnspentAtExpiry', 'reintegro') = 'reintegro'
          AND EXISTS (SELECT 1 FROM instruments i WHERE i.program_id = programs.id AND i.kind = 'voucher')
        ORDER BY code`,
      [opts.programId ?? null],
    );
    const out = { kind: 'voucher-expiry', asOf: now.toISOString(), programs: [] as Array<Record<string, unknown>>, vouchers: 0, total: '0.00', entries: 0 };
    let grand = money('0');
    for (const p of programs) {
      // What is left to sweep (none on a re-run): one anti-join instead of walking every chunk.
      const [left] = await this.db.query(
        `SELECT count(*)::int AS "left" FROM (
           SELECT 1 FROM instruments i JOIN programs pr ON pr.id = i.program_id
            WHERE i.program_id = $1 AND i.kind = 'voucher'
              AND ((i.expires_at IS NOT NULL AND i.expires_at <= $2)
                   OR (pr.rules ? 'voucherExpiresOn' AND (((pr.rules->>'voucherExpiresOn')::date + 1)::timestamp AT TIME ZONE pr.time_zone) <= $2))
              AND NOT EXISTS (SELECT 1 FROM treasury_voucher_sweeps s WHERE s.instrument_id = i.id)) v`,
        [p.id, now],
      );
      if (!left.left) continue;
      // More than a chunk's worth: disjoint id ranges, each walked chunk by chunk on a connection
      // of its own. A chunk's worth or less stays one range: one entry, one reintegro.
      const ranges = Math.min(this.config.SWEEP_CONCURRENCY, Math.ceil(left.left / this.config.SWEEP_CHUNK_SIZE));
      let vouchers = 0;
      let entries = 0;
      let total = money('0');
      await Promise.all(
        uuidRanges(ranges).map(async ({ after: from, until }) => {
          let after = from;
          for (;;) {
            const [r]: Array<{ scanned: number; swept: number; total: string; entry: string | null; last: string | null }> = await this.db.query(
              `SELECT r_scanned AS scanned, r_swept AS swept, r_total::text AS total, r_entry AS entry, r_last AS last
                 FROM treasury_sweep_vouchers($1, $2, $3, $4, $5)`,
              [p.id, now, after, this.config.SWEEP_CHUNK_SIZE, until],
            );
            if (!r.scanned) break;
            vouchers += r.swept;
            total = total.plus(money(r.total));
            if (r.entry) entries++;
            after = r.last;
            await opts.onProgress?.(vouchers);
            if (r.scanned < this.config.SWEEP_CHUNK_SIZE) break;
          }
        }),
      );
      if (vouchers || entries) out.programs.push({ programId: p.id, code: p.code, vouchers, total: formatMoney(total), entries });
      out.vouchers += vouchers;
      out.entries += entries;
      grand = grand.plus(total);
    }
    out.total = formatMoney(grand);
    return out;
  }

  /**
   * P22: a card still 'issued' (never delivered) whose delivery period — rules.cardCollection.businessDays
   * business days after it arrived at the office (holiday calendar) — has passed, with at least
   * rules.cardCollection.visits failed visits on different days → baja card_not_collected (the
   * padrón's baja: card cancelled, whole balance to reintegro in one entry, reintegro recorded).
   */
  async cardCollection(opts: SweepOptions = {}) {
    const now = await this.asOf(opts.date);
    const candidates: Array<{ instrumentId: string; beneficiaryId: string; arrivedOn: string; timeZone: string; rule: { businessDays: number; visits: number }; visitDays: number }> =
      await this.db.query(
        `SELECT i.id AS "instrumentId", i.beneficiary_id AS "beneficiaryId", to_char(a.arrived_on, 'YYYY-MM-DD') AS "arrivedOn",
                p.time_zone AS "timeZone", p.rules->'cardCollection' AS rule,
                (SELECT count(DISTINCT (v.visited_at AT TIME ZONE p.time_zone)::date)::int FROM instrument_delivery_visits v
                  WHERE v.instrument_id = i.id AND v.visited_at <= $2) AS "visitDays"
           FROM instruments i
           JOIN instrument_card_arrivals a ON a.instrument_id = i.id
           JOIN programs p ON p.id = i.program_id
           JOIN beneficiaries b ON b.id = i.beneficiary_id AND b.status = 'active'
          WHERE i.status = 'issued' AND i.kind = 'card' AND p.rules ? 'cardCollection' AND ($1::uuid IS NULL OR i.program_id = $1)
          ORDER BY i.id`,
        [opts.programId ?? null, now],
      );
    const done: Array<Record<string, unknown>> = [];
    for (const c of candidates) {
      const today = businessDate(now, c.timeZone);
      const verdict = cardCollectionDue({ arrivedOn: c.arrivedOn, visitDays: c.visitDays, today }, c.rule);
      if (!verdict.due) continue;
      const r = await this.beneficiaries.deactivateIfActive(
        c.beneficiaryId,
        { cause: 'card_not_collected', effectiveDate: today, note: `P22: card arrived ${c.arrivedOn}, delivery deadline ${verdict.deadline}, ${c.visitDays} failed visits` },
        SWEEPS_ACTOR,
      );
      // null: deactivated meanwhile by an officer, nothing left to do for this card.
      if (r) done.push({ beneficiaryId: c.beneficiaryId, instrumentId: c.instrumentId, reintegro: r.reintegro.amount, journalEntryId: r.reintegro.journalEntryId });
    }
    return { kind: 'card-collection', asOf: now.toISOString(), candidates: candidates.length, bajas: done.length, items: done };
  }

  /**
   * Tranche proofs: the letters of the recovery timeline (rules.recovery), the receivables they
   * open, and the legal referrals (GrantRecoveryService.sweep; docs/grants.md "Recovery"). No money
   * moves here: only what a grantee pays back becomes a reintegro.
   */
  async trancheProofs(opts: SweepOptions = {}) {
    return this.recovery.sweep(await this.asOf(opts.date), opts.programId ?? null);
  }

  /**
   * Fiscal-year close: at the end of 31 December of the program's fiscal year (program time
   * zone) its unspent budget — the available balance of program:<id>:budget and of its envelopes
   * (program_budget accounts) — moves to the reintegro payable in one entry (kind
   * 'fiscal_year_close', key fiscal-close:<programId>:<year>). Money committed by approved cycles
   * and grant awards sits in their commitment and award accounts, not in the budget, so it is not
   * unspent.
   */
  async fiscalClose(opts: SweepOptions = {}) {
    const now = await this.asOf(opts.date);
    const programs: Array<{ id: string; code: string; fiscalYear: number; budgetAccountId: string; reintegroAccountId: string }> = await this.db.query(
      `SELECT id, code, fiscal_year AS "fiscalYear", budget_account_id AS "budgetAccountId", reintegro_account_id AS "reintegroAccountId"
         FROM programs p
        WHERE ($1::uuid IS NULL OR id = $1) AND ((make_date(fiscal_year, 12, 31) + 1)::timestamp AT TIME ZONE time_zone) <= $2
          AND NOT EXISTS (SELECT 1 FROM reintegros r WHERE r.program_id = p.id AND r.cause = 'fiscal_year_close')
        ORDER BY code`,
      [opts.programId ?? null, now],
    );
    const closed: Array<Record<string, unknown>> = [];
    for (const p of programs) {
      const r = await this.db.transaction(async (m) => {
        const accounts: Array<{ id: string }> = await m.query(
          `SELECT id FROM ledger_accounts WHERE program_id = $1 AND category = 'program_budget' ORDER BY id FOR UPDATE`,
          [p.id],
        );
        const balances: Array<{ accountId: string; available: string }> = await m.query(
          `SELECT account_id AS "accountId", (posted - pending)::text AS available FROM ledger_balances
            WHERE account_id = ANY ($1::uuid[]) AND posted - pending > 0 ORDER BY account_id`,
          [accounts.map((a) => a.id)],
        );
        const total = sumMoney(balances.map((b) => b.available));
        if (total.lte(0)) return null;
        const yearEnd = `${p.fiscalYear}-12-31`;
        const posted = await this.ledger.post(
          {
            kind: 'fiscal_year_close',
            idempotencyKey: `fiscal-close:${p.id}:${p.fiscalYear}`,
            effectiveAt: now,
            description: `Fiscal year ${p.fiscalYear} close of ${p.code}: unspent budget to reintegro`,
            metadata: { programId: p.id, fiscalYear: p.fiscalYear, cause: 'fiscal_year_close' },
            createdBy: 'system:sweeps',
            postings: [
              ...balances.map((b) => ({ accountId: b.accountId, side: 'debit' as const, amount: money(b.available) })),
              { accountId: p.reintegroAccountId, side: 'credit', amount: total },
            ],
          },
          m,
        );
        if (posted.replayed) return null;
        await this.treasury.recordReintegro(m, {
          programId: p.id,
          cause: 'fiscal_year_close',
          amount: total.toFixed(2),
          source: 'program_budget',
          sourceAccountIds: balances.map((b) => b.accountId),
          journalEntryId: posted.entryId,
          details: { fiscalYear: p.fiscalYear, closedAsOf: yearEnd },
          createdAt: now,
        });
        return { programId: p.id, code: p.code, fiscalYear: p.fiscalYear, amount: formatMoney(total), journalEntryId: posted.entryId };
      });
      if (r) closed.push(r);
    }
    // Money of rejected bank transfers still waiting for corrected bank details at the close goes
    // to reintegro too (cause payout_rejected; docs/payouts.md). Every ended year, every run: a
    // rejection the bank reports after the close is taken by the next run.
    const waiting: Array<{ id: string }> = await this.db.query(
      `SELECT DISTINCT p.id FROM programs p JOIN payout_batches b ON b.program_id = p.id JOIN payout_lines l ON l.batch_id = b.id
        WHERE ($1::uuid IS NULL OR p.id = $1) AND ((make_date(p.fiscal_year, 12, 31) + 1)::timestamp AT TIME ZONE p.time_zone) <= $2
          AND l.status = 'rejected' AND l.followup IS NULL`,
      [opts.programId ?? null, now],
    );
    const payoutRejected: Array<Record<string, unknown>> = [];
    for (const p of waiting) {
      const lines = await this.db.transaction((m) => this.payouts.reintegrateRejectedAtClose(p.id, now, SWEEPS_ACTOR, m));
      payoutRejected.push(...lines.map((l) => ({ programId: p.id, ...l })));
    }
    return { kind: 'fiscal-close', asOf: now.toISOString(), programs: closed, payoutRejected };
  }
}
