import Decimal from 'decimal.js';

/**
 * Money is a decimal string on the wire, a Decimal in TypeScript and NUMERIC(18,2) in PostgreSQL.
 * A JS number never holds money. These helpers are the only way in and out.
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Money = Decimal;

/**
 * 16 integer digits and 2 decimals: what NUMERIC(18,2) can hold. No sign, no exponent, no spaces.
 * Sums of such amounts are NUMERIC(20,2): a total that would reach 10^18 is refused with 422
 * amount_out_of_range (db-errors.ts).
 */
export const MONEY_PATTERN = /^(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$/;
/** "9999999999999999.99" */
export const MONEY_MAX_LENGTH = 19;

export function isMoneyString(value: unknown): value is string {
  return typeof value === 'string' && MONEY_PATTERN.test(value);
}

export function isPositiveMoneyString(value: unknown): value is string {
  return isMoneyString(value) && new Money(value).gt(0);
}

/** Parses a money string that was already validated; throws on anything else (a programming error). */
export function money(value: string | Decimal): Decimal {
  if (Decimal.isDecimal(value)) return value;
  if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) throw new TypeError(`not a money string: ${JSON.stringify(value)}`);
  const d = new Money(value);
  if (d.decimalPlaces() > 2) throw new TypeError(`more than two decimals: ${value}`);
  return d;
}

/** Always two decimals, never an exponent: "1075.20". */
export function formatMoney(value: Decimal | string): string {
  return money(value).toFixed(2);
}

export function sumMoney(values: Iterable<Decimal | string>): Decimal {
  let total = new Money(0);
  for (const v of values) total = total.plus(money(v));
  return total;
}

export const ZERO: Decimal = new Money(0);
