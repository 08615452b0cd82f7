// Money as the API writes it: a decimal string ("1075.20"). Displayed by Intl.NumberFormat from the
// string itself, never through a JS number (a float cannot hold 6,676,950,641.37 + centavos
// exactly everywhere). parseDecimal/toCents serve chart ratios only.

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Splits a decimal string into sign, integer digits and two decimal digits (half-up; chart ratios only, never display). */
export function parseDecimal(value) {
  const s = String(value ?? '').trim();
  const m = DECIMAL.exec(s);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  let negative = m[1] === '-';
  let int = (m[2] || '0').replace(/^0+(?=\d)/, '');
  let dec = (m[3] ?? '').padEnd(3, '0');
  let cents = dec.slice(0, 2);
  if (dec[2] >= '5') {
    // Round half up on the string: carry through the cents and the integer part.
    const digits = (int + cents).split('');
    let i = digits.length - 1;
    while (i >= 0) {
      if (digits[i] === '9') {
        digits[i] = '0';
        i--;
      } else {
        digits[i] = String(Number(digits[i]) + 1);
        break;
      }
    }
    let all = digits.join('');
    if (i < 0) all = '1' + all;
    int = all.slice(0, -2).replace(/^0+(?=\d)/, '') || '0';
    cents = all.slice(-2);
  }
  if (/^0+$/.test(int) && cents === '00') negative = false;
  return { negative, int, cents };
}

const formatters = new Map();

/**
 * The platform's formatter for a currency, Mexican Spanish conventions ("$6,676,950,641.37",
 * "USD 1,234.50"). Intl.NumberFormat formats a decimal *string* exactly (ES2023; Chromium and
 * Node 20), so no amount ever passes through a JS number; half-even like the server (decimal.js),
 * and no sign on a zero.
 */
function currencyFormat(currency) {
  let f = formatters.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('es-MX', { style: 'currency', currency, roundingMode: 'halfEven', signDisplay: 'negative' });
    formatters.set(currency, f);
  }
  return f;
}

const AMOUNT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** "6676950641" → "$6,676,950,641.00"; "-3.5" → "-$3.50"; other currencies "USD 1,234.50". Not a decimal → "—". */
export function formatMoney(value, currency = 'MXN') {
  const s = String(value ?? '').trim();
  if (!AMOUNT.test(s)) return '—';
  return currencyFormat(currency || 'MXN').format(s);
}

const countFormat = new Intl.NumberFormat('es-MX', { maximumFractionDigits: 0 });

/** Whole count with thousands separators ("300000" → "300,000"). */
export function formatCount(value) {
  const s = String(value ?? '');
  return /^-?\d+$/.test(s) ? countFormat.format(s) : s;
}

/** Amount in centavos as a BigInt (for chart ratios only; display always goes through formatMoney). */
export function toCents(value) {
  const p = parseDecimal(value);
  if (!p) return 0n;
  const c = BigInt(p.int + p.cents);
  return p.negative ? -c : c;
}

/** part / whole in [0, 1], from decimal strings, via integer centavos. */
export function ratio(part, whole) {
  const w = typeof whole === 'bigint' ? whole : toCents(whole);
  const p = typeof part === 'bigint' ? part : toCents(part);
  if (w <= 0n || p <= 0n) return 0;
  if (p >= w) return 1;
  return Number((p * 1000000n) / w) / 1000000;
}

/** True when the decimal string is zero ("0.00", "-0", ""). */
export function isZero(value) {
  const p = parseDecimal(value);
  return !p || (/^0+$/.test(p.int) && p.cents === '00');
}

/** a − b of two money strings, exactly in integer centavos (BigInt): "5062041.60" − "5365248.00" → "-303206.40". */
export function subtractMoney(a, b) {
  const d = toCents(a) - toCents(b);
  const negative = d < 0n;
  const abs = negative ? -d : d;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
