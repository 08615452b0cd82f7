import { cardCollectionDeadline, cardCollectionDue, trancheActions } from '../../src/treasury/treasury.rules';
import { formatMoney, money } from '../../src/common/money';

const unproven = (a: string, b: string) => formatMoney(money(a).minus(money(b)));

describe('treasury rules', () => {
  it('P21: card delivery deadline is 30 business days after arrival, skipping weekends and federal holidays', () => {
    // 2016-03-01 is a Tuesday; Monday 21 March 2016 (Benito Juárez) is a holiday.
    expect(cardCollectionDeadline('2016-03-01', 1)).toBe('2016-03-02');
    expect(cardCollectionDeadline('2016-03-04', 1)).toBe('2016-03-07');
    expect(cardCollectionDeadline('2016-03-18', 1)).toBe('2016-03-22');
    expect(cardCollectionDeadline('2016-03-01', 30)).toBe('2016-04-13');
    // A year the calendar cannot answer is refused, never counted without holidays.
    expect(() => cardCollectionDeadline('2005-03-01', 30)).toThrow(/2005/);
  });

  it('card not collected is due only after the deadline and with enough failed visits (P22)', () => {
    const rule = { businessDays: 30, visits: 3 };
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 3, today: '2016-04-13' }, rule).due).toBe(false);
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 3, today: '2016-04-14' }, rule).due).toBe(true);
    expect(cardCollectionDue({ arrivedOn: '2016-03-01', visitDays: 2, today: '2016-06-01' }, rule).due).toBe(false);
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
});
