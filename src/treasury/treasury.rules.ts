import { addBusinessDays, addDays } from '../common/calendar';

/**
 * Pure rules of the treasury (no I/O): card-collection deadlines (P21/P22), tranche-proof
 * reminders and demands (Cooperativas) and sweep kinds. Dates and business days come from
 * common/calendar.ts. Unit-tested in
 * test/unit/treasury-rules.spec.ts.
 */

export const REINTEGRO_CAUSES = ['baja', 'card_not_collected', 'voucher_expiry', 'unproven_tranche', 'fiscal_year_close'] as const;
export type ReintegroCause = (typeof REINTEGRO_CAUSES)[number];
export const REINTEGRO_STATUSES = ['pending', 'in_remittance', 'remitted'] as const;
export const REMITTANCE_STATUSES = ['draft', 'approved', 'cancelled'] as const;

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

/** Names of the letters sent at each `reminderDays` mark (Cooperativas 30 / 45 / 52). */
export const TRANCHE_EVENT_KINDS = ['reminder', 'warning', 'second_warning'] as const;
export type TrancheEventKind = (typeof TRANCHE_EVENT_KINDS)[number] | 'reintegro_demand';

export interface TrancheState {
  releasedOn: string;
  proofDueOn: string | null;
  amount: string;
  /** Accepted proofs (money string). */
  accepted: string;
  /** Proofs submitted and not reviewed yet. */
  pendingProofs: number;
  recorded: ReadonlySet<string>;
}

/**
 * What the tranche-proof sweep must record today for one released tranche:
 * - a letter for every `reminderDays` mark reached (calendar days after the release, "días
 *   naturales … después de la recepción del apoyo"), once each;
 * - a reintegro demand for the unproven amount (tranche − accepted proofs) once the proof
 *   deadline has passed. Design decision: a proof still waiting for review postpones the demand
 *   (the grantee delivered it on time; the office has not looked yet).
 */
export function trancheActions(
  t: TrancheState,
  reminderDays: readonly number[],
  today: string,
  unproven: (amount: string, accepted: string) => string,
): { events: Array<{ kind: TrancheEventKind; day: number | null; dueOn: string }>; demand: string | null } {
  const events: Array<{ kind: TrancheEventKind; day: number | null; dueOn: string }> = [];
  [...reminderDays]
    .sort((a, b) => a - b)
    .slice(0, TRANCHE_EVENT_KINDS.length)
    .forEach((day, i) => {
      const dueOn = addDays(t.releasedOn, day);
      const kind = TRANCHE_EVENT_KINDS[i];
      if (dueOn <= today && !t.recorded.has(kind)) events.push({ kind, day, dueOn });
    });
  let demand: string | null = null;
  if (t.proofDueOn && today > t.proofDueOn && t.pendingProofs === 0 && !t.recorded.has('reintegro_demand')) {
    const left = unproven(t.amount, t.accepted);
    if (left !== '0.00') demand = left;
  }
  return { events, demand };
}
