import { addBusinessDays } from '../common/calendar';

/**
 * Pure rules of the treasury (no I/O): card-collection deadlines (P21/P22) and sweep kinds. Dates
 * and business days come from common/calendar.ts; the recovery of grant money is in
 * grant-recovery.rules.ts. Unit-tested in test/unit/treasury-rules.spec.ts.
 */

export const REINTEGRO_CAUSES = ['baja', 'card_not_collected', 'voucher_expiry', 'unproven_tranche', 'fiscal_year_close', 'payout_rejected'] as const;
export type ReintegroCause = (typeof REINTEGRO_CAUSES)[number];
export const REINTEGRO_STATUSES = ['pending', 'in_remittance', 'remitted'] as const;
export const REMITTANCE_STATUSES = ['draft', 'approved', 'cancelled'] as const;
/** A receivable from a grantee (docs/grants.md "Recovery"). */
export const RECEIVABLE_STATUSES = ['open', 'referred_to_legal', 'paid'] as const;

export const SWEEP_KINDS = ['voucher-expiry', 'card-collection', 'tranche-proofs', 'fiscal-close'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

/**
 * P21/P22: the office has `businessDays` business days from the day the cards arrive to deliver
 * them (the deadline is the last of those days); after it, and after `visits` failed visits on
 * different days, the beneficiary is dado de baja and the card cancelled.
 */
export function cardCollectionDeadline(arrivedOn: string, businessDays: number): string {
  return addBusinessDays(arrivedOn, businessDays);
}

export function cardCollectionDue(
  input: { arrivedOn: string; visitDays: number; today: string },
  rule: { businessDays: number; visits: number },
): { due: boolean; deadline: string } {
  const deadline = cardCollectionDeadline(input.arrivedOn, rule.businessDays);
  return { due: input.today > deadline && input.visitDays >= rule.visits, deadline };
}

/**
 * n disjoint ranges covering every uuid, for chunks run in parallel: range k holds the ids with
 * after < id <= until (null: unbounded). Instrument ids are random (v4), so equal slices of the
 * uuid space hold about equal numbers of vouchers.
 */
export function uuidRanges(n: number): Array<{ after: string | null; until: string | null }> {
  const span = 1n << 128n;
  const bound = (k: number) => {
    const hex = ((span * BigInt(k)) / BigInt(n) - 1n).toString(16).padStart(32, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return Array.from({ length: n }, (_, k) => ({ after: k === 0 ? null : bound(k), until: k === n - 1 ? null : bound(k + 1) }));
}
