import Decimal from 'decimal.js';
import { formatMoney, money, ZERO } from '../common/money';

/**
 * Zones of the ledger as seen from one program (docs/audit.md "Reconciliation"):
 *   budget      program:<id>:budget and its envelopes program:<id>:envelope:<key> (category program_budget)
 *   commitment  cycle:<cycleId>:commitment of the program's cycles (budget reserved by an approved cycle)
 *               and grant:<id>:award of its grants (budget reserved by an award, not released yet)
 *   holding     instrument and grant accounts of the program (what beneficiaries hold)
 *   insurer     program:<id>:insurer (Seguro's premium before payouts: a legacy account nobody pays)
 *   payable     payee payables of the program (money owed to a payee, waiting for a payout batch)
 *   transit     any other account of the program: the bank-in-transit account of payout batches
 *               (sent to the bank, no answer yet), or clearing
 *   reintegro   program:<id>:reintegro and pending-reintegro accounts of the program
 *   treasury, merchant, bank, other   accounts outside the program
 */
export type Zone = 'budget' | 'commitment' | 'holding' | 'insurer' | 'payable' | 'transit' | 'reintegro' | 'treasury' | 'merchant' | 'bank' | 'other';

export const BUDGET_SIDE: Zone[] = ['budget', 'commitment'];
export const DISBURSED_SIDE: Zone[] = ['holding', 'insurer', 'payable', 'transit'];

/** What a flow between two zones means for the equations; null when it is not explained. */
export type FlowTerm = 'appropriated' | 'internal' | 'disbursed' | 'budgetReintegrated' | 'redeemed' | 'reintegrated' | 'paidOut' | 'remitted';

/**
 * The term a flow from → to adds to (sign +1), or subtracts from when it runs backwards (sign −1).
 * A reversal is simply the backwards flow, so it cancels what it reverses.
 */
export function classifyFlow(from: Zone, to: Zone): { term: FlowTerm; sign: 1 | -1 } | null {
  const forward = termOf(from, to);
  if (forward) return { term: forward, sign: 1 };
  const backward = termOf(to, from);
  if (backward) return { term: backward, sign: -1 };
  return null;
}

function termOf(from: Zone, to: Zone): FlowTerm | null {
  const b = BUDGET_SIDE.includes(from);
  const z = DISBURSED_SIDE.includes(from);
  if (from === 'treasury' && to === 'budget') return 'appropriated';
  if (b && BUDGET_SIDE.includes(to)) return 'internal';
  if (z && DISBURSED_SIDE.includes(to)) return 'internal';
  if (b && DISBURSED_SIDE.includes(to)) return 'disbursed';
  if (b && to === 'reintegro') return 'budgetReintegrated';
  if (z && to === 'merchant') return 'redeemed';
  if (z && to === 'reintegro') return 'reintegrated';
  if (z && to === 'bank') return 'paidOut';
  if (from === 'reintegro' && to === 'treasury') return 'remitted';
  return null;
}

/** The zones of the program itself (the others are outside it). */
export const PROGRAM_ZONES: Zone[] = ['budget', 'commitment', 'holding', 'insurer', 'payable', 'transit', 'reintegro'];

/** A flow touches the program when either end is one of its zones. */
export function touchesProgram(from: Zone, to: Zone): boolean {
  const own: Zone[] = PROGRAM_ZONES;
  return own.includes(from) || own.includes(to);
}

export interface ReconciliationInputs {
  flows: Array<{ from: Zone; to: Zone; amount: Decimal }>;
  balances: { budgetPosted: Decimal; budgetPending: Decimal; commitment: Decimal; holding: Decimal; insurer: Decimal; payable: Decimal; transit: Decimal; reintegro: Decimal };
}

export function reconcile(input: ReconciliationInputs) {
  const t: Record<FlowTerm, Decimal> = {
    appropriated: ZERO, internal: ZERO, disbursed: ZERO, budgetReintegrated: ZERO, redeemed: ZERO, reintegrated: ZERO, paidOut: ZERO, remitted: ZERO,
  };
  for (const f of input.flows) {
    const c = classifyFlow(f.from, f.to);
    if (c) t[c.term] = t[c.term].plus(c.sign === 1 ? f.amount : f.amount.negated());
  }
  const b = input.balances;
  const available = b.budgetPosted.minus(b.budgetPending);
  const committed = b.commitment.plus(b.budgetPending);
  const right1 = available.plus(committed).plus(t.disbursed).plus(t.budgetReintegrated);
  const right2 = b.holding.plus(b.insurer).plus(b.payable).plus(b.transit).plus(t.redeemed).plus(t.reintegrated).plus(t.paidOut);
  return {
    figures: {
      appropriated: formatMoney(t.appropriated),
      available: formatMoney(available),
      committed: formatMoney(committed),
      disbursed: formatMoney(t.disbursed),
      budgetReintegrated: formatMoney(t.budgetReintegrated),
      instrumentBalances: formatMoney(b.holding),
      insurerPayable: formatMoney(b.insurer),
      payables: formatMoney(b.payable),
      inTransit: formatMoney(b.transit),
      redeemed: formatMoney(t.redeemed),
      reintegrated: formatMoney(t.reintegrated),
      paidOut: formatMoney(t.paidOut),
      remitted: formatMoney(t.remitted),
      reintegroPending: formatMoney(b.reintegro),
    },
    equations: [
      equation('appropriated = available + committed + disbursed + budgetReintegrated', t.appropriated, right1),
      equation('disbursed = instrumentBalances + insurerPayable + payables + inTransit + redeemed + reintegrated + paidOut', t.disbursed, right2),
    ],
  };
}

function equation(name: string, left: Decimal, right: Decimal) {
  const difference = left.minus(right);
  return { equation: name, left: formatMoney(left), right: formatMoney(right), difference: formatMoney(difference), ok: difference.isZero() };
}

export function dec(v: string | null | undefined): Decimal {
  return v === null || v === undefined ? ZERO : money(v);
}
