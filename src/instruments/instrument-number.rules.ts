import { randomBytes } from 'node:crypto';

/**
 * Instrument numbers: 16 digits, the last one a Luhn check digit. The 15 payload digits come
 * from the operating system's CSPRNG (never a counter), so knowing one card number tells nothing
 * about any other. A number is only ever stored as an HMAC plus its last four digits.
 */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  // Doubling starts with the rightmost payload digit (it sits left of the check digit).
  for (let i = payload.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = payload.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidLuhn(number: string): boolean {
  return /^\d{2,}$/.test(number) && luhnCheckDigit(number.slice(0, -1)) === Number(number[number.length - 1]);
}

export function isInstrumentNumber(number: string): boolean {
  return /^\d{16}$/.test(number) && isValidLuhn(number);
}

const PAYLOAD_SPACE = 10n ** 15n;
/** Largest multiple of 10^15 below 2^64: values above it are redrawn so every payload is equally likely. */
const UNBIASED_LIMIT = (2n ** 64n / PAYLOAD_SPACE) * PAYLOAD_SPACE;

/** A new 16-digit Luhn number from crypto randomness (uniform over the 10^15 payloads; first digit never 0). */
export function generateInstrumentNumber(): string {
  for (;;) {
    const value = randomBytes(8).readBigUInt64BE();
    if (value >= UNBIASED_LIMIT) continue;
    const payload = (value % PAYLOAD_SPACE).toString().padStart(15, '0');
    if (payload[0] === '0') continue; // a leading zero is easy to lose in spreadsheets and forms
    return payload + luhnCheckDigit(payload);
  }
}

export function maskInstrumentNumber(last4: string): string {
  return `************${last4}`;
}

export const PIN_PATTERN = /^\d{4,6}$/;
