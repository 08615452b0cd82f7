import { cardCollectionDeadline, cardCollectionDue, csvField, decodeCursor, encodeCursor, isIsoDate, trancheActions } from '../../src/treasury/treasury.rules';
import { formatMoney, money } from '../../src/common/money';

const HOLIDAYS = new Set(['2016-03-21', '2016-05-01']);
const unproven = (a: string, b: string) => formatMoney(money(a).minus(money(b)));

describe('treasury rules', () => {
  it('card delivery deadline: 30 business days after arrival, skipping weekends and holidays (P21)', () => {
    // 2016-03-01 is a Tuesday; 21 March (Benito Juárez) is a holiday.
    expect(cardCollectionDeadline('2016-03-01', 1, HOLIDAYS)).toBe('2016-03-02');
    expect(cardCollectionDeadline('2016-03-04', 1, HOLIDAYS)).toBe('2016-03-07');
    expect(cardCollectionDeadline('2016-03-18', 1, HOLIDAYS)).toBe('2016-03-22');
    expect(cardCollectionDeadline('2016-03-01', 30, HOLIDAYS)).toBe('2016-04-13');
    expect(cardCollectionDeadline('2016-03-01', 30, new Set())).toBe('2016-04-12');
  });

  it('card not collected is due only after the deadline and with enough failed visits (P22)', () => {
    const rule = { businessDays: 30, visits: 3 };
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 3, today: '2016-04-13' }, rule, HOLIDAYS).due).toBe(false);
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 3, today: '2016-04-14' }, rule, HOLIDAYS).due).toBe(true);
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 2, today: '2016-06-01' }, rule, HOLIDAYS).due).toBe(false);
  });

  it('tranche letters at each reminder day, once; the demand after the deadline for the unproven part', () => {
    const base = { releasedOn: '2016-03-01', proofDueOn: '2016-04-15', amount: '50000.00', accepted: '0', pendingProofs: 0, recorded: new Set<string>() };
    expect(trancheActions(base, [30, 45, 52], '2016-03-30', unproven)).toEqual({ events: [], demand: null });
    expect(trancheActions(base, [30, 45, 52], '2016-03-31', unproven).events).toEqual([{ kind: 'reminder', day: 30, dueOn: '2016-03-31' }]);
    const late = trancheActions(base, [45, 30], '2016-04-16', unproven);
    expect(late.events.map((e) => e.kind)).toEqual(['reminder', 'warning']);
    expect(late.demand).toBe('50000.00');
    expect(trancheActions({ ...base, recorded: new Set(['reminder', 'warning']) }, [30, 45], '2016-04-15', unproven)).toEqual({ events: [], demand: null });
    expect(trancheActions({ ...base, accepted: '41234.56' }, [], '2016-04-16', unproven).demand).toBe('8765.44');
    expect(trancheActions({ ...base, accepted: '50000.00' }, [], '2016-04-16', unproven).demand).toBeNull();
    expect(trancheActions({ ...base, pendingProofs: 1 }, [], '2016-04-16', unproven).demand).toBeNull();
    expect(trancheActions({ ...base, recorded: new Set(['reintegro_demand']) }, [], '2016-05-16', unproven).demand).toBeNull();
  });

  it('cursors round-trip and refuse garbage; dates are real; CSV fields are safe', () => {
    const c = encodeCursor(new Date('2016-03-01T06:00:00Z'), '0b5f1a1e-7a55-4d1c-9f0e-0123456789ab');
    expect(decodeCursor(c)).toEqual({ createdAt: '2016-03-01T06:00:00.000Z', id: '0b5f1a1e-7a55-4d1c-9f0e-0123456789ab' });
    expect(() => decodeCursor('nonsense')).toThrow();
    expect(decodeCursor(undefined)).toBeNull();
    expect(isIsoDate('2016-02-29')).toBe(true);
    expect(isIsoDate('2015-02-29')).toBe(false);
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
  });
});
