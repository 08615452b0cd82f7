import { rolloverPlan } from '../../src/programs/rollover.rules';
import { fixtureRules } from '../support/cycle-fixtures';

describe('rollover rules', () => {
  it('M15: the next year is <BASE>-<YEAR> with the same rules, their dates moved to the new year (Útiles expiry 2017-12-31)', () => {
    const rules = fixtureRules('UTILES');
    const plan = rolloverPlan({ lineage: 'UTILES', fiscalYear: 2016, instrumentType: 'voucher', rules }, { fiscalYear: 2017 });
    expect(plan.code).toBe('UTILES-2017');
    expect(plan.rules).toMatchObject({ voucherExpiresOn: '2017-12-31', benefit: rules.benefit });
  });

  it('M15: new rules (a new Unidad de Cuenta) replace the old ones', () => {
    const rules = fixtureRules('PENSION-AM');
    const next = { ...rules, benefit: { type: 'unidades_de_cuenta', unitValue: '73.04', factor: '15' } };
    expect(rolloverPlan({ lineage: 'PENSION-AM', fiscalYear: 2016, instrumentType: 'card', rules }, { fiscalYear: 2017, rules: next }).rules).toBe(next);
  });

  it('goes forward only, and only for programs paid by schedule (grants and loans are awarded per year)', () => {
    const rules = fixtureRules('PENSION-AM');
    expect(() => rolloverPlan({ lineage: 'PENSION-AM', fiscalYear: 2016, instrumentType: 'card', rules }, { fiscalYear: 2016 })).toThrow(
      expect.objectContaining({ code: 'invalid_fiscal_year' }),
    );
    expect(() => rolloverPlan({ lineage: 'FONAES', fiscalYear: 2016, instrumentType: 'grant', rules: fixtureRules('FONAES') }, { fiscalYear: 2017 })).toThrow(
      expect.objectContaining({ code: 'rollover_not_supported' }),
    );
  });
});
