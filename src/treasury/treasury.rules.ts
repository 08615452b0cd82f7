import { addBusinessDays } from '../disbursements/cycles.rules';
import { problems } from '../common/problem';

/**
 * Pure rules of the treasury (no I/O): card-collection deadlines (P21/P22), tranche-proof
 * reminders and demands (Cooperativas), list cursors, sweep dates and CSV fields. Unit-tested in
 * test/unit/treasury-rules.spec.ts.
 */

export const REINTEGRO_CAUSES = ['baja', 'card_not_collected', 'voucher_expiry', 'unproven_tranche', 'fiscal_year_close', 'payout_rejected'] as const;
export type ReintegroCause = (typeof REINTEGRO_CAUSES)[number];
export const REINTEGRO_STATUSES = ['pending', 'in_remittance', 'remitted'] as const;
export const REMITTANCE_STATUSES = ['draft', 'approved', 'cancelled'] as const;

export const SWEEP_KINDS = ['voucher-expiry', 'card-collection', 'tranche-proofs', 'fiscal-close'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/**
 * P21/P22: the office has `businessDays` business days from the day the cards arrive to deliver
 * them (the deadline is the last of those days); after it, and after `visits` failed visits on
 * different days, the beneficiary is dado de baja and the card cancelled.
 */
export function cardCollectionDeadline(arrivedOn: string, businessDays: number, holidays: ReadonlySet<string>): string {
  return addBusinessDays(arrivedOn, businessDays, holidays);
}

export function cardCollectionDue(
  input: { arrivedOn: string; visitDays: number; today: string },
  rule: { businessDays: number; visits: number },
  holidays: ReadonlySet<string>,
): { due: boolean; deadline: string } {
  const deadline = cardCollectionDeadline(input.arrivedOn, rule.businessDays, holidays);
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

/** Opaque list cursor over (created_at, id). */
export function encodeCursor(createdAt: Date | string, id: string): string {
  return Buffer.from(`${new Date(createdAt).toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  if (cursor === undefined || cursor === '') return null;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f-]{36})$/.exec(raw);
  if (!m) throw problems.validation('cursor is not valid');
  return { createdAt: m[1], id: m[2] };
}

export function parseLimit(limit: string | undefined): number {
  if (limit === undefined) return 50;
  if (!/^[0-9]+$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) throw problems.validation('limit must be an integer from 1 to 500');
  return Number(limit);
}

/** RFC 4180 field; a leading = + - @ is prefixed with ' so spreadsheets never run it as a formula. */
export function csvField(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? '' : String(value);
  const v = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(fields: Array<string | number | null | undefined>): string {
  return fields.map(csvField).join(',') + '\r\n';
}
