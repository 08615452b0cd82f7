import { assembleRows, executionPeriod, monthsOf, NO_ZONE, PROGRAM_KEY, spendingCalendarOf, SPENDING_CALENDARS, totalsChecks, zoneOf } from '../../src/audit/execution.rules';
import { Money } from '../../src/common/money';
import { readProgramFixtures } from '../../src/programs/program-fixtures';

describe('execution rules', () => {
  it('SD spending calendar (@837641): the twelve months add up to the fixture authorized budget', () => {
    const desempleo = readProgramFixtures().find((f) => f.base === 'DESEMPLEO')!;
    const sum = Object.values(SPENDING_CALENDARS.DESEMPLEO.months).reduce((s, v) => s.plus(v), new Money(0));
    expect(sum.toFixed(2)).toBe(desempleo.rules.authorizedBudget);
    expect(Object.keys(SPENDING_CALENDARS.DESEMPLEO.months)).toHaveLength(12);
    expect(spendingCalendarOf('DESEMPLEO-2016')?.base).toBe('DESEMPLEO');
    expect(spendingCalendarOf('PENSION-AM-2016')).toBeNull();
  });

  it('periods default to the year so far; months of a period; zones from the comuna (Cali) or the alcaldía', () => {
    expect(executionPeriod({}, '2016-11-02')).toEqual({ from: '2016-01-01', to: '2016-11-02' });
    expect(executionPeriod({ to: '2016-03-31' }, '2016-11-02')).toEqual({ from: '2016-01-01', to: '2016-03-31' });
    expect(() => executionPeriod({ to: '2016-11-03' }, '2016-11-02')).toThrow(/future/);
    expect(() => executionPeriod({ from: '2016-05-01', to: '2016-04-01' }, '2016-11-02')).toThrow(/after/);
    expect(monthsOf('2016-01-15', '2016-04-01')).toEqual(['2016-01', '2016-02', '2016-03', '2016-04']);
    expect(monthsOf('2015-12-31', '2016-01-01')).toEqual(['2015-12', '2016-01']);
    expect(zoneOf({ municipality: 'Santiago de Cali', comuna: 'Comuna 3' })).toBe('Comuna 3');
    expect(zoneOf({ municipality: ' Tlalpan ' })).toBe('Tlalpan');
    expect(zoneOf({})).toBe(NO_ZONE);
  });

  it('R001 §4.3: rows fill every column, the program row last; a total that is not the sum of its parts shows its difference', () => {
    const rows = assembleRows([
      { key: PROGRAM_KEY, column: 'appropriated', amount: '37800.00' },
      { key: 'Comuna 2', column: 'executed', amount: '20000.00' },
      { key: 'Comuna 1', column: 'executed', amount: '17679.00' },
    ]);
    expect(rows.map((r) => r.key)).toEqual(['Comuna 1', 'Comuna 2', PROGRAM_KEY]);
    expect(rows[0]).toEqual({ key: 'Comuna 1', appropriated: '0.00', committed: '0.00', executed: '17679.00', reintegrated: '0.00', available: '0.00' });
    const totals = { appropriated: '37800.00', committed: '0.00', executed: '37800.00', reintegrated: '0.00', available: '0.00' };
    const checks = totalsChecks('zone', totals, rows);
    expect(checks.filter((c) => c.difference !== '0.00')).toEqual([{ what: 'executed: total vs sum of zones', total: '37800.00', sumOfParts: '37679.00', difference: '121.00' }]);
    // By month the stocks are closing balances: the total is the last month's.
    const months = assembleRows([{ key: '2016-01', column: 'available', amount: '10.00' }, { key: '2016-02', column: 'available', amount: '7.00' }]);
    expect(totalsChecks('month', { ...totals, executed: '0.00', appropriated: '0.00', available: '7.00' }, months).every((c) => c.difference === '0.00')).toBe(true);
  });
});
