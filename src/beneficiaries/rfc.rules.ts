import { isRealDate } from './curp.rules';

/**
 * RFC (Registro Federal de Contribuyentes) of a collective grantee: 12 characters for a legal
 * person (3 letters, the constitution date YYMMDD, a 2-character homoclave, a check digit), 13 for
 * a natural person with business activity (4 letters). The check digit is SAT's: each of the first
 * 12 characters (a 12-character RFC is padded with a leading space) weighted 13 … 2, modulo 11.
 */
const RFC_PATTERN = /^([A-ZÑ&]{3,4})(\d{2})(\d{2})(\d{2})([A-Z0-9]{2})([0-9A])$/;
const CHECK_ALPHABET = '0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ';

export type RfcProblem = 'layout' | 'date' | 'check_digit';

/** The check digit of an RFC's first 11 (legal person) or 12 (natural person) characters. */
export function rfcCheckDigit(withoutDigit: string): string {
  const s = withoutDigit.length === 11 ? ` ${withoutDigit}` : withoutDigit;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += CHECK_ALPHABET.indexOf(s[i]) * (13 - i);
  const r = 11 - (sum % 11);
  return r === 11 ? '0' : r === 10 ? 'A' : String(r);
}

export function rfcProblem(rfc: string): RfcProblem | null {
  const m = RFC_PATTERN.exec(rfc);
  if (!m) return 'layout';
  // The century is not in the RFC: either reading makes a real date for every valid one.
  if (!isRealDate(`20${m[2]}-${m[3]}-${m[4]}`) && !isRealDate(`19${m[2]}-${m[3]}-${m[4]}`)) return 'date';
  return rfcCheckDigit(rfc.slice(0, -1)) === rfc[rfc.length - 1] ? null : 'check_digit';
}

export function describeRfcProblem(problem: RfcProblem): string {
  switch (problem) {
    case 'layout':
      return 'an RFC is 3 (a legal person) or 4 letters, a date YYMMDD, a 2-character homoclave and a check digit, in capitals';
    case 'date':
      return 'the date in the RFC does not exist';
    case 'check_digit':
      return 'the RFC check digit is wrong';
  }
}
