import { duration, groupInt, groupMoney } from '../../src/demo/demo-report';

describe('demo report formatting', () => {
  it('groups money strings by thousands without floating point', () => {
    expect(groupMoney('6676950641.00')).toBe('6,676,950,641.00');
    expect(groupMoney('999.50')).toBe('999.50');
    expect(groupMoney('-1234.05')).toBe('-1,234.05');
    expect(groupMoney('12345678901234567.89')).toBe('12,345,678,901,234,567.89');
    expect(groupInt(100000)).toBe('100,000');
  });

  it('writes durations in seconds, or minutes and seconds', () => {
    expect(duration(4.25)).toBe('4.3 s');
    expect(duration(125)).toBe('2 min 5 s');
  });
});
