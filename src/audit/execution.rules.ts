import { addDays, isDate } from '../common/calendar';
import { Money } from '../common/money';
import { problems } from '../common/problem';

/**
 * Budget execution (docs/audit.md "Budget execution"): appropriated, committed, executed,
 * reintegrated and available per month, component or zone, each total checked against the sum
 * of its parts, and the program's spending calendar where the seed gives one.
 */
export const EXECUTION_DIMENSIONS = ['month', 'component', 'zone'] as const;
export type ExecutionDimension = (typeof EXECUTION_DIMENSIONS)[number];

export const EXECUTION_COLUMNS = ['appropriated', 'committed', 'executed', 'reintegrated', 'available'] as const;
export type ExecutionColumn = (typeof EXECUTION_COLUMNS)[number];
/** Flows add up over months; stocks (committed, available) are balances at the end of each month. */
export const FLOWS: readonly ExecutionColumn[] = ['appropriated', 'executed', 'reintegrated'];

/** The row of what no month, component or zone can claim (an appropriation has no zone). */
export const PROGRAM_KEY = '(program)';
export const NO_ZONE = '(no zone)';

/**
 * Monthly spending calendars the seeds give, in pesos. Desempleo (002 part B §4.1, @837641/@837789):
 * Jan 32.0M … Nov 46.0M (printed «46,000,00.00», read as 46,000,000.00) and Dec 50,375,587, adding up to
 * its authorized budget.
 */
export const SPENDING_CALENDARS: Record<string, { seedOffset: number; months: Record<string, string> }> = {
  DESEMPLEO: {
    seedOffset: 837641,
    months: {
      '01': '32000000.00', '02': '27000000.00', '03': '36000000.00', '04': '33000000.00', '05': '36500000.00', '06': '49000000.00',
      '07': '46500000.00', '08': '49500000.00', '09': '55500000.00', '10': '48000000.00', '11': '46000000.00', '12': '50375587.00',
    },
  },
};

export function spendingCalendarOf(code: string): { base: string; seedOffset: number; months: Record<string, string> } | null {
  const base = Object.keys(SPENDING_CALENDARS).find((b) => code === b || code.startsWith(`${b}-`));
  return base ? { base, ...SPENDING_CALENDARS[base] } : null;
}

/** `from`..`to` (inclusive dates); default 1 January of `to`'s year .. today; never after today. */
export function executionPeriod(input: { from?: string; to?: string }, today: string): { from: string; to: string } {
  const to = input.to ?? today;
  const from = input.from ?? `${to.slice(0, 4)}-01-01`;
  if (!isDate(from) || !isDate(to)) throw problems.validation('from and to must be YYYY-MM-DD');
  if (to > today) throw problems.validation('to cannot be in the future');
  if (from > to) throw problems.validation('from must not be after to');
  return { from, to };
}

/** The months (YYYY-MM) a period touches, in order. */
export function monthsOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = `${from.slice(0, 7)}-01`; d <= to; d = addDays(`${d.slice(0, 7)}-28`, 4).slice(0, 7) + '-01') out.push(d.slice(0, 7));
  return out;
}

/** The zone of an address: the comuna where it has one (Cali), else the municipality (alcaldía). */
export function zoneOf(address: { comuna?: unknown; municipality?: unknown } | null | undefined): string {
  const z = address?.comuna ?? address?.municipality;
  return typeof z === 'string' && z.trim() !== '' ? z.trim() : NO_ZONE;
}

export type ExecutionRow = { key: string } & Record<ExecutionColumn, string>;

/** Rows from (key, column, amount) parts: every key gets every column (0.00 when absent), keys in order. */
export function assembleRows(parts: Array<{ key: string; column: ExecutionColumn; amount: string }>, keys: string[] = []): ExecutionRow[] {
  const byKey = new Map<string, Record<ExecutionColumn, Money>>();
  const row = (key: string) => {
    let r = byKey.get(key);
    if (!r) byKey.set(key, (r = Object.fromEntries(EXECUTION_COLUMNS.map((c) => [c, new Money(0)])) as Record<ExecutionColumn, Money>));
    return r;
  };
  for (const k of keys) row(k);
  for (const p of parts) {
    const r = row(p.key);
    r[p.column] = r[p.column].plus(p.amount);
  }
  const ordered = [...byKey.keys()].sort((a, b) => (a === PROGRAM_KEY ? 1 : b === PROGRAM_KEY ? -1 : a < b ? -1 : a > b ? 1 : 0));
  return ordered.map((key) => ({ key, ...(Object.fromEntries(EXECUTION_COLUMNS.map((c) => [c, byKey.get(key)![c].toFixed(2)])) as Record<ExecutionColumn, string>) }));
}

export interface Check {
  what: string;
  total: string;
  sumOfParts: string;
  difference: string;
}

export function check(what: string, total: string | Money, parts: Array<string | Money>): Check {
  const sum = parts.reduce<Money>((s, p) => s.plus(p), new Money(0));
  const t = new Money(total);
  return { what, total: t.toFixed(2), sumOfParts: sum.toFixed(2), difference: t.minus(sum).toFixed(2) };
}

/**
 * Every total against the sum of its parts: the flows over any dimension; the stocks over
 * components and zones (for months they are end-of-month balances: the last month's is the total).
 */
export function totalsChecks(dimension: ExecutionDimension, totals: Record<ExecutionColumn, string>, rows: ExecutionRow[]): Check[] {
  const out: Check[] = [];
  for (const c of EXECUTION_COLUMNS) {
    if (FLOWS.includes(c) || dimension !== 'month') out.push(check(`${c}: total vs sum of ${dimension}s`, totals[c], rows.map((r) => r[c])));
    else out.push(check(`${c}: total vs the last month's closing balance`, totals[c], rows.length ? [rows[rows.length - 1][c]] : []));
  }
  return out;
}
