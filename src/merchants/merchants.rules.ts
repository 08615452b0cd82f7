import { sumMoney } from '../common/money';
import { boundInstant, isTimeBound } from '../common/calendar';
import { csvText } from '../common/csv';
import { decodeCursor as decodeListCursor, encodeCursor as encodeListCursor } from '../common/pagination';
import { problems } from '../common/problem';

/**
 * Pure rules of the merchants module (no I/O): masking, list cursors and time ranges (through
 * common/pagination.ts and common/calendar.ts), and the bank payout file.
 */

/** Only the last four digits are stored; responses show "************1234". */
export function maskInstrumentNumber(last4: string): string {
  return `${'*'.repeat(12)}${last4}`;
}

export interface Cursor {
  at: string;
  id: string;
}

/** The keyset (timestamp, id) of the merchant lists, through the common cursor codec. */
export function encodeCursor(c: Cursor): string {
  return encodeListCursor([c.at, c.id]);
}

export function decodeCursor(raw: unknown): Cursor | null {
  const key = decodeListCursor(raw === undefined || raw === null ? undefined : String(raw), ['timestamp', 'uuid'] as const);
  return key && { at: key[0], id: key[1] };
}

/**
 * `from` / `to` of a list: an ISO 8601 instant, or a business date in the time zone (a date
 * `from` starts at its 00:00; a date `to` includes the whole day). `to` is exclusive.
 */
export function parseTimeRange(from: unknown, to: unknown, timeZone: string): { from: Date | null; to: Date | null } {
  const bound = (raw: unknown, name: string, edge: 'start' | 'end'): Date | null => {
    if (raw === undefined || raw === '') return null;
    if (!isTimeBound(raw)) throw problems.validation(`${name} must be a date (YYYY-MM-DD) or an ISO 8601 instant with a time zone`);
    return boundInstant(raw, edge, timeZone);
  };
  const range = { from: bound(from, 'from', 'start'), to: bound(to, 'to', 'end') };
  if (range.from && range.to && range.from >= range.to) throw problems.validation('from must be before to');
  return range;
}

export interface PayoutLine {
  statementId: string;
  merchantId: string;
  merchantName: string;
  bankAccount: string | null;
  amount: string;
  currency: string;
  businessDate: string;
}

/**
 * What a settlement run pays, per currency: pesos and Colombian pesos (the Cali fund) never add up
 * to one figure. Currencies in alphabetical order, each total to the centavo.
 */
export function payoutTotalsByCurrency(lines: PayoutLine[]): Record<string, string> {
  const currencies = [...new Set(lines.map((l) => l.currency))].sort();
  return Object.fromEntries(currencies.map((c) => [c, sumMoney(lines.filter((l) => l.currency === c).map((l) => l.amount)).toFixed(2)]));
}

/** The payout file for the bank: one line per settlement with money to pay. */
export function payoutCsv(lines: PayoutLine[]): string {
  const header = ['statement_id', 'merchant_id', 'merchant_name', 'bank_account', 'amount', 'currency', 'business_date'];
  const body = lines.map((l) => [l.statementId, l.merchantId, l.merchantName, l.bankAccount ?? '', l.amount, l.currency, l.businessDate]);
  // The bank's format: a plain header, then every field quoted.
  return csvText([header]) + csvText(body, { quoted: true });
}
