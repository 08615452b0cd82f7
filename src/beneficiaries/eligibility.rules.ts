import type { ProgramRules } from '../programs/program-rules';

/**
 * Eligibility as a pure function of the program's rules, the applicant's data and the
 * application date. Every condition is evaluated AT THE APPLICATION DATE (Pensión P3: "al
 * momento de solicitar su inscripción"; P4: "al presentar la solicitud"), never at the date the
 * officer types the record in, so an applicant who turns 68 after filing is refused (edge case 7).
 */
export interface Applicant {
  birthDate: string;
  address: { state: string };
  attributes: Record<string, unknown>;
  /** The last payment the ledger records to this person in the program's lineage (paid_periods), if any. */
  lastPaidOn?: string | null;
}

export type EligibilityResult = { eligible: true } | { eligible: false; rule: string; detail: string };

/** Whole years between two ISO dates (a birthday on the date counts; 29 Feb birthdays turn a year on 1 Mar). */
export function wholeYearsBetween(from: string, to: string): number {
  // Compare MM-DD as strings: a birthday not reached yet in the final year does not count.
  const years = Number(to.slice(0, 4)) - Number(from.slice(0, 4));
  return to.slice(5) < from.slice(5) ? years - 1 : years;
}

/** "Once every N years" (Desempleo, SD-2): why an application on `applicationDate` is refused after a payment on `last`, or null. */
export function oncePerYearsRefusal(last: string, applicationDate: string, years: number): string | null {
  return wholeYearsBetween(last, applicationDate) < years ? `the last benefit was paid on ${last}; ${years} years must pass before a new one` : null;
}

const ok: EligibilityResult = { eligible: true };
const fail = (rule: string, detail: string): EligibilityResult => ({ eligible: false, rule, detail });
const isIsoDate = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

export function evaluateEligibility(rules: ProgramRules, applicant: Applicant, applicationDate: string): EligibilityResult {
  if (applicant.birthDate > applicationDate) return fail('birthDate', 'the birth date is after the application date');
  const e = rules.eligibility ?? {};
  const age = wholeYearsBetween(applicant.birthDate, applicationDate);
  if (e.minAge !== undefined && age < e.minAge) {
    return fail('eligibility.minAge', `the applicant was ${age} on the application date ${applicationDate}; the program requires ${e.minAge} or more`);
  }
  if (e.maxAge !== undefined && age > e.maxAge) {
    return fail('eligibility.maxAge', `the applicant was ${age} on the application date ${applicationDate}; the program admits up to ${e.maxAge}`);
  }
  if (e.residenceStates && !e.residenceStates.includes(applicant.address.state)) {
    return fail('eligibility.residenceStates', `residence in ${e.residenceStates.join(', ')} is required; the address is in ${applicant.address.state}`);
  }
  if (e.minResidenceYears !== undefined) {
    const since = applicant.attributes.residenceSince;
    if (!isIsoDate(since)) return fail('eligibility.minResidenceYears', 'attributes.residenceSince (YYYY-MM-DD) is required to prove residence');
    const years = wholeYearsBetween(since, applicationDate);
    if (years < e.minResidenceYears) {
      return fail('eligibility.minResidenceYears', `${years} years of residence on the application date; ${e.minResidenceYears} are required`);
    }
  }
  if (e.schoolLevels) {
    const level = applicant.attributes.schoolLevel;
    if (typeof level !== 'string' || !(e.schoolLevels as readonly string[]).includes(level)) {
      return fail('eligibility.schoolLevels', `attributes.schoolLevel must be one of ${e.schoolLevels.join(', ')}`);
    }
  }
  if (e.oncePerYears !== undefined) {
    // The later of what the applicant declares (a payment before this system) and what the lineage paid.
    const declared = applicant.attributes.lastPaymentAt;
    if (declared !== undefined && declared !== null && !isIsoDate(declared)) return fail('eligibility.oncePerYears', 'attributes.lastPaymentAt must be a date YYYY-MM-DD');
    const last = [declared as string | undefined | null, applicant.lastPaidOn].filter((d): d is string => !!d).sort().pop();
    const refusal = last === undefined ? null : oncePerYearsRefusal(last, applicationDate, e.oncePerYears);
    if (refusal) return fail('eligibility.oncePerYears', refusal);
  }
  if (rules.benefit.type === 'by_attribute') {
    const value = applicant.attributes[rules.benefit.attribute];
    if (typeof value !== 'string' || !(value in rules.benefit.amounts)) {
      return fail('benefit.attribute', `attributes.${rules.benefit.attribute} must be one of ${Object.keys(rules.benefit.amounts).join(', ')}`);
    }
  }
  return ok;
}
