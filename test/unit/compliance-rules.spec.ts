import { money } from '../../src/common/money';
import { paymentRefusal, paymentWindow } from '../../src/compliance/compliance.rules';
import type { OnComplianceBenefit } from '../../src/programs/conditional-rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';

/** The Comedores Comunitarios rules of fixtures/programs/22-comedores-comunitarios.json (never a copy), as pure functions. */
const fixture = readProgramFixtures().find((f) => f.base === 'COMEDORES-COMUNITARIOS')!;
const rule = fixture.rules.benefit as OnComplianceBenefit;
const invoice = (amount = '10000.00', date = '2016-11-15') => ({ date, amount: money(amount) });

describe('payments on compliance (Comedores Comunitarios CC1, CC2)', () => {
  it('CC2 @129860: the last 10 business days of November — 16 to 30 November 2016 (21 November, the Revolution holiday, and weekends do not count)', () => {
    expect(rule).toEqual({ type: 'on_compliance', amount: '10000.00', window: { month: 11, lastBusinessDays: 10 } });
    expect(paymentWindow(rule, 2016)).toEqual({ from: '2016-11-16', to: '2016-11-30' });
    // 2017: 30 Nov is a Thursday, 20 Nov the holiday.
    expect(paymentWindow(rule, 2017)).toEqual({ from: '2017-11-16', to: '2017-11-30' });
    // A window ending on a weekend ends on the last business day (2019: 30 Nov is a Saturday; 18 Nov the holiday).
    expect(paymentWindow(rule, 2019)).toEqual({ from: '2019-11-15', to: '2019-11-29' });
  });

  it('CC1 @129432 @129726, CC2 @129860 @130067: refused without a compliance, a second time in the year, outside the window, or with an invoice below the $10,000', () => {
    const compliant = { status: 'compliant' as const };
    expect(paymentRefusal(rule, 2016, null, '2016-11-18', invoice())).toMatchObject({ status: 422, code: 'compliance_not_recorded' });
    expect(paymentRefusal(rule, 2016, { status: 'paid' }, '2016-11-18', invoice())).toMatchObject({ status: 409, code: 'already_paid' });
    expect(paymentRefusal(rule, 2016, compliant, '2016-11-15', invoice())).toMatchObject({ status: 422, code: 'outside_payment_window' });
    expect(paymentRefusal(rule, 2016, compliant, '2016-12-01', invoice())).toMatchObject({ status: 422, code: 'outside_payment_window' });
    expect(paymentRefusal(rule, 2016, compliant, '2016-11-16', invoice('9999.99'))).toMatchObject({ status: 422, code: 'invoice_amount_below_support' });
    expect(paymentRefusal(rule, 2016, compliant, '2016-11-16', invoice('10000.00', '2016-11-17'))).toMatchObject({ status: 422, code: 'invoice_not_allowed' });
    expect(paymentRefusal(rule, 2016, compliant, '2016-11-16', invoice())).toBeNull();
    expect(paymentRefusal(rule, 2016, compliant, '2016-11-30', invoice('12480.50', '2016-11-30'))).toBeNull();
  });

  it('on_compliance rules: a positive amount and a window of 1 to 20 business days of a month', () => {
    const with_ = (benefit: object) => ProgramRules.safeParse({ ...fixture.rules, benefit }).success;
    expect(with_(rule)).toBe(true);
    expect(with_({ ...rule, amount: '0.00' })).toBe(false);
    expect(with_({ ...rule, window: { month: 13, lastBusinessDays: 10 } })).toBe(false);
    expect(with_({ ...rule, window: { month: 11, lastBusinessDays: 0 } })).toBe(false);
    expect(with_({ ...rule, extra: true })).toBe(false);
  });
});
