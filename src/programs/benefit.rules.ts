import Decimal from 'decimal.js';
import { Money, money } from '../common/money';
import type { ProgramRules } from './program-rules';

/**
 * The amount one cycle line pays a beneficiary, from the program's rules and the beneficiary's
 * attributes (fixed at enrolment / issuance: a pupil who changes school level mid-year keeps the
 * issuance amount, a design decision for Útiles, edge case 9). Null for grants and loans, which
 * are paid per award, and for benefits computed from attendance or event records
 * (src/conditional/conditional.rules.ts).
 */
export function benefitAmount(rules: ProgramRules, attributes: Record<string, unknown> = {}): Decimal | null {
  const b = rules.benefit;
  switch (b.type) {
    case 'fixed':
      return money(b.amount);
    case 'by_attribute': {
      const key = attributes[b.attribute];
      return typeof key === 'string' && b.amounts[key] !== undefined ? money(b.amounts[key]) : null;
    }
    case 'unidades_de_cuenta':
      // Half-up to the centavo: 0.5 × 71.68 × 30 = 1075.20; 30 × 71.68 = 2150.40.
      return new Money(b.unitValue).times(new Money(b.factor)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    case 'per_award':
    case 'per_attendance':
    case 'event':
    case 'per_hour':
    case 'in_kind':
    case 'on_compliance':
      return null;
  }
}
