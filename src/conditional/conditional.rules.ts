import Decimal from 'decimal.js';
import { addBusinessDays, addDays, addMonths, daysInMonth } from '../common/calendar';
import { money, Money } from '../common/money';
import type { EventBenefit, EventPayment, ObligationRule, PerAttendanceBenefit } from '../programs/conditional-rules';

/**
 * Pure rules of conditional and variable benefits (no I/O): the amount of an attendance record,
 * whether an event may be recorded and what it pays, and a beneficiary's standing against the
 * monthly obligations of the program. Unit-tested in test/unit/conditional-rules.spec.ts with the
 * seed rule ids; the service (conditional.service.ts) and the cycle draft read them.
 */

export type Attributes = Record<string, unknown>;
export type Refusal = { ok: false; reason: string };

/** Business dates are YYYY-MM-DD; periods YYYY-MM. */
export function periodBefore(period: string, months = 1): string {
  return addMonths(`${period}-01`, -months).slice(0, 7);
}

export function lastDayOf(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return `${period}-${String(daysInMonth(y, m)).padStart(2, '0')}`;
}

// ---------------------------------------------------------------- attendance

export interface AttendanceAmount {
  ok: true;
  /** Unidades de Cuenta a day × unit value, rounded half-up to the centavo. */
  dailyStipend: Decimal;
  extras: Array<{ label: string; daily: Decimal }>;
  amount: Decimal;
}

/**
 * What an attendance record of `days` pays (SCAPAT: «de 1 a 2 unidades de cuenta … por cada día
 * que acuda al curso» plus $20 a day of transport «si el traslado … lo justifica»). The daily
 * stipend is rounded to the centavo once, then multiplied by the days (1.5 × 71.68 = 107.52).
 */
export function attendanceAmount(b: PerAttendanceBenefit, attributes: Attributes, days: number): AttendanceAmount | Refusal {
  const key = attributes[b.factorBy.attribute];
  const factor = typeof key === 'string' ? b.factorBy.factors[key] : undefined;
  if (factor === undefined) return { ok: false, reason: `attributes.${b.factorBy.attribute} must be one of ${Object.keys(b.factorBy.factors).join(', ')}` };
  const dailyStipend = money(b.unitValue).times(new Money(factor)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const extras = (b.perDayExtras ?? []).filter((x) => attributes[x.whenAttribute] === true).map((x) => ({ label: x.label, daily: money(x.amount) }));
  const daily = extras.reduce((sum, x) => sum.plus(x.daily), dailyStipend);
  return { ok: true, dailyStipend, extras, amount: daily.times(days) };
}

/** Days must be a whole number between 0 and the days of the period. */
export function attendanceDaysProblem(period: string, days: number): string | null {
  const [y, m] = period.split('-').map(Number);
  if (!Number.isInteger(days) || days < 0 || days > daysInMonth(y, m)) return `days must be a whole number from 0 to ${daysInMonth(y, m)} for ${period}`;
  return null;
}

/** The cycle of `cyclePeriod` pays the attendance of periods up to this one (lagMonths before: «a mes vencido»). */
export function lastAttendancePeriodPaid(b: PerAttendanceBenefit, cyclePeriod: string): string {
  return periodBefore(cyclePeriod, b.lagMonths);
}

// ---------------------------------------------------------------- events

export interface RecordedEvent {
  kind: string;
  occurredOn: string;
}

/**
 * Whether an event may be recorded for a beneficiary, given the events already recorded for them
 * (SAEV: the $2,000 «si continua laborando» only three months or more after the hiring; SAPLA
 * at most 3 months; each kind only for its subprogram).
 */
export function eventProblem(b: EventBenefit, attributes: Attributes, event: RecordedEvent, history: RecordedEvent[]): string | null {
  const rule = b.events[event.kind];
  if (!rule) return `this program pays no event ${event.kind}; its events are ${Object.keys(b.events).join(', ')}`;
  if (rule.onlyWhen) {
    const v = attributes[rule.onlyWhen.attribute];
    if (typeof v !== 'string' || !rule.onlyWhen.values.includes(v)) {
      return `${event.kind} is only for beneficiaries whose ${rule.onlyWhen.attribute} is ${rule.onlyWhen.values.join(' or ')}`;
    }
  }
  if (history.filter((h) => h.kind === event.kind).length >= rule.maxPerBeneficiary) {
    return `${event.kind} is paid at most ${rule.maxPerBeneficiary} time(s) to one beneficiary`;
  }
  if (rule.after) {
    const { event: earlier, months } = rule.after;
    const firsts = history.filter((h) => h.kind === earlier).map((h) => h.occurredOn).sort();
    if (firsts.length === 0) return `${event.kind} needs an earlier ${earlier} event`;
    const from = addMonths(firsts[0], months);
    if (event.occurredOn < from) return `${event.kind} counts only from ${from}, ${months} month(s) after ${earlier} on ${firsts[0]}`;
  }
  const amount = eventAmount(rule, attributes);
  if (!amount.ok) return amount.reason;
  return null;
}

/** The amount one event of this kind pays a beneficiary. */
export function eventAmount(rule: EventPayment, attributes: Attributes): { ok: true; amount: Decimal } | Refusal {
  if (rule.amount !== undefined) return { ok: true, amount: money(rule.amount) };
  const by = rule.byAttribute!;
  const key = attributes[by.attribute];
  const amount = typeof key === 'string' ? by.amounts[key] : undefined;
  if (amount === undefined) return { ok: false, reason: `attributes.${by.attribute} must be one of ${Object.keys(by.amounts).join(', ')}` };
  return { ok: true, amount: money(amount) };
}

// ---------------------------------------------------------------- obligations

export interface ObligationRecord {
  period: string;
  metOn: string;
}

export type PeriodVerdict = 'met' | 'cured' | 'pending' | 'missed';

export interface Standing {
  status: 'active' | 'suspended' | 'baja';
  /** Missed periods at the end, in a row. */
  missedInRow: number;
  periods: Array<{ period: string; dueOn: string; verdict: PeriodVerdict }>;
  /** With status baja: the day after the last deadline that made it final. */
  bajaOn: string | null;
}

/** The day an obligation of a period is due: its last day, or its n-th business day (cartilla: the 10th). */
export function obligationDueOn(rule: ObligationRule, period: string): string {
  if (rule.due.by === 'period_end') return lastDayOf(period);
  return addBusinessDays(addDays(`${period}-01`, -1), rule.due.day);
}

/**
 * The first period with the obligation: the incorporation month when incorporated on its first
 * day, else the next one; with `from: month_after_incorporation`, always the next one.
 */
export function firstObligationPeriod(rule: Pick<ObligationRule, 'from'>, incorporatedOn: string): string {
  const p = incorporatedOn.slice(0, 7);
  return incorporatedOn.endsWith('-01') && rule.from !== 'month_after_incorporation' ? p : periodBefore(p, -1);
}

/**
 * A beneficiary's standing on `asOf` against one obligation: every period from the first one
 * whose deadline has passed is met (on time), cured (late but within cureDays), pending (not met,
 * cure window still open) or missed. A last period missed or pending suspends; the last
 * `missedInRowForBaja` periods all missed end the benefit (Seguro S6 and Reinserción R7: «No
 * firme el listado … durante dos meses consecutivos»; Desempleo: the cartilla with a 30-day cure).
 */
export function obligationStanding(rule: ObligationRule, incorporatedOn: string, records: ObligationRecord[], asOf: string): Standing {
  const metOn = new Map(records.filter((r) => r.metOn <= asOf).map((r) => [r.period, r.metOn]));
  const periods: Standing['periods'] = [];
  for (let p = firstObligationPeriod(rule, incorporatedOn); obligationDueOn(rule, p) < asOf; p = periodBefore(p, -1)) {
    const dueOn = obligationDueOn(rule, p);
    const cureUntil = rule.cureDays ? addDays(dueOn, rule.cureDays) : dueOn;
    const met = metOn.get(p);
    let verdict: PeriodVerdict;
    if (met !== undefined && met <= dueOn) verdict = 'met';
    else if (met !== undefined && met <= cureUntil) verdict = 'cured';
    else if (asOf <= cureUntil) verdict = 'pending';
    else verdict = 'missed';
    periods.push({ period: p, dueOn, verdict });
  }
  // Periods still in their cure window are not decided yet: the run of missed periods ends before them.
  let end = periods.length;
  while (end > 0 && periods[end - 1].verdict === 'pending') end--;
  let missedInRow = 0;
  for (let i = end - 1; i >= 0 && periods[i].verdict === 'missed'; i--) missedInRow++;
  if (missedInRow >= rule.missedInRowForBaja) {
    const last = periods[end - 1];
    return { status: 'baja', missedInRow, periods, bajaOn: addDays(rule.cureDays ? addDays(last.dueOn, rule.cureDays) : last.dueOn, 1) };
  }
  const lastVerdict = periods[periods.length - 1]?.verdict;
  const status = lastVerdict === 'missed' || lastVerdict === 'pending' ? 'suspended' : 'active';
  return { status, missedInRow, periods, bajaOn: null };
}

/** The standing against every obligation of the program: baja if any says baja, else suspended if any suspends. */
export function overallStanding(rules: ObligationRule[], incorporatedOn: string, records: Array<ObligationRecord & { kind: string }>, asOf: string) {
  const each = rules.map((r) => ({ kind: r.kind, rule: r, ...obligationStanding(r, incorporatedOn, records.filter((x) => x.kind === r.kind), asOf) }));
  const baja = each.find((e) => e.status === 'baja');
  const status: Standing['status'] = baja ? 'baja' : each.some((e) => e.status === 'suspended') ? 'suspended' : 'active';
  return { status, baja: baja ? { cause: baja.rule.bajaCause, on: baja.bajaOn!, kind: baja.kind } : null, obligations: each.map(({ rule: _r, ...e }) => e) };
}
