import { cardCollectionDeadline, cardCollectionDue, uuidRanges } from '../../src/treasury/treasury.rules';

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

  it('voucher sweep ranges are disjoint and cover every uuid, in equal slices', () => {
    expect(uuidRanges(1)).toEqual([{ after: null, until: null }]);
    expect(uuidRanges(2)).toEqual([
      { after: null, until: '7fffffff-ffff-ffff-ffff-ffffffffffff' },
      { after: '7fffffff-ffff-ffff-ffff-ffffffffffff', until: null },
    ]);
    const four = uuidRanges(4);
    expect(four.map((r) => r.until)).toEqual([
      '3fffffff-ffff-ffff-ffff-ffffffffffff', '7fffffff-ffff-ffff-ffff-ffffffffffff', 'bfffffff-ffff-ffff-ffff-ffffffffffff', null,
    ]);
    // Each range starts (exclusive) where the one before ends (inclusive): no gap, no overlap.
    for (let k = 1; k < four.length; k++) expect(four[k].after).toBe(four[k - 1].until);
    for (const n of [3, 7, 16]) {
      const r = uuidRanges(n);
      expect(r).toHaveLength(n);
      for (let k = 1; k < n; k++) expect(r[k].after).toBe(r[k - 1].until);
      for (let k = 1; k < n - 1; k++) expect(r[k].until! > r[k].after!).toBe(true);
    }
  });
});
