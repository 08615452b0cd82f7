import Decimal from 'decimal.js';
import { money } from '../common/money';
import type { InKindBenefit } from '../programs/conditional-rules';

/**
 * Pure rules of in-kind deliveries (docs/in-kind.md): a delivery's value and the progress of a
 * kind against its meta física. Unit-tested in test/unit/deliveries-rules.spec.ts.
 */

/** The value of a delivery: as stated, else count × the kind's unit value; null when neither is known. Refusal for an unknown kind or a missing beneficiary. */
export function deliveryValue(
  b: InKindBenefit,
  input: { kind: string; count: number; value?: string; beneficiaryId?: string },
): { ok: true; value: Decimal | null } | { ok: false; code: string; reason: string } {
  const kind = b.deliveries[input.kind];
  if (!kind) return { ok: false, code: 'record_not_supported', reason: `this program delivers ${Object.keys(b.deliveries).join(', ')}, not ${input.kind}` };
  if (kind.requiresBeneficiary && !input.beneficiaryId) return { ok: false, code: 'record_not_allowed', reason: `a ${input.kind} delivery names the beneficiary who received it` };
  if (input.value !== undefined) return { ok: true, value: money(input.value) };
  return { ok: true, value: kind.unitValue ? money(kind.unitValue).times(input.count) : null };
}

/** Units delivered against the meta física, percent with two decimals (CP14: raciones entregadas / programadas × 100). */
export function progressPercent(delivered: number, target: number | undefined): string | null {
  if (!target) return null;
  return new Decimal(delivered).times(100).dividedBy(target).toFixed(2);
}
