import { ZERO } from '../common/money';
import type { PostingInput } from './ledger.types';

/**
 * The checks PostgreSQL also makes (ledger_post), made first in TypeScript so a programming
 * error fails with a clear message before a round trip. Returns a reason, or null when fine.
 */
export function entryProblem(postings: PostingInput[]): string | null {
  if (postings.length < 2) return 'an entry needs at least two postings';
  let net = ZERO;
  let debits = 0;
  let credits = 0;
  for (const p of postings) {
    if (!p.amount.isFinite() || p.amount.lte(0)) return `posting amount must be positive, got ${p.amount.toString()}`;
    if (p.amount.decimalPlaces() > 2) return `posting amount has more than two decimals: ${p.amount.toString()}`;
    if (p.side === 'debit') {
      net = net.plus(p.amount);
      debits++;
    } else {
      net = net.minus(p.amount);
      credits++;
    }
  }
  if (debits === 0 || credits === 0) return 'an entry needs a debit and a credit';
  if (!net.isZero()) return `entry does not balance (debits − credits = ${net.toFixed(2)})`;
  return null;
}
