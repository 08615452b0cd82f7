import Decimal from 'decimal.js';
import { addBusinessDays, businessDaysBetween } from '../common/calendar';
import { money, Money } from '../common/money';
import type { PerHourBenefit } from '../programs/conditional-rules';

/**
 * Pure rules of training paid to a supplier per hour (PACTyFP, 002 part B §3): the program's
 * share and the firm's co-payment, the invoice's checks, and the 45-business-day payment
 * indicator (OPOCC). Unit-tested in test/unit/training-rules.spec.ts.
 */

export interface SupportInput {
  hours: number;
  pricePerHour: Decimal;
  firmSize: string;
  exceptional: boolean;
}

export interface SupportTerms {
  ok: true;
  /** min(price, maxPricePerHour): the hourly price the program recognises. */
  recognisedPricePerHour: Decimal;
  /** What the supplier invoices in all: price × hours. */
  total: Decimal;
  /** share × recognised price × hours, capped, rounded half-up to the centavo. */
  programShare: Decimal;
  /** The rest: the firm's share, plus everything above the hourly cap. */
  firmCoPayment: Decimal;
  capAmount: Decimal;
}

export function supportTerms(b: PerHourBenefit, input: SupportInput): SupportTerms | { ok: false; reason: string } {
  const share = b.shares[input.firmSize];
  if (share === undefined) return { ok: false, reason: `firmSize must be one of ${Object.keys(b.shares).join(', ')}` };
  if (input.exceptional && !b.exceptionalCap) return { ok: false, reason: 'this program has no exceptional cap' };
  const cap = input.exceptional ? b.exceptionalCap! : b.cap;
  if (!Number.isInteger(input.hours) || input.hours < 1 || input.hours > cap.hours) {
    return { ok: false, reason: `hours must be 1 to ${cap.hours}${input.exceptional ? ' (exceptional cap)' : ''}` };
  }
  const max = money(b.maxPricePerHour);
  const recognisedPricePerHour = Decimal.min(input.pricePerHour, max);
  const total = input.pricePerHour.times(input.hours);
  const capAmount = money(cap.amount);
  const raw = recognisedPricePerHour.times(new Money(share)).times(input.hours).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const programShare = Decimal.min(raw, capAmount);
  return { ok: true, recognisedPricePerHour, total, programShare, firmCoPayment: total.minus(programShare), capAmount };
}

/** The supplier's invoice for the program's share: at least minAttendancePercent attendance, and exactly the program's share. */
export function invoiceProblem(b: PerHourBenefit, programShare: Decimal, invoice: { amount: Decimal; attendancePercent: number }): { code: string; detail: string } | null {
  if (invoice.attendancePercent < b.minAttendancePercent) {
    return { code: 'attendance_below_minimum', detail: `the supplier is paid only with at least ${b.minAttendancePercent} % attendance (reported ${invoice.attendancePercent} %)` };
  }
  if (!invoice.amount.eq(programShare)) {
    return { code: 'invoice_amount_mismatch', detail: `the invoice must be for the program's share ${programShare.toFixed(2)}, not ${invoice.amount.toFixed(2)}` };
  }
  return null;
}

/** The day the supplier must be paid by: paymentDueBusinessDays business days after the invoice is received. */
export function paymentDueOn(b: PerHourBenefit, invoiceReceivedOn: string): string {
  return addBusinessDays(invoiceReceivedOn, b.paymentDueBusinessDays);
}

/** OPOCC: business days from the invoice to the deposit, and whether that is within the term. */
export function paymentTimeliness(b: PerHourBenefit, invoiceReceivedOn: string, paidOn: string | null, asOf: string) {
  const dueOn = paymentDueOn(b, invoiceReceivedOn);
  if (paidOn === null) return { dueOn, businessDays: null, onTime: asOf <= dueOn ? null : false };
  const businessDays = businessDaysBetween(invoiceReceivedOn, paidOn);
  return { dueOn, businessDays, onTime: businessDays <= b.paymentDueBusinessDays };
}
