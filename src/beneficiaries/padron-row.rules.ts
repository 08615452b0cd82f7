import type { ProgramRules } from '../programs/program-rules';
import { CURP_STATES, curpBirthDate, curpProblem, describeCurpProblem, isRealDate } from './curp.rules';
import { isStorableText } from '../common/input-guard';
import { attributesProblem } from './attributes.rules';
import { evaluateEligibility } from './eligibility.rules';

export interface PadronRecord {
  curp: string;
  givenNames: string;
  surnames: string;
  birthDate: string;
  address: { street?: string; colonia?: string; municipality?: string; state: string; postalCode?: string };
  applicationDate: string;
  attributes: Record<string, unknown>;
}

export type RowResult = { ok: true; record: PadronRecord } | { ok: false; reason: string };

const STATES: ReadonlySet<string> = new Set(CURP_STATES);
const STANDARD_ATTRIBUTES: Record<string, string> = { residence_since: 'residenceSince', school_level: 'schoolLevel', last_payment_at: 'lastPaymentAt' };
const DATE_ATTRIBUTES = new Set(['residence_since', 'last_payment_at']);

/** Column positions of a header line; throws when a required column is missing or repeated. */
export function headerIndex(header: string[]): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (index.has(name)) throw new Error(`column ${name} appears twice in the header`);
    index.set(name, i);
  });
  for (const c of ['curp', 'given_names', 'surnames', 'birth_date', 'state']) {
    if (!index.has(c)) throw new Error(`the header has no ${c} column`);
  }
  return index;
}

/**
 * One CSV line → a padrón record, or the reason it is refused (format, CURP, dates, eligibility
 * at the application date). Pure: the import calls it for every line before any SQL.
 */
export function parsePadronRow(fields: string[], index: Map<string, number>, width: number, rules: ProgramRules, today: string): RowResult {
  if (fields.length !== width) return { ok: false, reason: `expected ${width} fields, found ${fields.length}` };
  if (!fields.every(isStorableText)) return { ok: false, reason: 'invalid_text: a field contains a NUL character' };
  const get = (name: string) => {
    const i = index.get(name);
    return i === undefined ? '' : fields[i].trim();
  };
  const curp = get('curp').toUpperCase();
  const curpIssue = curpProblem(curp);
  if (curpIssue) return { ok: false, reason: `invalid_curp: ${describeCurpProblem(curpIssue)}` };
  const givenNames = get('given_names');
  const surnames = get('surnames');
  if (!givenNames || givenNames.length > 200) return { ok: false, reason: 'given_names is required (at most 200 characters)' };
  if (!surnames || surnames.length > 200) return { ok: false, reason: 'surnames is required (at most 200 characters)' };
  const birthDate = get('birth_date');
  if (!isRealDate(birthDate)) return { ok: false, reason: 'birth_date must be a real date YYYY-MM-DD' };
  if (curpBirthDate(curp) !== birthDate) return { ok: false, reason: 'invalid_curp: the birth date in the CURP does not match birth_date' };
  const state = get('state').toUpperCase();
  if (!STATES.has(state)) return { ok: false, reason: `state must be a two-letter CURP state code, found "${state}"` };
  const postalCode = get('postal_code');
  if (postalCode && !/^\d{5}$/.test(postalCode)) return { ok: false, reason: 'postal_code must be 5 digits' };
  const applicationDate = get('application_date') || today;
  if (!isRealDate(applicationDate)) return { ok: false, reason: 'application_date must be a real date YYYY-MM-DD' };
  if (applicationDate > today) return { ok: false, reason: 'application_date cannot be in the future' };

  const attributes: Record<string, unknown> = {};
  for (const [column, i] of index) {
    const value = fields[i].trim();
    if (!value) continue;
    if (column in STANDARD_ATTRIBUTES) {
      if (DATE_ATTRIBUTES.has(column) && !isRealDate(value)) return { ok: false, reason: `${column} must be a real date YYYY-MM-DD` };
      attributes[STANDARD_ATTRIBUTES[column]] = value;
    } else if (column.startsWith('attr_') && column.length > 5) {
      attributes[column.slice(5)] = value;
    }
  }
  const attributesIssue = attributesProblem(attributes);
  if (attributesIssue) return { ok: false, reason: attributesIssue };
  const address: PadronRecord['address'] = { state };
  const street = get('street');
  const colonia = get('colonia');
  const municipality = get('municipality');
  if (street) address.street = street;
  if (colonia) address.colonia = colonia;
  if (municipality) address.municipality = municipality;
  if (postalCode) address.postalCode = postalCode;

  const verdict = evaluateEligibility(rules, { birthDate, address, attributes }, applicationDate);
  if (!verdict.eligible) return { ok: false, reason: `not_eligible: ${verdict.rule}: ${verdict.detail}` };
  return { ok: true, record: { curp, givenNames, surnames, birthDate, address, applicationDate, attributes } };
}
