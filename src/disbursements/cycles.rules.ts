import { addBusinessDays, addDays } from '../common/calendar';
import Decimal from 'decimal.js';
import { money, Money } from '../common/money';
import { ApiProblem } from '../common/problem';
import type { ProgramRules } from '../programs/program-rules';

/**
 * Pure rules of disbursement cycles (no I/O): periods and payment dates, line amounts from the
 * program rules, tranche plans, business days, chunking and job ids. Unit-tested in
 * test/unit/cycles-rules.spec.ts.
 */

/** deposit: one period for everyone; tranche: grant tranches; arrears: the periods owed up to a period (docs/disbursements.md). */
export type CycleKind = 'deposit' | 'tranche' | 'arrears';
export const CYCLE_STATUSES = ['draft', 'approved', 'running', 'completed', 'completed_with_exceptions', 'cancelled'] as const;
export type CycleStatus = (typeof CYCLE_STATUSES)[number];

export const PERIOD_PATTERN = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

export function periodStart(period: string): string {
  return `${period}-01`;
}

/** The period (YYYY-MM) after this one. */
export function nextPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The period a business date (YYYY-MM-DD) falls in. */
export function periodOf(date: string): string {
  return date.slice(0, 7);
}

/**
 * The business date a period is paid for. Monthly programs: the schedule's day of the month
 * (Pensión: day 1, §1.1 "Deposit day"). Voucher loads: the load's date from `schedule.dates` when
 * it falls in the period, else day 1 of the period (design: the ROs fix no load dates, G5).
 * Tranches: day 1 of the period, or the scheduled date when it is in the period.
 */
export function paymentDate(rules: ProgramRules, period: string, opts: { loadNumber?: number | null; scheduledDate?: string | null } = {}): string {
  const s = rules.schedule;
  if (s?.frequency === 'monthly') return `${period}-${String(s.dayOfMonth).padStart(2, '0')}`;
  if (s?.frequency === 'loads' && opts.loadNumber && s.dates?.[opts.loadNumber - 1]?.startsWith(period)) return s.dates[opts.loadNumber - 1];
  if (opts.scheduledDate && opts.scheduledDate.startsWith(period)) return opts.scheduledDate;
  return periodStart(period);
}

/**
 * Never retroactive (P20): a person is paid for a period only if incorporated on or before its
 * payment date and — for monthly programs — not after the period began (design: a month that
 * began before the incorporation is never paid, even when the payment day is later in the month).
 */
export function incorporationCutoff(rules: ProgramRules, period: string, payDate: string): string {
  return rules.schedule?.frequency === 'monthly' && periodStart(period) < payDate ? periodStart(period) : payDate;
}

/** Amount of a line from the rules: one fixed amount, by attribute (Útiles by school level), or from records. */
export type LineAmountRule =
  | { mode: 'fixed'; amount: Decimal; beneficiaryAmount: Decimal; insurerAmount: Decimal }
  | { mode: 'by_attribute'; attribute: string; amounts: Record<string, string> }
  | { mode: 'per_award' }
  /** Per beneficiary from attendance or event records (src/conditional): amounts computed at the draft. */
  | { mode: 'records' };

/** Unidades de cuenta (Pensión ½ × 71.68 × 30 = 1,075.20): unit × factor, rounded half-up to the centavo. */
export function unidadesDeCuenta(unitValue: string, factor: string): Decimal {
  return new Money(unitValue).times(new Money(factor)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

export function lineAmountRule(rules: ProgramRules): LineAmountRule {
  const b = rules.benefit;
  let amount: Decimal;
  switch (b.type) {
    case 'per_award':
    case 'per_hour':
      return { mode: 'per_award' };
    case 'in_kind':
      throw new ApiProblem(422, 'cycle_kind_not_supported', 'an in-kind program pays no cash: record its deliveries');
    case 'on_compliance':
      throw new ApiProblem(422, 'cycle_kind_not_supported', 'this program pays once a year per compliant recipient: POST /v1/beneficiaries/{id}/compliance-payments');
    case 'per_attendance':
    case 'event':
      if (rules.split) throw new ApiProblem(422, 'invalid_program_rules', 'a split payment needs one fixed amount per line');
      return { mode: 'records' };
    case 'by_attribute':
      if (rules.split) throw new ApiProblem(422, 'invalid_program_rules', 'a split payment needs one fixed amount per line');
      return { mode: 'by_attribute', attribute: b.attribute, amounts: b.amounts };
    case 'fixed':
      amount = money(b.amount);
      break;
    case 'unidades_de_cuenta':
      amount = unidadesDeCuenta(b.unitValue, b.factor);
      break;
  }
  if (!rules.split) return { mode: 'fixed', amount, beneficiaryAmount: amount, insurerAmount: new Money(0) };
  const part = (to: string) => rules.split!.filter((s) => s.to === to).reduce((sum, s) => sum.plus(money(s.amount)), new Money(0));
  const beneficiaryAmount = part('beneficiary');
  const insurerAmount = part('insurer_payable');
  if (!beneficiaryAmount.plus(insurerAmount).eq(amount) || beneficiaryAmount.lte(0)) {
    throw new ApiProblem(422, 'invalid_program_rules', `the split (${beneficiaryAmount.toFixed(2)} + ${insurerAmount.toFixed(2)}) does not add up to the benefit ${amount.toFixed(2)}`);
  }
  return { mode: 'fixed', amount, beneficiaryAmount, insurerAmount };
}

/** Maximum paid months: default, or `withAuthorization` when an authorisation record exists (Seguro 12 / 18). */
export function monthLimits(rules: ProgramRules): { default: number; withAuthorization: number } | null {
  if (!rules.maxMonths) return null;
  return { default: rules.maxMonths.default, withAuthorization: rules.maxMonths.withAuthorization ?? rules.maxMonths.default };
}

export interface PlannedTranche {
  trancheNo: number;
  amount: string;
  proofDueBusinessDays: number | null;
  proofDueCalendarDays: number | null;
  label?: string;
}

/**
 * Tranche amounts of an award: fixed amounts, or shares rounded half-up to the centavo with the
 * last tranche taking the remainder so the tranches add up to the award exactly (design).
 */
export function planTranches(award: Decimal, plan: NonNullable<ProgramRules['tranchePlan']>): PlannedTranche[] {
  let allotted = new Money(0);
  const out = plan.map((t, i) => {
    let amount: Decimal;
    if (t.amount !== undefined) amount = money(t.amount);
    else if (i === plan.length - 1) amount = award.minus(allotted);
    else amount = award.times(new Money(t.share!)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    allotted = allotted.plus(amount);
    return {
      trancheNo: i + 1,
      amount: amount.toFixed(2),
      proofDueBusinessDays: t.proofDueBusinessDays ?? null,
      proofDueCalendarDays: t.proofDueCalendarDays ?? null,
      ...(t.label ? { label: t.label } : {}),
    };
  });
  if (!allotted.eq(award) || out.some((t) => new Money(t.amount).lte(0))) {
    throw new ApiProblem(422, 'invalid_tranche_plan', `the tranche plan (${allotted.toFixed(2)}) does not add up to the award ${award.toFixed(2)}`);
  }
  return out;
}

/** Proof deadline of a tranche released on `releasedOn`. */
export function proofDueOn(t: PlannedTranche, releasedOn: string): string | null {
  if (t.proofDueBusinessDays) return addBusinessDays(releasedOn, t.proofDueBusinessDays);
  if (t.proofDueCalendarDays) return addDays(releasedOn, t.proofDueCalendarDays);
  return null;
}

export interface ChunkRange {
  chunk: number;
  from: number;
  to: number;
}

/** Lines 1..count in chunks of `size`: chunk n holds lines n*size+1 … (n+1)*size. */
export function chunkRanges(count: number, size: number): ChunkRange[] {
  const out: ChunkRange[] = [];
  for (let chunk = 0; chunk * size < count; chunk++) out.push({ chunk, from: chunk * size + 1, to: Math.min(count, (chunk + 1) * size) });
  return out;
}

/**
 * Deterministic BullMQ job ids. BullMQ 5 refuses custom ids containing ':' (unless they have
 * exactly three parts, a legacy of repeatable jobs), so the separator is '.' rather than the
 * `cycle:<id>:chunk:<n>` of DESIGN.md.
 */
export const jobIds = {
  start: (cycleId: string) => `cycle.${cycleId}.start`,
  parent: (cycleId: string) => `cycle.${cycleId}`,
  chunk: (cycleId: string, n: number) => `cycle.${cycleId}.chunk.${n}`,
};

/** Journal entry kind of a cycle's lines. */
export function entryKind(kind: CycleKind, instrumentType: string): string {
  if (kind === 'tranche') return 'cycle_tranche';
  if (kind === 'arrears') return 'cycle_arrears';
  return instrumentType === 'voucher' ? 'cycle_voucher_load' : 'cycle_deposit';
}

export function lineKey(cycleId: string, beneficiaryId: string): string {
  return `cycle:${cycleId}:line:${beneficiaryId}`;
}

/** Delay of the start job: now if scheduledFor is absent or past. */
export function startDelayMs(scheduledFor: Date | null, now: Date): number {
  return scheduledFor ? Math.max(0, scheduledFor.getTime() - now.getTime()) : 0;
}

/** Final status once every line is posted or an exception. */
export function finalStatus(exceptionCount: number): CycleStatus {
  return exceptionCount > 0 ? 'completed_with_exceptions' : 'completed';
}
