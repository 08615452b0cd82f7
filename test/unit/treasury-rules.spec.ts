import { cardCollectionDeadline, cardCollectionDue } from '../../src/treasury/treasury.rules';

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
});
