import { assertIncorporation, roomInTarget, waitDeadline, waitStatus } from '../../src/beneficiaries/waiting-list.rules';

describe('waiting list rules', () => {
  it('P17: the six months end on the same day six months later, or the end of a shorter month', () => {
    expect(waitDeadline('2016-01-09')).toBe('2016-07-09');
    expect(waitDeadline('2016-08-31')).toBe('2017-02-28');
    expect(waitStatus('2016-01-09', '2016-07-09')).toEqual({ waitingDays: 182, deadline: '2016-07-09', overdue: false });
    expect(waitStatus('2016-01-09', '2016-07-10').overdue).toBe(true);
  });

  it('P18 P20: incorporation in filing order (or with a priority reason), never before the application nor in the future', () => {
    const base = { applicationDate: '2016-01-05', incorporatedOn: '2016-03-10', today: '2016-03-15', earlierWaiting: 0 };
    expect(() => assertIncorporation(base)).not.toThrow();
    expect(() => assertIncorporation({ ...base, earlierWaiting: 2 })).toThrow(expect.objectContaining({ code: 'out_of_filing_order' }));
    expect(() => assertIncorporation({ ...base, earlierWaiting: 2, priorityReason: 'marginación' })).not.toThrow();
    expect(() => assertIncorporation({ ...base, incorporatedOn: '2016-01-04' })).toThrow(expect.objectContaining({ code: 'incorporation_before_application' }));
    expect(() => assertIncorporation({ ...base, incorporatedOn: '2016-03-16' })).toThrow(expect.objectContaining({ code: 'incorporation_in_future' }));
  });

  it('meta física: room while active < targetBeneficiaries', () => {
    expect(roomInTarget(510000, 509999)).toBe(true);
    expect(roomInTarget(1, 1)).toBe(false);
    expect(roomInTarget(undefined, 10)).toBe(true);
  });
});
