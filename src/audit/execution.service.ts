import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { endOfBusinessDate, startOfBusinessDate } from '../common/calendar';
import { businessDate } from '../common/clock';
import { Money } from '../common/money';
import { problems } from '../common/problem';
import {
  assembleRows,
  check,
  Check,
  ExecutionColumn,
  ExecutionDimension,
  executionPeriod,
  monthsOf,
  PROGRAM_KEY,
  spendingCalendarOf,
  totalsChecks,
  zoneOf,
} from './execution.rules';
import { foldFinalEntries } from './final-entries';

/** Journal entry kinds of cycle lines (disbursements/cycles.rules.ts entryKind). */
export const CYCLE_KINDS = ['cycle_deposit', 'cycle_voucher_load', 'cycle_tranche'];
/**
 * What executes a program's budget: cycle lines, payment orders, payments on compliance, supplier
 * invoices and loan disbursements; and, negative, a revolving fund's repayments returned to its
 * pool (the budget). Any other kind that leaves the budget side shows as a difference in `checks`.
 */
export const EXECUTING_KINDS = [...CYCLE_KINDS, 'payment_order', 'compliance_payment', 'supplier_invoice', 'loan_disbursement', 'loan_pool_return'];
/**
 * The cycle entries effective in [$3, $4) of kinds $2, and the reversals of such entries effective
 * then, each with the metadata of the original (its beneficiary, its component): two index scans
 * (journal_entries_kind, and the unique index of reverses_entry_id), never all entries.
 */
const CYCLE_ENTRIES = `e AS (
  SELECT e.id, e.effective_at, e.metadata FROM journal_entries e WHERE e.kind = ANY($2) AND e.effective_at >= $3 AND e.effective_at < $4
  UNION ALL
  SELECT r.id, r.effective_at, o.metadata FROM journal_entries r JOIN journal_entries o ON o.id = r.reverses_entry_id
   WHERE r.reverses_entry_id IS NOT NULL AND o.kind = ANY($2) AND r.effective_at >= $3 AND r.effective_at < $4)`;
/** Where money committed and not yet executed waits: a cycle's, an award's, approved loans'. */
const COMMITTED = ['cycle_commitment', 'grant_award', 'loan_commitment'];
/** Where the money of a program waits before it is executed. */
const BUDGET_SIDE = ['program_budget', ...COMMITTED];

/**
 * Money executed seen from the budget side: what executing entries (EXECUTING_KINDS) took out of
 * the program's budget, commitment, award and loan-commitment accounts in [from, to), net of reversals.
 */
export async function executedFromBudget(m: EntityManager | DataSource, programId: string, from: Date, to: Date): Promise<string> {
  const [r] = await m.query(
    `WITH ${CYCLE_ENTRIES}
     SELECT coalesce(sum(CASE WHEN x.side = 'debit' THEN x.amount ELSE -x.amount END), 0)::text AS n
       FROM e JOIN postings x ON x.entry_id = e.id
       JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id = $1 AND a.category = ANY($5)`,
    [programId, EXECUTING_KINDS, from, to, BUDGET_SIDE],
  );
  return r.n;
}

type Part = { key: string; column: ExecutionColumn; amount: string };
export type ExecutionSource = 'summary' | 'entries';
/**
 * Stocks as of the end of the period by budget-side account: available per budget account (the
 * program's, or an envelope), committed per cycle or award component. %SOURCE% is the signed
 * amounts (account_id, amount) up to the end ($3), from the postings or from the summary.
 */
const STOCKS_BY_ACCOUNT = `SELECT CASE WHEN a.category = 'program_budget' THEN
                 CASE WHEN $4 = 'component' AND a.code LIKE 'program:%:envelope:%' THEN 'envelope:' || split_part(a.code, ':envelope:', 2) ELSE '${PROGRAM_KEY}' END
               WHEN $4 = 'zone' THEN '${PROGRAM_KEY}'
               WHEN a.category = 'grant_award' THEN coalesce(g.component, 'awards')
               ELSE 'benefit' END AS key,
          CASE WHEN a.category = 'program_budget' THEN 'available' ELSE 'committed' END AS column,
          coalesce(sum(x.amount), 0)::text AS amount
     FROM ledger_accounts a JOIN %SOURCE% x ON x.account_id = a.id
     LEFT JOIN grants g ON g.award_account_id = a.id
    WHERE a.program_id = $1 AND a.category = ANY($2)
    GROUP BY 1, 2`;
type ZoneFields = { comuna?: string; municipality?: string } | null;
/** The address fields a zone is made of (execution.rules zoneOf decides). */
const ADDRESS_ZONE = `jsonb_build_object('comuna', b.address->>'comuna', 'municipality', b.address->>'municipality')`;

/**
 * Budget execution of a program (API.md "Auditors: execution, complaints"; docs/audit.md): totals
 * computed from one side of the entries, the rows by month, component or zone from the other,
 * so that a wrong or unclassified posting shows as a difference in `checks`.
 */
@Injectable()
export class ExecutionService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * `source`: `summary` (the default) reads audit_execution_days plus the entries after its mark;
   * `entries` reads every posting of the period (the reference the summary is tested and
   * benchmarked against).
   */
  async program(programId: string, now: Date, query: { from?: string; to?: string; by?: ExecutionDimension }, source: ExecutionSource = 'summary') {
    const by = query.by ?? 'month';
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const [p] = await m.query(
        `SELECT id, code, time_zone AS "timeZone", budget_account_id AS "budgetAccountId", reintegro_account_id AS "reintegroAccountId",
                rules->>'authorizedBudget' AS "authorizedBudget"
           FROM programs WHERE id = $1`,
        [programId],
      );
      if (!p) throw problems.notFound('program');
      const period = executionPeriod(query, businessDate(now, p.timeZone));
      const from = startOfBusinessDate(period.from, p.timeZone);
      const to = endOfBusinessDate(period.to, p.timeZone);
      const tz = p.timeZone as string;

      let totals: Record<ExecutionColumn, string>;
      let parts: Part[];
      let appropriatedAll: string;
      let executedAll: string;
      if (source === 'entries') {
        totals = await this.totals(m, p, from, to);
        parts = await this.parts(m, p, by, from, to, tz);
        // Since the start, as of `to`: what the budget holds is what was appropriated less what is committed and executed.
        const sinceStart = new Date(0);
        appropriatedAll = await this.appropriated(m, p.budgetAccountId, sinceStart, to);
        executedAll = await executedFromBudget(m, p.id, sinceStart, to);
      } else {
        ({ totals, parts, appropriatedAll, executedAll } = await this.fromSummary(m, p, by, period));
      }
      const rows = assembleRows(parts, by === 'month' ? monthsOf(period.from, period.to) : []);
      const checks: Check[] = totalsChecks(by, totals, rows);
      checks.push(check('available vs appropriated − committed − executed (since the start)', totals.available, [
        appropriatedAll,
        new Money(totals.committed).negated(),
        new Money(executedAll).negated(),
      ]));

      const calendar = spendingCalendarOf(p.code);
      let planned: Record<string, string> | null = null;
      if (calendar) {
        const year = period.to.slice(0, 4);
        planned = Object.fromEntries(Object.entries(calendar.months).map(([mm, amount]) => [`${year}-${mm}`, amount]));
        if (p.authorizedBudget !== null) checks.push(check(`spending calendar (seed @${calendar.seedOffset}) vs rules.authorizedBudget`, p.authorizedBudget, Object.values(calendar.months)));
      }
      const out = rows.map((r) =>
        planned && by === 'month'
          ? { ...r, planned: planned[r.key] ?? '0.00', executedVsPlanned: new Money(r.executed).minus(planned[r.key] ?? '0').toFixed(2) }
          : r,
      );
      return {
        programId: p.id,
        code: p.code,
        by,
        from: period.from,
        to: period.to,
        totals,
        rows: out,
        checks,
        differences: checks.filter((c) => c.difference !== '0.00'),
        ...(calendar ? { spendingCalendar: { seedOffset: calendar.seedOffset } } : {}),
      };
    });
  }

  /**
   * Folds the entries below the sealing horizon not yet summarised into audit_execution_days
   * (incremental, keyed on the last summarised entry like the day totals; one folder at a time).
   * Run by the seals job; returns the entries folded.
   */
  async refreshSummary(batch = 50_000): Promise<number> {
    return foldFinalEntries(this.db, 'monedero:audit:execution-days', batch, async (m, horizon) => {
      const [{ n }] = await m.query(`SELECT audit_fold_execution_days($1::xid8, $2, $3) AS n`, [horizon, EXECUTING_KINDS, batch]);
      return n as number;
    });
  }

  /**
   * Totals and parts from the summary: the program's rows of audit_execution_days plus the
   * contributions of the entries after its mark (the tail), gathered once into a temporary table
   * in the report's snapshot (the mark and the rows it covers are read together). Days are the
   * program's business dates, so a period [from, to] is a range of days.
   */
  private async fromSummary(m: EntityManager, p: { id: string; budgetAccountId: string; reintegroAccountId: string }, by: ExecutionDimension, period: { from: string; to: string }) {
    await m.query(
      `CREATE TEMP TABLE audit_execution_report ON COMMIT DROP AS
       SELECT d.day, d.category, d.account_id, d.kind, d.component, d.zone, d.net FROM audit_execution_days d WHERE d.program_id = $1
       UNION ALL
       SELECT t.day, t.category, t.account_id, t.kind, t.component, t.zone, t.net
         FROM audit_execution_rows(ARRAY(SELECT e.id FROM journal_entries e, audit_execution_progress g WHERE (e.txid, e.seq) > (g.last_txid, g.last_seq)), $2, $1) t`,
      [p.id, EXECUTING_KINDS],
    );
    const sum = async (where: string, params: unknown[], sign = '') =>
      ((await m.query(`SELECT coalesce(${sign}sum(net), 0)::text AS n FROM audit_execution_report WHERE ${where}`, params))[0].n as string);
    const inPeriod = `day >= $2::date AND day <= $3::date`;
    const appropriatedWhere = `account_id = $1 AND kind = 'appropriation'`;
    const reintegroWhere = `account_id = $1 AND kind <> 'remittance'`;
    const f = (v: string) => new Money(v).toFixed(2);
    const totals: Record<ExecutionColumn, string> = {
      appropriated: f(await sum(`${appropriatedWhere} AND ${inPeriod}`, [p.budgetAccountId, period.from, period.to])),
      committed: f(await sum(`category = ANY($1) AND day <= $2::date`, [COMMITTED, period.to])),
      executed: f(await sum(`category = ANY($1) AND kind = ANY($4) AND ${inPeriod}`, [BUDGET_SIDE, period.from, period.to, EXECUTING_KINDS], '-')),
      reintegrated: f(await sum(`${reintegroWhere} AND ${inPeriod}`, [p.reintegroAccountId, period.from, period.to])),
      available: f(await sum(`category = ANY($1) AND day <= $2::date`, [['program_budget'], period.to])),
    };
    const appropriatedAll = await sum(`${appropriatedWhere} AND day <= $2::date`, [p.budgetAccountId, period.to]);
    const executedAll = await sum(`category = ANY($1) AND kind = ANY($2) AND day <= $3::date`, [BUDGET_SIDE, EXECUTING_KINDS, period.to], '-');

    const month = `to_char(day, 'YYYY-MM')`;
    const grouped = async (keyExpr: string, where: string, params: unknown[]) =>
      (await m.query(`SELECT ${keyExpr} AS key, sum(net)::text AS amount FROM audit_execution_report WHERE ${where} GROUP BY 1`, params)) as Array<{ key: string | ZoneFields | null; amount: string }>;
    const executedKey =
      by === 'month' ? month : by === 'component' ? `CASE WHEN category = 'insurer_payable' THEN 'insurer' ELSE coalesce(component, 'benefit') END` : 'zone';
    const parts: Part[] = [
      ...(await grouped(executedKey, `NOT (category = ANY($1)) AND kind = ANY($2) AND day >= $3::date AND day <= $4::date`, [BUDGET_SIDE, EXECUTING_KINDS, period.from, period.to])).map((r) => ({
        key: by === 'zone' ? zoneOf(r.key as ZoneFields) : (r.key as string),
        amount: r.amount,
        column: 'executed' as const,
      })),
      ...(await grouped(by === 'month' ? month : `'${PROGRAM_KEY}'`, `${appropriatedWhere} AND ${inPeriod}`, [p.budgetAccountId, period.from, period.to])).map((r) => ({
        key: r.key as string,
        amount: r.amount,
        column: 'appropriated' as const,
      })),
      ...(await grouped(by === 'month' ? month : by === 'zone' ? 'zone' : `'${PROGRAM_KEY}'`, `${reintegroWhere} AND ${inPeriod}`, [p.reintegroAccountId, period.from, period.to])).map((r) => ({
        key: by !== 'zone' ? (r.key as string) : r.key === null ? PROGRAM_KEY : zoneOf(r.key as ZoneFields),
        amount: r.amount,
        column: 'reintegrated' as const,
      })),
    ];
    if (by === 'month') {
      // End-of-month balances: the opening balance before `from` plus each month's net change.
      for (const [column, categories] of [['committed', COMMITTED], ['available', ['program_budget']]] as const) {
        let running = new Money(await sum(`category = ANY($1) AND day < $2::date`, [[...categories], period.from]));
        const changes = new Map((await grouped(month, `category = ANY($1) AND ${inPeriod}`, [[...categories], period.from, period.to])).map((c) => [c.key as string, c.amount]));
        for (const mm of monthsOf(period.from, period.to)) {
          running = running.plus(changes.get(mm) ?? '0');
          parts.push({ key: mm, column, amount: running.toFixed(2) });
        }
      }
    } else {
      parts.push(...(await m.query(`${STOCKS_BY_ACCOUNT.replace('%SOURCE%', `(SELECT account_id, net AS amount FROM audit_execution_report WHERE day <= $3::date)`)}`, [p.id, BUDGET_SIDE, period.to, by])));
    }
    return { totals, parts, appropriatedAll, executedAll };
  }

  private async appropriated(m: EntityManager, budgetAccountId: string, from: Date, to: Date): Promise<string> {
    const [r] = await m.query(
      `SELECT coalesce(sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END), 0)::text AS n
         FROM postings x JOIN journal_entries e ON e.id = x.entry_id LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
        WHERE x.account_id = $1 AND coalesce(o.kind, e.kind) = 'appropriation' AND x.effective_at >= $2 AND x.effective_at < $3`,
      [budgetAccountId, from, to],
    );
    return r.n;
  }

  /** Balance of a program's accounts of some categories as of `to` (credit-normal). */
  private async stock(m: EntityManager, programId: string, categories: string[], to: Date): Promise<string> {
    const [r] = await m.query(
      `SELECT coalesce(sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END), 0)::text AS n
         FROM ledger_accounts a JOIN postings x ON x.account_id = a.id AND x.effective_at < $3
        WHERE a.program_id = $1 AND a.category = ANY($2)`,
      [programId, categories, to],
    );
    return r.n;
  }

  /** Net credits to the reintegro account in [from, to), remittances to the Tesorería excluded. */
  private reintegroSql(keyExpr: string, joins = '') {
    return `SELECT ${keyExpr} AS key, coalesce(sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END), 0)::text AS amount
              FROM postings x JOIN journal_entries e ON e.id = x.entry_id LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id ${joins}
             WHERE x.account_id = $1 AND coalesce(o.kind, e.kind) <> 'remittance' AND x.effective_at >= $2 AND x.effective_at < $3
             GROUP BY 1`;
  }

  private async totals(m: EntityManager, p: { id: string; budgetAccountId: string; reintegroAccountId: string }, from: Date, to: Date): Promise<Record<ExecutionColumn, string>> {
    // One after another: they share the transaction's connection.
    const appropriated = await this.appropriated(m, p.budgetAccountId, from, to);
    const executed = await executedFromBudget(m, p.id, from, to);
    const committed = await this.stock(m, p.id, COMMITTED, to);
    const available = await this.stock(m, p.id, ['program_budget'], to);
    const reintegrated: string = (await m.query(this.reintegroSql(`'total'`), [p.reintegroAccountId, from, to]))[0]?.amount ?? '0';
    const f = (v: string) => new Money(v).toFixed(2);
    return { appropriated: f(appropriated), committed: f(committed), executed: f(executed), reintegrated: f(reintegrated), available: f(available) };
  }

  /**
   * The parts by dimension. Executed is read from the receiving side of the cycle entries (cards,
   * vouchers, payables, grants, the insurer), its zone from the entry's beneficiary and its
   * component from the entry (a grant's stage), else `insurer` or `benefit`.
   */
  private async parts(m: EntityManager, p: { id: string; budgetAccountId: string; reintegroAccountId: string }, by: ExecutionDimension, from: Date, to: Date, tz: string): Promise<Part[]> {
    const month = (col: string) => `to_char(${col} AT TIME ZONE '${tz.replace(/'/g, "''")}', 'YYYY-MM')`;
    const executedKey =
      by === 'month'
        ? month('e.effective_at')
        : by === 'component'
          ? `CASE WHEN a.category = 'insurer_payable' THEN 'insurer' ELSE coalesce(e.metadata->>'component', 'benefit') END`
          : ADDRESS_ZONE;
    const executed: Part[] = (
      await m.query(
        `WITH ${CYCLE_ENTRIES}
         SELECT ${executedKey} AS key, sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END)::text AS amount
           FROM e JOIN postings x ON x.entry_id = e.id
           JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id = $1 AND NOT (a.category = ANY($5))
           ${by === 'zone' ? `LEFT JOIN beneficiaries b ON b.id = (e.metadata->>'beneficiaryId')::uuid` : ''}
          GROUP BY 1`,
        [p.id, EXECUTING_KINDS, from, to, BUDGET_SIDE],
      )
    ).map((r: { key: string | ZoneFields; amount: string }) => ({ key: by === 'zone' ? zoneOf(r.key as ZoneFields) : (r.key as string), amount: r.amount, column: 'executed' as const }));

    const appropriatedRows: Array<{ key: string; amount: string }> = await m.query(
      `SELECT ${by === 'month' ? month('x.effective_at') : `'${PROGRAM_KEY}'`} AS key,
              sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END)::text AS amount
         FROM postings x JOIN journal_entries e ON e.id = x.entry_id LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
        WHERE x.account_id = $1 AND coalesce(o.kind, e.kind) = 'appropriation' AND x.effective_at >= $2 AND x.effective_at < $3
        GROUP BY 1`,
      [p.budgetAccountId, from, to],
    );
    const reintegroRows: Array<{ key: string | ZoneFields | null; amount: string }> = await m.query(
      by === 'month'
        ? this.reintegroSql(month('x.effective_at'))
        : by === 'zone'
          ? this.reintegroSql(
              `CASE WHEN b.id IS NULL THEN NULL ELSE ${ADDRESS_ZONE} END`,
              `LEFT JOIN reintegros r ON r.journal_entry_id = coalesce(o.id, e.id) LEFT JOIN beneficiaries b ON b.id = r.beneficiary_id`,
            )
          : this.reintegroSql(`'${PROGRAM_KEY}'`),
      [p.reintegroAccountId, from, to],
    );
    const parts: Part[] = [
      ...executed,
      ...appropriatedRows.map((r) => ({ ...r, column: 'appropriated' as const })),
      ...reintegroRows.map((r) => ({
        key: by !== 'zone' ? (r.key as string) : r.key === null ? PROGRAM_KEY : zoneOf(r.key as ZoneFields),
        amount: r.amount,
        column: 'reintegrated' as const,
      })),
    ];

    if (by === 'month') {
      // End-of-month balances: the opening balance before `from` plus each month's net change.
      for (const [column, categories] of [['committed', COMMITTED], ['available', ['program_budget']]] as const) {
        const opening = await this.stock(m, p.id, [...categories], from);
        const changes: Array<{ key: string; amount: string }> = await m.query(
          `SELECT ${month('x.effective_at')} AS key, sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END)::text AS amount
             FROM ledger_accounts a JOIN postings x ON x.account_id = a.id AND x.effective_at >= $3 AND x.effective_at < $4
            WHERE a.program_id = $1 AND a.category = ANY($2) GROUP BY 1 ORDER BY 1`,
          [p.id, categories, from, to],
        );
        const byMonth = new Map(changes.map((c) => [c.key, c.amount]));
        let running = new Money(opening);
        for (const mm of monthsOf(businessDate(from, tz), businessDate(new Date(to.getTime() - 1), tz))) {
          running = running.plus(byMonth.get(mm) ?? '0');
          parts.push({ key: mm, column, amount: running.toFixed(2) });
        }
      }
    } else {
      // Stocks as of `to`: available per budget account (the program's, or an envelope), committed per cycle or award component.
      const stocks: Array<{ key: string; column: ExecutionColumn; amount: string }> = await m.query(
        STOCKS_BY_ACCOUNT.replace('%SOURCE%', `(SELECT account_id, CASE WHEN side = 'credit' THEN amount ELSE -amount END AS amount FROM postings WHERE effective_at < $3)`),
        [p.id, BUDGET_SIDE, to, by],
      );
      parts.push(...stocks);
    }
    return parts;
  }
}
