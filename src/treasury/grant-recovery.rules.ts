import Decimal from 'decimal.js';
import { addBusinessDays, addDays } from '../common/calendar';
import type { RecoveryLetter, RecoveryRule } from '../programs/grant-rules';

/**
 * Pure rules of the recovery of unproven grant money (rules.recovery; docs/grants.md "Recovery"),
 * no I/O: which letters are due for a released tranche, what a demand or a rescission makes the
 * grantee owe, and when. Unit-tested in test/unit/grant-recovery-rules.spec.ts.
 */

export interface TrancheFacts {
  releasedOn: string;
  amount: Decimal;
  /** Accepted proofs of the tranche. */
  accepted: Decimal;
  /** Proofs submitted and not reviewed yet. */
  pendingProofs: number;
  /** Letters already sent: kind → the date it was sent. */
  sent: ReadonlyMap<string, string>;
}

export interface DueLetter {
  kind: RecoveryLetter['kind'];
  sentOn: string;
  /** The unproven remainder this letter demands (a receivable), or null. */
  demands: Decimal | null;
}

/**
 * The letters to send today for one released tranche, in order: each on its day (calendar days
 * after the release, or after the previous letter, which is deemed received the day it is sent:
 * design decision), dated the day it fell due, once. The demanding letter (Cooperativas: the
 * second letter) demands the unproven remainder (tranche − accepted proofs) and waits while a
 * proof is under review (design decision: the grantee delivered it; the office has not decided).
 * Nothing is due once the tranche is fully proven.
 */
export function dueLetters(letters: readonly RecoveryLetter[], t: TrancheFacts, today: string): DueLetter[] {
  const unproven = t.amount.minus(t.accepted);
  if (unproven.lte(0)) return [];
  const out: DueLetter[] = [];
  let previous: string | null = null;
  for (const letter of letters) {
    const on: string | null =
      letter.daysAfterRelease !== undefined ? addDays(t.releasedOn, letter.daysAfterRelease) : previous && addDays(previous, letter.daysAfterPreviousLetter!);
    const sent = t.sent.get(letter.kind);
    if (sent) {
      previous = sent;
      continue;
    }
    if (!on || on > today) break;
    if (letter.demands && t.pendingProofs > 0) break;
    out.push({ kind: letter.kind, sentOn: on, demands: letter.demands ? unproven : null });
    previous = on;
  }
  return out;
}

/** The day a demanded remainder is due: `payWithinDays` calendar days after the demanding letter (Cooperativas: 7). */
export function demandDueOn(rule: RecoveryRule, sentOn: string): string {
  return addDays(sentOn, rule.payWithinDays!);
}

/**
 * Rescission (PROFACE C-3): the grantee owes what it did not prove of the released tranches,
 * computed at the notification, due `payWithinBusinessDays` business days after it (20).
 */
export function rescissionDue(rule: NonNullable<RecoveryRule['rescission']>, notifiedOn: string, released: Decimal, accepted: Decimal): { amount: Decimal; dueOn: string } {
  const amount = Decimal.max(released.minus(accepted), 0);
  return { amount, dueOn: addBusinessDays(notifiedOn, rule.payWithinBusinessDays) };
}

/** A receivable unpaid after its due date goes to the legal area the day after (when the program says so). */
export function legalReferralOn(dueOn: string): string {
  return addDays(dueOn, 1);
}
