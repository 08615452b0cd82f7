import { assertOrderDraft, owablePeriods } from '../../src/disbursements/arrears.rules';
import { fixtureRules } from '../support/cycle-fixtures';

describe('arrears rules', () => {
  const cycle = (period: string, status = 'completed', loadNumber: number | null = null, paymentDate = `${period}-01`) => ({
    cycleId: `c-${period}`,
    period,
    loadNumber,
    paymentDate,
    status,
  });

  it('P20: only periods whose deposit cycle ran can be owed, up to the period asked, each with its incorporation cut-off (Pensión day 1)', () => {
    const rules = fixtureRules('PENSION-AM');
    const got = owablePeriods(rules, [cycle('2016-03'), cycle('2016-01'), cycle('2016-02', 'completed_with_exceptions'), cycle('2016-04', 'running'), cycle('2016-05')], '2016-04');
    expect(got.map((p) => [p.period, p.loadNo, p.cutoff])).toEqual([
      ['2016-01', 0, '2016-01-01'],
      ['2016-02', 0, '2016-02-01'],
      ['2016-03', 0, '2016-03-01'],
    ]);
  });

  it('U8/T4 (Útiles): a voucher load is owable as its load number, cut off at its payment date', () => {
    const rules = fixtureRules('UTILES');
    expect(owablePeriods(rules, [cycle('2016-08', 'completed', 1, '2016-08-15')], '2016-12')).toEqual([
      { cycleId: 'c-2016-08', period: '2016-08', loadNo: 1, paymentDate: '2016-08-15', cutoff: '2016-08-15' },
    ]);
  });

  it('a payment order is approved or cancelled only while a draft', () => {
    expect(() => assertOrderDraft('draft', 'approve')).not.toThrow();
    expect(() => assertOrderDraft('posted', 'approve')).toThrow(expect.objectContaining({ code: 'invalid_payment_order_state' }));
    expect(() => assertOrderDraft('cancelled', 'cancel')).toThrow(/only a draft can be cancelled/);
  });
});
