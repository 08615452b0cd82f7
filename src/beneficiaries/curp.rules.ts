/**
 * CURP (Clave Única de Registro de Población): 18 characters, RENAPO's layout and check digit.
 *
 *   1–4   initials: first surname initial + its first inner vowel, second surname initial, given name initial
 *   5–10  birth date YYMMDD
 *   11    sex: H, M (X for non-binary since 2023)
 *   12–13 state of birth (two-letter code; NE = born abroad)
 *   14–16 first inner consonants of first surname, second surname, given name
 *   17    homoclave: a digit for people born before 2000, a letter from 2000
 *   18    check digit over characters 1–17
 */
export const CURP_STATES = [
  'AS', 'BC', 'BS', 'CC', 'CL', 'CM', 'CS', 'CH', 'DF', 'DG', 'GT', 'GR', 'HG', 'JC', 'MC', 'MN', 'MS', 'NT', 'NL', 'OC', 'PL',
  'QT', 'QR', 'SP', 'SL', 'SR', 'TC', 'TS', 'TL', 'VZ', 'YN', 'ZS', 'NE',
] as const;
export type CurpState = (typeof CURP_STATES)[number];

const CURP_PATTERN = new RegExp(
  `^[A-Z][AEIOUX][A-Z]{2}\\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\\d|3[01])[HMX](${CURP_STATES.join('|')})[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\\d$`,
);
const CHECK_ALPHABET = '0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ';

/** The check digit of the first 17 characters (RENAPO): Σ value(c_i) × (18 − i), then (10 − Σ mod 10) mod 10. */
export function curpCheckDigit(first17: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = CHECK_ALPHABET.indexOf(first17[i]);
    if (value < 0) return -1;
    sum += value * (18 - i);
  }
  return (10 - (sum % 10)) % 10;
}

/** The birth date encoded in a CURP (the homoclave tells the century), or null when the date does not exist. */
export function curpBirthDate(curp: string): string | null {
  const yy = curp.slice(4, 6);
  const century = /\d/.test(curp[16]) ? '19' : '20';
  const iso = `${century}${yy}-${curp.slice(6, 8)}-${curp.slice(8, 10)}`;
  return isRealDate(iso) ? iso : null;
}

export type CurpProblem = 'format' | 'date' | 'check_digit';

/** Why a CURP is not valid (format, impossible date, wrong check digit), or null when it is. */
export function curpProblem(curp: string): CurpProblem | null {
  if (typeof curp !== 'string' || !CURP_PATTERN.test(curp)) return 'format';
  if (!curpBirthDate(curp)) return 'date';
  if (curpCheckDigit(curp.slice(0, 17)) !== Number(curp[17])) return 'check_digit';
  return null;
}

export function isValidCurp(curp: string): boolean {
  return curpProblem(curp) === null;
}

export function describeCurpProblem(problem: CurpProblem): string {
  switch (problem) {
    case 'format':
      return 'CURP must be 18 characters: 4 letters, birth date YYMMDD, sex, state code, 3 consonants, homoclave and check digit';
    case 'date':
      return 'the birth date encoded in the CURP does not exist';
    case 'check_digit':
      return 'the CURP check digit does not match';
  }
}

/** Sex letter of a CURP (H, M or X). */
export function curpSex(curp: string): string {
  return curp[10];
}

/** Shows only the first four and last two characters: logs and public views never carry a full CURP. */
export function maskCurp(curp: string): string {
  return `${curp.slice(0, 4)}************${curp.slice(16)}`;
}

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A YYYY-MM-DD string naming a day that exists (arithmetic only: the bulk import calls it millions of times). */
export function isRealDate(iso: string): boolean {
  if (!DATE_SHAPE.test(iso)) return false;
  const y = Number(iso.slice(0, 4));
  const m = Number(iso.slice(5, 7));
  const d = Number(iso.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]);
}

// ---- Building CURPs from personal data (synthetic padrón files, tests) ----

const VOWELS = 'AEIOU';
const strip = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/Ñ/g, 'X')
    .replace(/[^A-Z ]/g, '');
/** Particles and very common first names RENAPO skips (José, María) when choosing the initial. */
const SKIP_WORDS = new Set(['DA', 'DAS', 'DE', 'DEL', 'DER', 'DI', 'DIE', 'DD', 'EL', 'LA', 'LOS', 'LAS', 'LE', 'LES', 'MAC', 'MC', 'VAN', 'VON', 'Y']);
const COMMON_GIVEN = new Set(['JOSE', 'J', 'MARIA', 'MA', 'M']);

function mainWord(name: string, given = false): string {
  const words = strip(name).split(/\s+/).filter((w) => w && !SKIP_WORDS.has(w));
  if (given && words.length > 1 && COMMON_GIVEN.has(words[0])) return words[1];
  return words[0] ?? 'X';
}
const innerVowel = (w: string) => [...w.slice(1)].find((c) => VOWELS.includes(c)) ?? 'X';
const innerConsonant = (w: string) => [...w.slice(1)].find((c) => /[B-DF-HJ-NP-TV-Z]/.test(c)) ?? 'X';

/**
 * Builds a valid CURP (layout and check digit) from a person's data. The homoclave RENAPO assigns
 * to tell homonyms apart is passed in (a digit before 2000, a letter from 2000).
 */
export function buildCurp(p: {
  givenNames: string;
  firstSurname: string;
  secondSurname?: string;
  birthDate: string;
  sex: 'H' | 'M';
  state: CurpState;
  homoclave: string;
}): string {
  const s1 = mainWord(p.firstSurname);
  const s2 = p.secondSurname ? mainWord(p.secondSurname) : 'X';
  const g = mainWord(p.givenNames, true);
  const date = p.birthDate.slice(2, 4) + p.birthDate.slice(5, 7) + p.birthDate.slice(8, 10);
  const first16 = `${s1[0]}${innerVowel(s1)}${s2[0]}${g[0]}${date}${p.sex}${p.state}${innerConsonant(s1)}${innerConsonant(s2)}${innerConsonant(g)}${p.homoclave}`;
  return `${first16}${curpCheckDigit(first16)}`;
}
