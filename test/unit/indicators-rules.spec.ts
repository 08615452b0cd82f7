import { addBusinessDays, businessDaysBetween } from '../../src/common/calendar';
import { deliveryBusinessDays, indicatorPeriod, indicatorsOf, indicatorValue, INDICATORS, isMeasure, UNRECORDED } from '../../src/audit/indicators.rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';

describe('indicator rules', () => {
  it('P21 business days: weekends and holidays do not count, the arrival day does not, the delivery day does', () => {
    // 2016-03-21 is the third Monday of March (a holiday).
    expect(businessDaysBetween('2016-03-17', '2016-03-22')).toBe(2); // Fri 18, Tue 22
    expect(businessDaysBetween('2016-03-01', '2016-03-01')).toBe(0);
    expect(businessDaysBetween('2016-03-10', '2016-03-01')).toBe(0);
    for (const n of [1, 5, 30]) expect(businessDaysBetween('2016-03-01', addBusinessDays('2016-03-01', n))).toBe(n);
  });

  it('P57 sums business days per (arrival, delivery) group, weighted by cards', () => {
    expect(deliveryBusinessDays([
      { arrivedOn: '2016-03-17', deliveredOn: '2016-03-22', cards: 3 },
      { arrivedOn: '2016-03-01', deliveredOn: '2016-03-04', cards: 1 },
    ])).toEqual({ cards: 4, businessDays: 2 * 3 + 3 });
    expect(deliveryBusinessDays([])).toEqual({ cards: 0, businessDays: 0 });
  });

  it('P60 quarters are cumulative from 1 January and never run past today; asOf counts from 1 January of its year', () => {
    expect(indicatorPeriod({ quarter: '2016-Q2' }, '2016-12-01')).toEqual({ from: '2016-01-01', to: '2016-06-30', quarter: '2016-Q2' });
    expect(indicatorPeriod({ quarter: '2016-Q1' }, '2016-12-01')).toEqual({ from: '2016-01-01', to: '2016-03-31', quarter: '2016-Q1' });
    expect(indicatorPeriod({ quarter: '2016-Q4' }, '2016-11-15')).toEqual({ from: '2016-01-01', to: '2016-11-15', quarter: '2016-Q4' });
    expect(indicatorPeriod({ asOf: '2016-05-10' }, '2016-12-01')).toEqual({ from: '2016-01-01', to: '2016-05-10', quarter: null });
    expect(indicatorPeriod({}, '2016-12-01')).toEqual({ from: '2016-01-01', to: '2016-12-01', quarter: null });
    expect(() => indicatorPeriod({ asOf: '2016-12-02' }, '2016-12-01')).toThrow(/future/);
    expect(() => indicatorPeriod({ quarter: '2017-Q1' }, '2016-12-01')).toThrow(/not started/);
    expect(() => indicatorPeriod({ asOf: '2016-05-10', quarter: '2016-Q2' }, '2016-12-01')).toThrow(/not both/);
    expect(() => indicatorPeriod({ asOf: '2016-02-30' }, '2016-12-01')).toThrow();
  });

  it('values: percent × 100, P57 as a plain mean in business days, null without a base or a recorded measure', () => {
    expect(indicatorValue('percent', '1', '3')).toBe('33.33');
    expect(indicatorValue('business_days', '9', '4')).toBe('2.25');
    expect(indicatorValue('percent', '1', '0')).toBeNull();
    expect(indicatorValue('percent', null, '3')).toBeNull();
  });

  it('every program fixture with a seed formula has its indicators, each naming a seed id and measures that exist', () => {
    const bases = readProgramFixtures().map((f) => f.base);
    for (const base of Object.keys(INDICATORS)) expect(bases).toContain(base);
    for (const [base, defs] of Object.entries(INDICATORS)) {
      expect(defs.length).toBeGreaterThan(0);
      for (const d of defs) {
        expect(d.id).toMatch(/^[A-Z][A-Z0-9.-]+$/);
        for (const k of [d.numerator, d.denominator]) expect(isMeasure(k) || k in UNRECORDED).toBe(true);
      }
      expect(indicatorsOf(`${base}-2016`).base).toBe(base);
      expect(indicatorsOf(`${base}-2016-Tabc`).definitions).toBe(defs);
    }
    expect(indicatorsOf('PENSION-AM-2016').definitions.map((d) => d.id)).toEqual(['P54', 'P56', 'P57', 'P58']);
    expect(indicatorsOf('UNIFORMES-2016').definitions.map((d) => d.id)).toEqual(['U20', 'U20.2']);
    expect(indicatorsOf('FONAES-2013')).toEqual({ base: null, definitions: [] });
  });
});
