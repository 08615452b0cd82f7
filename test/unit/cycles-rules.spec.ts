import { money } from '../../src/common/money';
import {
  chunkRanges,
  incorporationCutoff,
  jobIds,
  lineAmountRule,
  nextPeriod,
  paymentDate,
  planTranches,
  unidadesDeCuenta,
} from '../../src/disbursements/cycles.rules';
import { ProgramRules } from '../../src/programs/program-rules';
import { RULES } from '../support/cycle-fixtures';

describe('cycle rules', () => {
  it('Unidades de cuenta round half-up to the centavo (Pensión 1,075.20; Desempleo 2,150.40)', () => {
    expect(unidadesDeCuenta('71.68', '15').toFixed(2)).toBe('1075.20');
    expect(unidadesDeCuenta('71.68', '30').toFixed(2)).toBe('2150.40');
    expect(unidadesDeCuenta('0.05', '0.5').toFixed(2)).toBe('0.03'); // 0.025 → 0.03, not banker's 0.02
  });

  it('a split must add up to the benefit (Seguro 1,500 + 37 = 1,537)', () => {
    const rule = lineAmountRule(ProgramRules.parse(RULES.seguro));
    expect(rule).toMatchObject({ mode: 'fixed' });
    if (rule.mode !== 'fixed') throw new Error('unexpected');
    expect([rule.amount.toFixed(2), rule.beneficiaryAmount.toFixed(2), rule.insurerAmount.toFixed(2)]).toEqual(['1537.00', '1500.00', '37.00']);
    const bad = ProgramRules.parse({ ...RULES.seguro, benefit: { type: 'fixed', amount: '1500.00' } });
    expect(() => lineAmountRule(bad)).toThrow(/does not add up/);
  });

  it('payment dates and the never-retroactive cutoff', () => {
    const pension = ProgramRules.parse(RULES.pension);
    expect(paymentDate(pension, '2016-03')).toBe('2016-03-01');
    const day10 = ProgramRules.parse({ ...RULES.pension, schedule: { frequency: 'monthly', dayOfMonth: 10 } });
    expect(incorporationCutoff(day10, '2016-03', paymentDate(day10, '2016-03'))).toBe('2016-03-01');
    const loads = ProgramRules.parse({ ...RULES.uniformes, schedule: { frequency: 'loads', count: 2, dates: ['2016-08-15', '2016-10-03'] } });
    expect(paymentDate(loads, '2016-10', { loadNumber: 2 })).toBe('2016-10-03');
    expect(paymentDate(ProgramRules.parse(RULES.uniformes), '2016-10', { loadNumber: 2 })).toBe('2016-10-01');
    expect(nextPeriod('2016-12')).toBe('2017-01');
  });

  it('tranche plans add up to the award exactly (the last tranche takes the remainder)', () => {
    const plan = planTranches(money('60000.01'), ProgramRules.parse(RULES.threeTranches).tranchePlan!);
    expect(plan.map((p) => p.amount)).toEqual(['30000.01', '18000.00', '12000.00']);
    expect(() => planTranches(money('100.00'), [{ amount: '60.00' }, { amount: '60.00' }])).toThrow(/does not add up/);
  });

  it('chunks and job ids', () => {
    expect(chunkRanges(25, 10)).toEqual([
      { chunk: 0, from: 1, to: 10 },
      { chunk: 1, from: 11, to: 20 },
      { chunk: 2, from: 21, to: 25 },
    ]);
    expect(chunkRanges(0, 10)).toEqual([]);
    expect(jobIds.chunk('abc', 3)).toBe('cycle.abc.chunk.3');
    expect(jobIds.chunk('abc', 3)).not.toContain(':');
  });
});
