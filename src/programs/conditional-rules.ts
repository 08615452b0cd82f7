import { z } from 'zod';
import { DEACTIVATION_CAUSES } from '../beneficiaries/beneficiaries.rules';
import { isPositiveMoneyString } from '../common/money';

/**
 * Rules of conditional and variable benefits (API.md "Conditional and variable benefits",
 * docs/conditional.md): amounts that depend on days attended or on recorded events, and monthly
 * obligations whose breach suspends the benefit and, repeated, ends it. The pure functions that
 * read these rules are in src/conditional/conditional.rules.ts.
 */
const positiveMoney = z.string().refine(isPositiveMoneyString, 'a money string greater than zero with at most two decimals');
const decimalFactor = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal number as a string');
const recordKind = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a snake_case kind');

/** An amount by a beneficiary attribute (e.g. jobLevel → basic 3000 / technical 3500). */
const ByAttribute = z.object({ attribute: z.string().min(1), amounts: z.record(z.string(), positiveMoney) }).strict();

/**
 * Paid per day attended, from an attendance record per period, `lagMonths` after the period
 * (Trabajo Digno SCAPAT: 1 / 1.5 / 2 Unidades de Cuenta a day by schooling, paid «a mes vencido»,
 * plus $20 a day of transport when the journey justifies it).
 */
export const PerAttendanceBenefit = z
  .object({
    type: z.literal('per_attendance'),
    /** Value of one Unidad de Cuenta ($71.68 in 2016). */
    unitValue: positiveMoney,
    /** Unidades de Cuenta a day, by a beneficiary attribute (schooling → "1" / "1.5" / "2"). */
    factorBy: z.object({ attribute: z.string().min(1), factors: z.record(z.string(), decimalFactor) }).strict(),
    /** Amounts added per day attended when a boolean attribute is true (transport: $20). */
    perDayExtras: z.array(z.object({ label: z.string().min(1), amount: positiveMoney, whenAttribute: z.string().min(1) }).strict()).optional(),
    /** The cycle of period P pays the attendance of periods up to P − lagMonths (1: «a mes vencido»). */
    lagMonths: z.number().int().min(1).max(3),
  })
  .strict();

/** One kind of recorded event and what it pays. */
export const EventPayment = z
  .object({
    amount: positiveMoney.optional(),
    byAttribute: ByAttribute.optional(),
    /** Only beneficiaries whose attribute has one of these values may have this event (subprogram). */
    onlyWhen: z.object({ attribute: z.string().min(1), values: z.array(z.string().min(1)).min(1) }).strict().optional(),
    /** How many events of this kind one beneficiary may be paid (SAPLA: 3 months at most). */
    maxPerBeneficiary: z.number().int().min(1).max(24),
    /** Only after an earlier event of another kind, at least this many months before (SAEV: $2,000 three months after the hiring). */
    after: z.object({ event: recordKind, months: z.number().int().min(1).max(24) }).strict().optional(),
    label: z.string().optional(),
  })
  .strict()
  .refine((e) => (e.amount === undefined) !== (e.byAttribute === undefined), 'an event pays either an amount or an amount by attribute');

/** Paid on recorded events (Mi Primer Trabajo: SAEV hiring and continuation, SAPLA and SAEP months reported by the firm). */
export const EventBenefit = z
  .object({ type: z.literal('event'), events: z.record(recordKind, EventPayment) })
  .strict()
  .superRefine((b, ctx) => {
    for (const [kind, e] of Object.entries(b.events)) {
      if (e.after && !b.events[e.after.event]) ctx.addIssue({ code: 'custom', path: ['events', kind, 'after', 'event'], message: `unknown event ${e.after.event}` });
    }
  });

/**
 * A monthly obligation (Seguro and Reinserción: sign the delivery list; Desempleo: present the
 * cartilla). The obligation of a period is due at its end, or on its n-th business day; a record
 * met after that but within `cureDays` cures it. A period not met suspends the benefit (no line
 * in a cycle while suspended); `missedInRowForBaja` missed periods in a row end it with `bajaCause`.
 */
export const ObligationRule = z
  .object({
    kind: recordKind,
    due: z.discriminatedUnion('by', [
      z.object({ by: z.literal('period_end') }).strict(),
      z.object({ by: z.literal('business_day'), day: z.number().int().min(1).max(20) }).strict(),
    ]),
    /**
     * The first period with the obligation: the first whole month of the incorporation (default;
     * Reinserción and Seguro sign the list of each month paid), or the month after the
     * incorporation (Desempleo: the first cartilla is due «en el mes siguiente a su aprobación», @864690).
     */
    from: z.enum(['first_whole_month', 'month_after_incorporation']).optional(),
    cureDays: z.number().int().min(1).max(90).optional(),
    missedInRowForBaja: z.number().int().min(1).max(12),
    bajaCause: z.enum(DEACTIVATION_CAUSES),
    /**
     * Whether a cure pays the months missed while suspended. Only `false` is accepted: paying
     * them back is an arrears cycle (API.md "Money owed"), not a conditional-benefit rule.
     */
    curePaysMissed: z.literal(false),
    label: z.string().optional(),
  })
  .strict();

/**
 * Paid per training hour to a supplier (the Oferente de Capacitación), the firm co-paying the
 * rest (PACTyFP: the program pays 80 % for a micro firm, 70 % for a small one, of the hourly price
 * capped at $600 with IVA; at most 50 hours and $30,000, exceptionally 70 hours and $42,000;
 * paid within 45 business days of the invoice, after at least 80 % attendance).
 */
export const PerHourBenefit = z
  .object({
    type: z.literal('per_hour'),
    maxPricePerHour: positiveMoney,
    /** The program's share of the capped price, by the firm's size. */
    shares: z.record(z.string(), decimalFactor),
    cap: z.object({ hours: z.number().int().min(1), amount: positiveMoney }).strict(),
    exceptionalCap: z.object({ hours: z.number().int().min(1), amount: positiveMoney }).strict().optional(),
    minAttendancePercent: z.number().int().min(0).max(100),
    paymentDueBusinessDays: z.number().int().min(1).max(120),
  })
  .strict();

/**
 * Delivered in kind, never in cash (Comedores Públicos rations, Aliméntate packages, services to
 * people in the street): deliveries are recorded with their count and value for the indicators.
 */
export const InKindBenefit = z
  .object({
    type: z.literal('in_kind'),
    deliveries: z.record(
      recordKind,
      z
        .object({
          label: z.string().min(1),
          /** Value of one unit when the seed gives it (Aliméntate: about $190 a package); else each delivery states its value or none. */
          unitValue: positiveMoney.optional(),
          /** Units planned in the fiscal year (meta física: 3,000,000 rations; 36,000 services). */
          target: z.number().int().min(1).optional(),
          /** Each delivery names the registered beneficiary who received it (a family's package); else deliveries are counts per site. */
          requiresBeneficiary: z.boolean(),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * Once a fiscal year to each recipient the program finds compliant, against an invoice, inside a
 * payment window (Comedores Comunitarios: $10,000 per comedor «a aquellos Comedores que hayan
 * cumplido con todas las estipulaciones», paid «durante los últimos 10 días hábiles de noviembre»,
 * «acreditados con la factura correspondiente», CC1–CC2). Paid by src/compliance, never by a cycle.
 */
export const OnComplianceBenefit = z
  .object({
    type: z.literal('on_compliance'),
    amount: positiveMoney,
    /** Paid only in the last `lastBusinessDays` business days of `month` of the fiscal year (federal holidays, common/calendar.ts). */
    window: z.object({ month: z.number().int().min(1).max(12), lastBusinessDays: z.number().int().min(1).max(20) }).strict(),
  })
  .strict();

export type OnComplianceBenefit = z.infer<typeof OnComplianceBenefit>;
export type PerHourBenefit = z.infer<typeof PerHourBenefit>;
export type InKindBenefit = z.infer<typeof InKindBenefit>;
export type PerAttendanceBenefit = z.infer<typeof PerAttendanceBenefit>;
export type EventBenefit = z.infer<typeof EventBenefit>;
export type EventPayment = z.infer<typeof EventPayment>;
export type ObligationRule = z.infer<typeof ObligationRule>;
