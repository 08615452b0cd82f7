import { ApiProblem } from './problem';

/**
 * The business calendar: dates (`YYYY-MM-DD`), the Mexican federal holidays of any supported
 * year, business days, and business dates in a time zone. The one place for all of it
 * (docs/architecture.md "Business calendar").
 *
 * Holidays are computed from the rules of Ley Federal del Trabajo art. 74 as in force since its
 * 2006 reform (the "Monday" holidays). Years the rules cannot answer (before 2006, or past 2100,
 * where programs cannot exist either) are refused with 422 `calendar_year_not_supported`: a
 * deadline is never counted as if a year had no holidays.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** A `YYYY-MM-DD` string naming a day that exists. */
export function isDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function utcMs(date: string): number {
  const m = DATE.exec(date);
  if (!m) throw new TypeError(`not a date: ${date}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function fromUtcMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromUtcMs(utcMs(date) + days * DAY_MS);
}

/**
 * The same day `months` months later; a day the target month lacks becomes its last day
 * (31 January + 1 month = 28 or 29 February). Monthly due dates count from the start date each
 * time, so they never drift (31 Jan → 28 Feb → 31 Mar).
 */
export function addMonths(date: string, months: number): string {
  const m = DATE.exec(date);
  if (!m) throw new TypeError(`not a date: ${date}`);
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const d = Math.min(Number(m[3]), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((utcMs(to) - utcMs(from)) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(date: string): number {
  return new Date(utcMs(date)).getUTCDay();
}

// ---------------------------------------------------------------- holidays

export const FIRST_CALENDAR_YEAR = 2006;
export const LAST_CALENDAR_YEAR = 2100;

export interface Holiday {
  date: string;
  name: string;
}

/** The n-th (1-based) Monday of a month. */
function nthMonday(year: number, month: number, n: number): string {
  const first = Date.UTC(year, month - 1, 1);
  const offset = (8 - new Date(first).getUTCDay()) % 7; // days to the first Monday
  return fromUtcMs(first + (offset + 7 * (n - 1)) * DAY_MS);
}

function day(year: number, month: number, d: number): string {
  return fromUtcMs(Date.UTC(year, month - 1, d));
}

/**
 * Mandatory rest days of Ley Federal del Trabajo art. 74 for a year (weekends aside): 1 January,
 * the first Monday of February, the third Monday of March, 1 May, 16 September, the third Monday
 * of November, 25 December, and the day the federal executive changes hands (1 December every
 * six years up to 2018; 1 October from 2024, constitutional reform of 2014). Election days of
 * fraction IX fall on Sundays, which are never business days.
 */
export function mexicanFederalHolidays(year: number): Holiday[] {
  if (!Number.isInteger(year) || year < FIRST_CALENDAR_YEAR || year > LAST_CALENDAR_YEAR) {
    throw new ApiProblem(
      422,
      'calendar_year_not_supported',
      `the business calendar knows the Mexican federal holidays of ${FIRST_CALENDAR_YEAR}–${LAST_CALENDAR_YEAR} only, not of ${year}`,
    );
  }
  const out: Holiday[] = [
    { date: day(year, 1, 1), name: 'Año Nuevo' },
    { date: nthMonday(year, 2, 1), name: 'Día de la Constitución' },
    { date: nthMonday(year, 3, 3), name: 'Natalicio de Benito Juárez' },
    { date: day(year, 5, 1), name: 'Día del Trabajo' },
    { date: day(year, 9, 16), name: 'Día de la Independencia' },
    { date: nthMonday(year, 11, 3), name: 'Día de la Revolución' },
    { date: day(year, 12, 25), name: 'Navidad' },
  ];
  if (year <= 2018 && (year - 2006) % 6 === 0) out.push({ date: day(year, 12, 1), name: 'Transmisión del Poder Ejecutivo Federal' });
  if (year >= 2024 && (year - 2024) % 6 === 0) out.push({ date: day(year, 10, 1), name: 'Transmisión del Poder Ejecutivo Federal' });
  return out.sort((a, b) => (a.date < b.date ? -1 : 1));
}

const holidayCache = new Map<number, ReadonlySet<string>>();

function holidaySet(year: number): ReadonlySet<string> {
  let set = holidayCache.get(year);
  if (!set) {
    set = new Set(mexicanFederalHolidays(year).map((h) => h.date));
    holidayCache.set(year, set);
  }
  return set;
}

export function isHoliday(date: string): boolean {
  return holidaySet(Number(date.slice(0, 4))).has(date);
}

/** Monday to Friday and not a federal holiday. */
export function isBusinessDay(date: string): boolean {
  const dow = dayOfWeek(date);
  return dow !== 0 && dow !== 6 && !isHoliday(date);
}

/** The n-th business day after `date` (weekends and holidays do not count). */
export function addBusinessDays(date: string, n: number): string {
  let d = date;
  for (let left = n; left > 0; ) {
    d = addDays(d, 1);
    if (isBusinessDay(d)) left--;
  }
  return d;
}

/**
 * Business days from `from` to `to`: the n with addBusinessDays(from, n) = to when `to` is a
 * business day (the day of `from` does not count, the day of `to` does); 0 when `to` is not after `from`.
 */
export function businessDaysBetween(from: string, to: string): number {
  let n = 0;
  for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (isBusinessDay(d)) n++;
  return n;
}

// ---------------------------------------------------------------- time zones

/** An IANA time zone this runtime knows (e.g. America/Mexico_City). */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClockMs(at: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

/** The business date (YYYY-MM-DD) of an instant in a time zone. */
export function businessDate(at: Date, timeZone: string): string {
  return fromUtcMs(wallClockMs(Math.floor(at.getTime() / 1000) * 1000, timeZone));
}

/** The instant a business date begins (00:00) in a time zone, e.g. 2016-03-01 in Mexico City = 06:00Z. */
export function startOfBusinessDate(date: string, timeZone: string): Date {
  const target = utcMs(date);
  let guess = target;
  // The zone's offset at the guess moves the guess; twice settles it across a daylight-saving change.
  for (let i = 0; i < 3; i++) {
    const diff = wallClockMs(guess, timeZone) - target;
    if (diff === 0) break;
    guess -= diff;
  }
  return new Date(guess);
}

/** The first instant after a business date (its end, exclusive). */
export function endOfBusinessDate(date: string, timeZone: string): Date {
  return startOfBusinessDate(addDays(date, 1), timeZone);
}

// ---------------------------------------------------------------- query bounds

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 instant with its zone (`2016-03-01T06:00:00Z`, `…-06:00`). */
export function isInstant(value: unknown): value is string {
  return typeof value === 'string' && INSTANT.test(value) && isDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

/** A query bound: a business date or an instant. */
export function isTimeBound(value: unknown): value is string {
  return isDate(value) || isInstant(value);
}

/**
 * The instant a query bound stands for. A date `from` starts at its 00:00 in the time zone; a
 * date `to` includes the whole day (the bound is the next day's 00:00, exclusive). An instant is
 * itself.
 */
export function boundInstant(value: string, edge: 'start' | 'end', timeZone: string): Date {
  if (isDate(value)) return edge === 'start' ? startOfBusinessDate(value, timeZone) : endOfBusinessDate(value, timeZone);
  return new Date(value);
}
