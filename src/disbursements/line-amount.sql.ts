import { ApiProblem } from '../common/problem';
import type { LineAmountRule } from './cycles.rules';

/**
 * A line's amounts as SQL over a beneficiary row aliased `b` (deposit and arrears drafts share it):
 * one fixed amount (with its split), the amount of the beneficiary's attribute (Útiles by school
 * level), or, for programs paid from records (src/conditional), the amount the records give each
 * beneficiary (`recordAmounts`, by beneficiary id; nothing recorded, no line). `p` adds a bind
 * parameter and returns its placeholder.
 */
export function lineAmountSql(
  rule: LineAmountRule,
  p: (v: unknown) => string,
  recordAmounts?: Record<string, string>,
): { amount: string; beneficiaryAmount: string; insurerAmount: string; noAmount: string } {
  if (rule.mode === 'fixed') {
    return {
      amount: `${p(rule.amount.toFixed(2))}::numeric`,
      beneficiaryAmount: `${p(rule.beneficiaryAmount.toFixed(2))}::numeric`,
      insurerAmount: `${p(rule.insurerAmount.toFixed(2))}::numeric`,
      noAmount: 'NULL',
    };
  }
  if (rule.mode === 'by_attribute') {
    const amount = `(${p(JSON.stringify(rule.amounts))}::jsonb ->> (b.attributes ->> ${p(rule.attribute)}))::numeric`;
    return { amount, beneficiaryAmount: amount, insurerAmount: '0::numeric', noAmount: `'no_amount_for_' || ${p(rule.attribute)}` };
  }
  if (rule.mode === 'records' && recordAmounts) {
    const amount = `(${p(JSON.stringify(recordAmounts))}::jsonb ->> b.id::text)::numeric`;
    return { amount, beneficiaryAmount: amount, insurerAmount: '0::numeric', noAmount: `'nothing_recorded'` };
  }
  throw new ApiProblem(422, 'cycle_kind_not_supported', 'this program pays per award');
}
