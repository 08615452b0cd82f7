import type Decimal from 'decimal.js';
import { addDays, daysInMonth, isBusinessDay } from '../common/calendar';
import type { OnComplianceBenefit } from '../programs/conditional-rules';

/**
 * Pure rules of a payment once a fiscal year per compliant recipient, against an invoice
 * (Comedores Comunitarios CC1–CC2, docs/compliance.md). Unit-tested in
 * test/unit/compliance-rules.spec.ts with the seed rule ids.
 */

/**
 * The payment window of a fiscal year: the last `lastBusinessDays` business days of `month`
 * (CC2: «durante los últimos 10 días hábiles de noviembre», @129809), federal holidays excluded
 * (common/calendar.ts). `from` and `to` are business days.
 */
export function paymentWindow(rule: OnComplianceBenefit, fiscalYear: number): { from: string; to: string } {
  const month = `${fiscalYear}-${String(rule.window.month).padStart(2, '0')}`;
  let d = `${month}-${String(daysInMonth(fiscalYear, rule.window.month)).padStart(2, '0')}`;
  let to: string | null = null;
  for (let left = rule.window.lastBusinessDays; ; d = addDays(d, -1)) {
    if (!d.startsWith(month)) throw new Error(`${month} has fewer than ${rule.window.lastBusinessDays} business days`);
    if (!isBusinessDay(d)) continue;
    to ??= d;
    if (--left === 0) return { from: d, to };
  }
}

export type PaymentRefusal = { status: 409 | 422; code: string; detail: string };

/**
 * Why a payment is refused, or null: no compliance recorded (CC1), already paid this fiscal year
 * (once per comedor), outside the window (CC2), or an invoice that does not cover the amount
 * (CC2: the resource is «acreditado con la factura correspondiente»; design decision: the invoice
 * must be for at least the amount paid) or dated after the payment day.
 */
export function paymentRefusal(
  rule: OnComplianceBenefit,
  fiscalYear: number,
  record: { status: 'compliant' | 'paid' } | null,
  today: string,
  invoice: { date: string; amount: Decimal },
): PaymentRefusal | null {
  if (!record) return { status: 422, code: 'compliance_not_recorded', detail: 'no compliance is recorded for this recipient in the fiscal year' };
  if (record.status === 'paid') return { status: 409, code: 'already_paid', detail: `this recipient was already paid in ${fiscalYear}: once a fiscal year` };
  const w = paymentWindow(rule, fiscalYear);
  if (today < w.from || today > w.to) {
    return { status: 422, code: 'outside_payment_window', detail: `payments are made from ${w.from} to ${w.to} (the last ${rule.window.lastBusinessDays} business days); today is ${today}` };
  }
  if (invoice.date > today) return { status: 422, code: 'invoice_not_allowed', detail: 'the invoice date is in the future' };
  if (invoice.amount.lt(rule.amount)) return { status: 422, code: 'invoice_amount_below_support', detail: `the invoice must be for at least ${rule.amount}` };
  return null;
}
