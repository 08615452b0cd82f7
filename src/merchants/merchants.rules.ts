import { problems } from '../common/problem';

/**
 * Pure rules of the merchants module (no I/O): masking, list cursors and limits, business-day
 * arithmetic in a time zone, and the bank payout file.
 */

/** Only the last four digits are stored; responses show "************1234". */
export function maskInstrumentNumber(last4: string): string {
  return `${'*'.repeat(12)}${last4}`;
}

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 500;

/** API.md lists: `limit` ≤ 500 (default 50). */
export function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return LIST_DEFAULT_LIMIT;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,3}$/.test(raw) || Number(raw) > LIST_MAX_LIMIT) {
    throw problems.validation(`limit must be an integer between 1 and ${LIST_MAX_LIMIT}`);
  }
  return Number(raw);
}

export interface Cursor {
  at: string;
  id: string;
}

/** Keyset cursor over (timestamp, id), opaque to clients. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

export function decodeCursor(raw: unknown): Cursor | null {
  if (raw === undefined || raw === '') return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(String(raw), 'base64url').toString('utf8'));
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error();
    return { at, id };
  } catch {
    throw problems.validation('cursor is not valid');
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Offset of a time zone from UTC at an instant, in milliseconds (e.g. −6 h for Mexico City). */
export function timeZoneOffsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant a business date begins (00:00) in a time zone. */
export function startOfBusinessDate(date: string, timeZone: string): Date {
  const m = DATE.exec(date);
  if (!m) throw new TypeError(`not a date: ${date}`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  let guess = wall - timeZoneOffsetMs(new Date(wall), timeZone);
  // Re-evaluate once: the offset at the guessed instant may differ (daylight saving).
  guess = wall - timeZoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

export function addDays(date: string, days: number): string {
  const m = DATE.exec(date);
  if (!m) throw new TypeError(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days)).toISOString().slice(0, 10);
}

export function isBusinessDate(value: unknown): value is string {
  if (typeof value !== 'string' || !DATE.test(value)) return false;
  return addDays(value, 0) === value;
}

/**
 * `from` / `to` of a list: an ISO 8601 instant, or a business date in the time zone (a date
 * `from` starts at its 00:00; a date `to` includes the whole day). `to` is exclusive.
 */
export function parseTimeRange(from: unknown, to: unknown, timeZone: string): { from: Date | null; to: Date | null } {
  const bound = (raw: unknown, name: string, end: boolean): Date | null => {
    if (raw === undefined || raw === '') return null;
    if (isBusinessDate(raw)) return startOfBusinessDate(end ? addDays(raw, 1) : raw, timeZone);
    if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) && !Number.isNaN(Date.parse(raw))) return new Date(raw);
    throw problems.validation(`${name} must be a date (YYYY-MM-DD) or an ISO 8601 instant`);
  };
  const range = { from: bound(from, 'from', false), to: bound(to, 'to', true) };
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

function csvField(value: string): string {
  // Quote always; neutralise spreadsheet formulas (a field starting with = + - @).
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** The payout file for the bank: one line per settlement with money to pay. */
export function payoutCsv(lines: PayoutLine[]): string {
  const header = ['statement_id', 'merchant_id', 'merchant_name', 'bank_account', 'amount', 'currency', 'business_date'];
  const body = lines.map((l) =>
    [l.statementId, l.merchantId, l.merchantName, l.bankAccount ?? '', l.amount, l.currency, l.businessDate].map(csvField).join(','),
  );
  return [header.join(','), ...body].join('\r\n') + '\r\n';
}
