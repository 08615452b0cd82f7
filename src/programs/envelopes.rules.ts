import Decimal from 'decimal.js';
import { money, Money, ZERO } from '../common/money';
import type { Envelope } from './grant-rules';

/**
 * Envelopes of a program's budget (rules.envelopes; docs/grants.md "Envelopes"): pure rules, no
 * I/O (test/unit/grant-award-rules.spec.ts). Each envelope is a ledger sub-account of the budget,
 * program:<id>:envelope:<key> (category program_budget), filled from the budget account.
 */

export function envelopeAccountCode(programId: string, key: string): string {
  return `program:${programId}:envelope:${key}`;
}

/** What an envelope should hold after `appropriated` in total: its amount, or its share (rounded down to the centavo). */
export function envelopeTarget(e: Envelope, appropriated: Decimal): Decimal {
  return e.amount !== undefined ? money(e.amount) : appropriated.times(new Money(e.share!)).toDecimalPlaces(2, Decimal.ROUND_DOWN);
}

/**
 * The top-ups that bring every envelope toward its target, in the order listed, from what the
 * budget account has available: `allocated` is what each envelope received so far. An envelope
 * already at (or above) its target gets nothing; when the budget runs out, the later envelopes
 * wait for the next appropriation (design decision: fixed-amount envelopes fill in fixture order).
 */
export function envelopeTopUps(
  envelopes: readonly Envelope[],
  appropriated: Decimal,
  allocated: ReadonlyMap<string, Decimal>,
  budgetAvailable: Decimal,
): Array<{ key: string; amount: Decimal }> {
  let left = budgetAvailable;
  const out: Array<{ key: string; amount: Decimal }> = [];
  for (const e of envelopes) {
    const missing = envelopeTarget(e, appropriated).minus(allocated.get(e.key) ?? ZERO);
    const amount = Decimal.min(missing, left);
    if (amount.lte(0)) continue;
    out.push({ key: e.key, amount });
    left = left.minus(amount);
  }
  return out;
}
