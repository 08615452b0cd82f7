import { parseCsvTable } from '../common/csv';
import type Decimal from 'decimal.js';
import { addMonths, daysBetween, isDate } from '../common/calendar';
import { formatMoney, isPositiveMoneyString, money, Money, ZERO } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { EnrolmentRule, LoanRule } from '../programs/program-rules';

/**
 * Pure rules of loans (docs/loans.md): the loan product's consistency, the principal and line of
 * an application, the enrolment window, the schedule fixed at disbursement, repayments applied
 * oldest instalment first, delinquency ageing, and the bank's repayment file. No I/O; unit-tested
 * in test/unit/loans-rules.spec.ts.
 */

// ------------------------------------------------------------------ the product

/** Cross-field checks of rules.loan (program-rules.ts); the issues, empty when consistent. */
export function loanRuleProblems(loan: LoanRule | undefined): Array<{ path: Array<string | number>; message: string }> {
  if (!loan) return [];
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const min = money(loan.principalMin);
  const max = money(loan.principalMax);
  if (min.gt(max)) out.push({ path: ['principalMin'], message: 'principalMin is at most principalMax' });
  // The smallest instalment must be at least one centavo.
  if (min.lt(new Money(loan.instalments).div(100))) out.push({ path: ['instalments'], message: 'every instalment of the smallest principal must be at least 0.01' });
  const keys = new Set<string>();
  (loan.lines ?? []).forEach((l, i) => {
    if (keys.has(l.key)) out.push({ path: ['lines', i, 'key'], message: `line key "${l.key}" is repeated` });
    keys.add(l.key);
    if (money(l.principalMin).gt(money(l.principalMax))) out.push({ path: ['lines', i], message: 'principalMin is at most principalMax' });
    if (money(l.principalMin).lt(min) || money(l.principalMax).gt(max)) {
      out.push({ path: ['lines', i], message: "a line's bounds lie within the product's principalMin and principalMax" });
    }
  });
  return out;
}

/**
 * The principal and line of an application against the product: 422 invalid_principal outside
 * the bounds (the line's when the product has lines), 422 invalid_loan_line for a missing or
 * unknown line (or a line named where the product has none). Returns the line key (or null).
 */
export function checkApplication(loan: LoanRule, principal: Decimal, line: string | undefined): string | null {
  let bounds = { min: loan.principalMin, max: loan.principalMax, what: 'the loan product' };
  let key: string | null = null;
  if (loan.lines) {
    const l = loan.lines.find((x) => x.key === line);
    if (!l) {
      throw new ApiProblem(422, 'invalid_loan_line', `the product has the lines ${loan.lines.map((x) => x.key).join(', ')}: name one of them in "line"`, {
        lines: loan.lines.map((x) => x.key),
      });
    }
    bounds = { min: l.principalMin, max: l.principalMax, what: `the line ${l.key}` };
    key = l.key;
  } else if (line !== undefined) {
    throw new ApiProblem(422, 'invalid_loan_line', 'this loan product has no credit lines');
  }
  if (principal.lt(money(bounds.min)) || principal.gt(money(bounds.max))) {
    const range = bounds.min === bounds.max ? `exactly ${formatMoney(bounds.min)}` : `between ${formatMoney(bounds.min)} and ${formatMoney(bounds.max)}`;
    throw new ApiProblem(422, 'invalid_principal', `the principal of ${bounds.what} is ${range}`, { principalMin: formatMoney(bounds.min), principalMax: formatMoney(bounds.max) });
  }
  return key;
}

/**
 * Applications are taken from opensOn to closesOn inclusive (business dates of the program), under
 * the window's agreement; outside it → 422 enrolment_closed. R001-03: a later term opens only with
 * a new agreement (new rules carrying a new window), never by moving the dates of the old one.
 */
export function assertEnrolmentOpen(enrolment: EnrolmentRule | undefined, today: string): void {
  if (!enrolment) return;
  if (today < enrolment.opensOn || today > enrolment.closesOn) {
    throw new ApiProblem(
      422,
      'enrolment_closed',
      today > enrolment.closesOn
        ? `enrolment under "${enrolment.agreement}" closed on ${enrolment.closesOn}; a new term opens with a new agreement`
        : `enrolment under "${enrolment.agreement}" opens on ${enrolment.opensOn}`,
      { opensOn: enrolment.opensOn, closesOn: enrolment.closesOn, agreement: enrolment.agreement },
    );
  }
}

// ------------------------------------------------------------------ the schedule

export interface Instalment {
  number: number;
  dueOn: string;
  amount: Decimal;
}

/**
 * The schedule fixed at disbursement: `graceMonths` months with nothing due, then `instalments`
 * monthly instalments, the first due `graceMonths + 1` months after the disbursement date (the
 * same day of the month, or the month's last day). 0 % interest: every instalment is the principal
 * divided by the count, rounded down to the centavo, and the remainder goes on the last, so they
 * sum exactly to the principal.
 */
export function buildSchedule(principal: Decimal, graceMonths: number, instalments: number, disbursedOn: string): Instalment[] {
  if (!isDate(disbursedOn)) throw new TypeError(`not a date: ${disbursedOn}`);
  const each = principal.div(instalments).toDecimalPlaces(2, Money.ROUND_DOWN);
  const last = principal.minus(each.times(instalments - 1));
  return Array.from({ length: instalments }, (_, i) => ({
    number: i + 1,
    dueOn: addMonths(disbursedOn, graceMonths + i + 1),
    amount: i === instalments - 1 ? last : each,
  }));
}

// ------------------------------------------------------------------ repayments

export interface OpenInstalment {
  number: number;
  amount: Decimal;
  paid: Decimal;
}

/**
 * A repayment paid into the oldest unpaid instalment first, then the next; more than the loan's
 * outstanding → 422 overpayment (nothing applied). Returns what goes to each instalment.
 */
export function allocateRepayment(instalments: OpenInstalment[], amount: Decimal): Array<{ number: number; applied: Decimal; settles: boolean }> {
  const open = [...instalments].sort((a, b) => a.number - b.number).filter((i) => i.paid.lt(i.amount));
  const outstanding = open.reduce((s, i) => s.plus(i.amount.minus(i.paid)), ZERO);
  if (amount.gt(outstanding)) {
    throw new ApiProblem(422, 'overpayment', `the loan's outstanding balance is ${formatMoney(outstanding)}`, { outstanding: formatMoney(outstanding) });
  }
  const out: Array<{ number: number; applied: Decimal; settles: boolean }> = [];
  let left = amount;
  for (const i of open) {
    if (left.lte(0)) break;
    const owed = i.amount.minus(i.paid);
    const applied = minOf(owed, left);
    out.push({ number: i.number, applied, settles: applied.eq(owed) });
    left = left.minus(applied);
  }
  return out;
}

function minOf(a: Decimal, b: Decimal): Decimal {
  return a.lt(b) ? a : b;
}

// ------------------------------------------------------------------ delinquency

/** A loan's statuses (the loans table's CHECK). */
export const LOAN_STATUSES = ['applied', 'approved', 'disbursed', 'delinquent', 'repaid', 'written_off'] as const;

export const AGEING_BUCKETS = ['current', '1-30', '31-60', '61-90', 'over-90'] as const;
export type AgeingBucket = (typeof AGEING_BUCKETS)[number];

/** Days past due of a loan: from its oldest unpaid instalment past due to today (0 when none). */
export function daysPastDue(pastDueSince: string | null, today: string): number {
  return pastDueSince && pastDueSince < today ? daysBetween(pastDueSince, today) : 0;
}

/** The ageing bucket of API.md: current, 1–30, 31–60, 61–90, > 90 days past due. */
export function ageingBucket(days: number): AgeingBucket {
  if (days <= 0) return 'current';
  if (days <= 30) return '1-30';
  if (days <= 60) return '31-60';
  if (days <= 90) return '61-90';
  return 'over-90';
}

// ------------------------------------------------------------------ the bank's repayment file

export interface RepaymentLine {
  line: number;
  reference: string;
  loanNumber: string;
  amount: string;
  paidOn: string;
}

/** Loan numbers as the service gives them: LN- and eight digits. */
export const LOAN_NUMBER = /^LN-\d{8}$/;
/** A repayment reference of the bank file: `<loan number>/<the bank's operation id>`, e.g. LN-00000012/OP-778812. */
const REFERENCE = /^(LN-\d{8})\/[A-Za-z0-9._-]{1,64}$/;
export const MAX_REPAYMENT_LINES = 200_000;

/**
 * The bank's repayment file (docs/loans.md): CSV with a header naming `reference`, `amount` and
 * `paidOn` (any order, case-insensitive), one line per payment. The reference names the loan and
 * the bank's operation, and is unique per program: importing a line again changes nothing.
 * A malformed file is 400 validation_failed; a line with a bad amount, date or reference is
 * reported as refused and the rest are applied.
 */
export function parseRepaymentCsv(text: string): { lines: RepaymentLine[]; refused: Array<{ line: number; reference: string | null; reason: string }> } {
  const { columns, rows: data } = parseCsvTable(text, 'the repayment file');
  const at = { reference: columns.indexOf('reference'), amount: columns.indexOf('amount'), paidOn: columns.indexOf('paidon') };
  if (at.reference < 0 || at.amount < 0 || at.paidOn < 0) throw problems.validation('the repayment file needs a header with reference, amount and paidOn');
  if (!data.length) throw problems.validation('the repayment file has no lines');
  if (data.length > MAX_REPAYMENT_LINES) throw problems.validation(`at most ${MAX_REPAYMENT_LINES} lines per file`);
  const lines: RepaymentLine[] = [];
  const refused: Array<{ line: number; reference: string | null; reason: string }> = [];
  const seen = new Set<string>();
  data.forEach((r, i) => {
    const line = i + 2;
    const reference = r[at.reference] ?? '';
    const amount = r[at.amount] ?? '';
    const paidOn = r[at.paidOn] ?? '';
    const m = REFERENCE.exec(reference);
    if (!m) return refused.push({ line, reference: reference.slice(0, 80) || null, reason: 'invalid_reference' });
    if (!isPositiveMoneyString(amount)) return refused.push({ line, reference, reason: 'invalid_amount' });
    if (!isDate(paidOn)) return refused.push({ line, reference, reason: 'invalid_date' });
    if (seen.has(reference)) return refused.push({ line, reference, reason: 'duplicate_in_file' });
    seen.add(reference);
    lines.push({ line, reference, loanNumber: m[1], amount, paidOn });
  });
  return { lines, refused };
}
