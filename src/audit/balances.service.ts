import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Decimal from 'decimal.js';
import { DataSource } from 'typeorm';
import { formatMoney, money, ZERO } from '../common/money';
import { problems } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Queryable } from '../database/queryable';
import { decodeCursor, encodeCursor } from '../common/pagination';
import { boundInstantText } from './audit.rules';

export interface AccountTotals {
  debits: Decimal;
  credits: Decimal;
}

export interface StatementLine {
  postingId: string;
  entryId: string;
  seq: string;
  kind: string;
  description: string | null;
  effectiveAt: string;
  side: 'debit' | 'credit';
  debit: string;
  credit: string;
  balance: string;
}

/** The statement's keyset (effective_at, posting id) and the running balance after that line. */
const STATEMENT_CURSOR = ['timestamp', 'int', 'decimal'] as const;

/** Lines per query while streaming a whole statement as CSV. */
const CSV_PAGE = 5000;

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Balances as of a date, trial balance and statements. They read the per-account daily totals
 * (audit_account_day_totals) plus at most one day of postings of the account (postings index)
 * plus the few entries not folded yet — never the whole history.
 */
@Injectable()
export class BalancesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The exact instant (µs, UTC) of a query bound: a business date in the service time zone, or an instant (audit.rules). */
  instant(bound: string, edge: 'start' | 'end'): string {
    return boundInstantText(bound, edge, this.config.DEFAULT_TIME_ZONE);
  }

  /** Debits and credits of the postings effective strictly before `before`. */
  async totalsBefore(accountId: string, before: string | Date, q: Queryable = this.db): Promise<AccountTotals> {
    const rows = await q.query(`SELECT debits::text, credits::text FROM audit_account_totals_before($1, $2::timestamptz)`, [accountId, before]);
    return { debits: money(rows[0].debits), credits: money(rows[0].credits) };
  }

  async account(accountId: string, q: Queryable = this.db) {
    const rows = await q.query(
      `SELECT id, code, name, category, normal_side AS "normalSide", program_id AS "programId", currency
         FROM ledger_accounts WHERE id = $1`,
      [accountId],
    );
    if (!rows[0]) throw problems.notFound('account');
    return rows[0] as { id: string; code: string; name: string; category: string; normalSide: 'debit' | 'credit'; programId: string | null; currency: string };
  }

  /** Posted balance (in the account's normal side) of the postings effective at or before `at`. */
  async balanceAsOf(accountId: string, asOf: string | null, now: Date, db: DataSource = this.db) {
    return db.transaction('REPEATABLE READ', async (m) => {
      const account = await this.account(accountId, m);
      const before = this.instant(asOf ?? now.toISOString(), 'end');
      const t = await this.totalsBefore(accountId, before, m);
      return {
        accountId,
        code: account.code,
        asOf: asOf ?? now.toISOString(),
        debits: formatMoney(t.debits),
        credits: formatMoney(t.credits),
        balance: formatMoney(signed(account.normalSide, t)),
      };
    });
  }

  /** Every account with its debits, credits and balance as of a date; debits total = credits total. */
  async trialBalance(asOf: string | null, now: Date, filter: { category?: string; programId?: string }, db: DataSource = this.db) {
    return db.transaction('REPEATABLE READ', async (m) => {
      const before = this.instant(asOf ?? now.toISOString(), 'end');
      const rows: Array<{ id: string; code: string; name: string; category: string; normalSide: 'debit' | 'credit'; programId: string | null; currency: string; debits: string; credits: string }> =
        await m.query(
          `SELECT a.id, a.code, a.name, a.category, a.normal_side AS "normalSide", a.program_id AS "programId", a.currency,
                  coalesce(t.debits, 0)::text AS debits, coalesce(t.credits, 0)::text AS credits
             FROM ledger_accounts a LEFT JOIN audit_all_totals_before($1::timestamptz) t ON t.account_id = a.id
            ORDER BY a.code`,
          [before],
        );
      let debits = ZERO;
      let credits = ZERO;
      const accounts = [];
      for (const r of rows) {
        const t = { debits: money(r.debits), credits: money(r.credits) };
        debits = debits.plus(t.debits);
        credits = credits.plus(t.credits);
        if (filter.category && r.category !== filter.category) continue;
        if (filter.programId && r.programId !== filter.programId) continue;
        accounts.push({
          accountId: r.id,
          code: r.code,
          name: r.name,
          category: r.category,
          normalSide: r.normalSide,
          programId: r.programId,
          currency: r.currency,
          debits: formatMoney(t.debits),
          credits: formatMoney(t.credits),
          balance: formatMoney(signed(r.normalSide, t)),
        });
      }
      return {
        asOf: asOf ?? now.toISOString(),
        asOfInstant: before,
        accounts,
        totals: { debits: formatMoney(debits), credits: formatMoney(credits), difference: formatMoney(debits.minus(credits)) },
        balanced: debits.eq(credits),
      };
    });
  }

  /**
   * Statement of one account between two bounds: opening balance (everything before `from`),
   * the postings in [from, to) in (effective_at, posting id) order with a running balance, and the
   * closing balance. `limit`/`cursor` page the lines; opening, closing and totals always cover the whole period.
   */
  async statement(
    accountId: string,
    range: { from: string | null; to: string | null },
    now: Date,
    page: { limit: number; cursor?: string },
    db: DataSource = this.db,
  ) {
    return db.transaction('REPEATABLE READ', async (m) => {
      const account = await this.account(accountId, m);
      const from = range.from ? this.instant(range.from, 'start') : null;
      const to = this.instant(range.to ?? now.toISOString(), 'end');
      const opening = from ? await this.totalsBefore(accountId, from, m) : { debits: ZERO, credits: ZERO };
      const closing = await this.totalsBefore(accountId, to, m);
      const cursor = decodeCursor(page.cursor, STATEMENT_CURSOR);
      const { lines, next } = await this.lines(m, account.normalSide, accountId, from, to, page.limit, cursor, signed(account.normalSide, opening));
      return {
        account: { id: account.id, code: account.code, name: account.name, category: account.category, normalSide: account.normalSide, currency: account.currency },
        from: range.from,
        to: range.to ?? now.toISOString(),
        fromInstant: from,
        toInstant: to,
        openingBalance: formatMoney(signed(account.normalSide, opening)),
        closingBalance: formatMoney(signed(account.normalSide, closing)),
        totalDebits: formatMoney(closing.debits.minus(opening.debits)),
        totalCredits: formatMoney(closing.credits.minus(opening.credits)),
        lines,
        nextCursor: next ? encodeCursor(next) : null,
      };
    });
  }

  /** All lines of a statement, page by page (for CSV streaming). */
  async *statementCsvRows(accountId: string, range: { from: string | null; to: string | null }, now: Date, db: DataSource = this.db): AsyncGenerator<unknown[]> {
    const first = await this.statement(accountId, range, now, { limit: CSV_PAGE }, db);
    yield ['type', 'effective_at', 'entry_id', 'seq', 'kind', 'description', 'debit', 'credit', 'balance'];
    yield ['opening', first.fromInstant ?? '', '', '', '', `${first.account.code}`, '', '', first.openingBalance];
    let page = first;
    for (;;) {
      for (const l of page.lines) yield ['posting', l.effectiveAt, l.entryId, l.seq, l.kind, l.description ?? '', l.debit, l.credit, l.balance];
      if (!page.nextCursor) break;
      page = await this.statement(accountId, range, now, { limit: CSV_PAGE, cursor: page.nextCursor }, db);
    }
    yield ['closing', first.toInstant, '', '', '', '', first.totalDebits, first.totalCredits, first.closingBalance];
  }

  private async lines(
    q: Queryable,
    normalSide: 'debit' | 'credit',
    accountId: string,
    from: string | null,
    to: string,
    limit: number,
    cursor: readonly [t: string, id: string, balance: string] | null,
    opening: Decimal,
  ): Promise<{ lines: StatementLine[]; next: [string, string, string] | null }> {
    const rows: Array<{ id: string; entryId: string; seq: string; kind: string; description: string | null; t: string; side: 'debit' | 'credit'; amount: string }> =
      await q.query(
        `SELECT p.id::text, p.entry_id AS "entryId", e.seq::text, e.kind, e.description,
                to_char(p.effective_at AT TIME ZONE 'UTC', ${ISO_US}) AS t, p.side, p.amount::text
           FROM postings p JOIN journal_entries e ON e.id = p.entry_id
          WHERE p.account_id = $1 AND p.effective_at < $2::timestamptz
            AND ($3::timestamptz IS NULL OR p.effective_at >= $3::timestamptz)
            AND ($4::timestamptz IS NULL OR (p.effective_at, p.id) > ($4::timestamptz, $5::bigint))
          ORDER BY p.effective_at, p.id
          LIMIT $6`,
        [accountId, to, from, cursor?.[0] ?? null, cursor?.[1] ?? null, limit + 1],
      );
    let balance = cursor ? money(cursor[2]) : opening;
    const lines: StatementLine[] = [];
    for (const r of rows.slice(0, limit)) {
      const amount = money(r.amount);
      balance = r.side === normalSide ? balance.plus(amount) : balance.minus(amount);
      lines.push({
        postingId: r.id,
        entryId: r.entryId,
        seq: r.seq,
        kind: r.kind,
        description: r.description,
        effectiveAt: r.t,
        side: r.side,
        debit: r.side === 'debit' ? formatMoney(amount) : '0.00',
        credit: r.side === 'credit' ? formatMoney(amount) : '0.00',
        balance: formatMoney(balance),
      });
    }
    const last = lines[lines.length - 1];
    const next: [string, string, string] | null = rows.length > limit && last ? [last.effectiveAt, last.postingId, balance.toFixed(2)] : null;
    return { lines, next };
  }
}

export function signed(normalSide: 'debit' | 'credit', t: AccountTotals): Decimal {
  return normalSide === 'credit' ? t.credits.minus(t.debits) : t.debits.minus(t.credits);
}
