import { deliveryValue, progressPercent } from '../../src/deliveries/deliveries.rules';
import type { InKindBenefit } from '../../src/programs/conditional-rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';

/** The in-kind programs' rules from their fixture files, as pure functions. */
const benefit = (base: string) => readProgramFixtures().find((f) => f.base === base)!.rules.benefit as InKindBenefit;
const value = (base: string, input: Parameters<typeof deliveryValue>[1]) => {
  const r = deliveryValue(benefit(base), input);
  return r.ok ? (r.value === null ? null : r.value.toFixed(2)) : r.code;
};

describe('in-kind deliveries', () => {
  it('A @424593: an Aliméntate package is worth about $190 and names the family that received it', () => {
    expect(value('ALIMENTATE', { kind: 'food_package', count: 1, beneficiaryId: 'x' })).toBe('190.00');
    expect(value('ALIMENTATE', { kind: 'food_package', count: 3, beneficiaryId: 'x' })).toBe('570.00');
    expect(value('ALIMENTATE', { kind: 'food_package', count: 1 })).toBe('record_not_allowed');
    expect(value('ALIMENTATE', { kind: 'ration', count: 1, beneficiaryId: 'x' })).toBe('record_not_supported');
  });

  it('CP14 @360003, CA1 @275729: rations and services are counted per site; their value only when stated; progress against the meta', () => {
    expect(value('COMEDORES-PUBLICOS', { kind: 'ration', count: 120 })).toBeNull();
    expect(value('COMEDORES-PUBLICOS', { kind: 'ration', count: 120, value: '3150.00' })).toBe('3150.00');
    expect(value('CALLE', { kind: 'assistance_service', count: 40 })).toBeNull();
    expect(progressPercent(750000, benefit('COMEDORES-PUBLICOS').deliveries.ration.target)).toBe('25.00');
    expect(progressPercent(9000, benefit('CALLE').deliveries.assistance_service.target)).toBe('25.00');
    expect(progressPercent(5, undefined)).toBeNull();
  });
});
