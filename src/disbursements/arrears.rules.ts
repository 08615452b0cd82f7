import { ApiProblem } from '../common/problem';
import type { ProgramRules } from '../programs/program-rules';
import { incorporationCutoff } from './cycles.rules';

/**
 * Pure rules of money owed (docs/disbursements.md "Money owed"): which periods can be owed, why,
 * and the life of a payment order. Unit-tested in test/unit/arrears-rules.spec.ts.
 */

/** Why a period was not paid (API.md "Money owed"). */
export const ARREARS_REASONS = ['instrument_not_delivered', 'instrument_blocked', 'instrument_replaced', 'late_voucher'] as const;
export type ArrearsReason = (typeof ARREARS_REASONS)[number];

/** A period the program paid with a deposit cycle: the periods anyone can be owed. */
export interface PaidPeriod {
  cycleId: string;
  period: string;
  loadNumber: number | null;
  paymentDate: string;
  status: string;
}

export interface OwablePeriod {
  cycleId: string;
  period: string;
  /** 0 for monthly programs; the load's number for voucher loads (Uniformes 1, 2). */
  loadNo: number;
  paymentDate: string;
  /** Incorporated on or before this date (P20: never retroactive). */
  cutoff: string;
}

/**
 * The periods that can be owed up to `upTo`: those whose regular deposit cycle has run to the end
 * (design: until then, the deposit cycle itself is how the period is paid, so nobody is owed it
 * yet), each with its incorporation cut-off (the deposit cycle's, P20).
 */
export function owablePeriods(rules: ProgramRules, cycles: PaidPeriod[], upTo: string): OwablePeriod[] {
  return cycles
    .filter((c) => (c.status === 'completed' || c.status === 'completed_with_exceptions') && c.period <= upTo)
    .map((c) => ({ cycleId: c.cycleId, period: c.period, loadNo: c.loadNumber ?? 0, paymentDate: c.paymentDate, cutoff: incorporationCutoff(rules, c.period, c.paymentDate) }))
    .sort((a, b) => (a.period === b.period ? a.loadNo - b.loadNo : a.period < b.period ? -1 : 1));
}

export const PAYMENT_ORDER_STATUSES = ['draft', 'posted', 'cancelled'] as const;
export type PaymentOrderStatus = (typeof PAYMENT_ORDER_STATUSES)[number];

/** A payment order is approved (posted) or cancelled only while it is a draft. */
export function assertOrderDraft(status: PaymentOrderStatus, action: 'approve' | 'cancel'): void {
  if (status !== 'draft') throw new ApiProblem(409, 'invalid_payment_order_state', `the payment order is ${status}; only a draft can be ${action === 'approve' ? 'approved' : 'cancelled'}`);
}
