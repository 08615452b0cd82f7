/**
 * CLABE (Clave Bancaria Estandarizada): 18 digits — bank (3), plaza (3), account (11) and a
 * check digit computed with the weights 3, 7, 1 repeated over the first 17 digits: each digit
 * times its weight, modulo 10, summed; the check digit is (10 − sum mod 10) mod 10.
 * Pure functions (no I/O); the database checks the same rule (payout_clabe_valid).
 */

const WEIGHTS = [3, 7, 1];

/** The check digit for the first 17 digits of a CLABE. */
export function clabeCheckDigit(first17: string): number {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('a CLABE check digit needs 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (Number(first17[i]) * WEIGHTS[i % 3]) % 10;
  return (10 - (sum % 10)) % 10;
}

/** Why a value is not a CLABE, or null when it is one. */
export function clabeProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'clabe must be a string of 18 digits';
  if (!/^\d{18}$/.test(value)) return 'clabe must be exactly 18 digits';
  if (clabeCheckDigit(value.slice(0, 17)) !== Number(value[17])) return 'the CLABE check digit (weights 3, 7, 1) does not match';
  return null;
}

export function isValidClabe(value: unknown): value is string {
  return clabeProblem(value) === null;
}

/** What everyone but the program's officers sees: the last four digits only. */
export function maskClabe(clabe: string): string {
  return `${'*'.repeat(Math.max(0, clabe.length - 4))}${clabe.slice(-4)}`;
}
