import { bajaEffect, bajaPlan, DEACTIVATION_CAUSES, reentryDecision } from '../../src/beneficiaries/beneficiaries.rules';
import { buildCurp, curpBirthDate, curpCheckDigit, curpProblem, isRealDate, maskCurp } from '../../src/beneficiaries/curp.rules';
import { evaluateEligibility, wholeYearsBetween } from '../../src/beneficiaries/eligibility.rules';
import { padronLines } from '../../src/beneficiaries/padron-generator';
import { headerIndex, parsePadronRow } from '../../src/beneficiaries/padron-row.rules';
import { generateInstrumentNumber, isInstrumentNumber, luhnCheckDigit } from '../../src/instruments/instrument-number.rules';
import { benefitAmount } from '../../src/programs/benefit.rules';
import { fixtureCode, moveDateToYear, readProgramFixtures, rulesForFiscalYear } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';

const fixtures = readProgramFixtures();
const fixture = (base: string) => fixtures.find((f) => f.base === base)!;

describe('CURP', () => {
  // Real CURPs published by RENAPO's own instructions and public records.
  it.each(['HEGG560427MVZRRL04', 'LOOA531113HTCPBN07', 'MAAR790213HMNRLF03'])('accepts the real CURP %s', (curp) => {
    expect(curpProblem(curp)).toBeNull();
  });

  it('computes the RENAPO check digit', () => {
    expect(curpCheckDigit('HEGG560427MVZRRL0')).toBe(4);
    expect(curpCheckDigit('LOOA531113HTCPBN0')).toBe(7);
  });

  it('refuses a wrong check digit, a bad layout, an unknown state and an impossible date', () => {
    expect(curpProblem('HEGG560427MVZRRL05')).toBe('check_digit');
    expect(curpProblem('HEGG560427MVZRRL0')).toBe('format');
    expect(curpProblem('hegg560427mvzrrl04')).toBe('format');
    expect(curpProblem('HEGG560427MXXRRL04')).toBe('format');
    expect(curpProblem('HEGG560231MVZRRL04')).toBe('date');
  });

  it('reads the birth date with the century from the homoclave', () => {
    expect(curpBirthDate('HEGG560427MVZRRL04')).toBe('1956-04-27');
    const young = buildCurp({ givenNames: 'Sofía', firstSurname: 'Pérez', secondSurname: 'López', birthDate: '2009-08-31', sex: 'M', state: 'DF', homoclave: 'A' });
    expect(curpBirthDate(young)).toBe('2009-08-31');
  });

  it('builds valid CURPs from personal data, as RENAPO does for a known person', () => {
    const amlo = buildCurp({ givenNames: 'Andrés Manuel', firstSurname: 'López', secondSurname: 'Obrador', birthDate: '1953-11-13', sex: 'H', state: 'TC', homoclave: '0' });
    expect(amlo).toBe('LOOA531113HTCPBN07');
    const maria = buildCurp({ givenNames: 'María Guadalupe', firstSurname: 'Núñez', secondSurname: 'de la Cruz', birthDate: '1948-02-29', sex: 'M', state: 'DF', homoclave: '3' });
    expect(maria.slice(0, 4)).toBe('NUCG'); // María is skipped, "de la" particles skipped, Ñ → X
    expect(curpProblem(maria)).toBeNull();
  });

  it('masks a CURP for logs', () => {
    expect(maskCurp('HEGG560427MVZRRL04')).toBe('HEGG************04');
  });

  it('knows real dates', () => {
    expect(isRealDate('2016-02-29')).toBe(true);
    expect(isRealDate('2015-02-29')).toBe(false);
    expect(isRealDate('2016-04-31')).toBe(false);
    expect(isRealDate('2016-4-01')).toBe(false);
  });
});

describe('instrument numbers', () => {
  it('computes Luhn check digits (known card test numbers)', () => {
    expect(luhnCheckDigit('411111111111111')).toBe(1);
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(isInstrumentNumber('4111111111111111')).toBe(true);
    expect(isInstrumentNumber('4111111111111112')).toBe(false);
  });

  it('draws 16-digit Luhn numbers that do not follow from each other', () => {
    const numbers = Array.from({ length: 2000 }, generateInstrumentNumber);
    expect(numbers.every(isInstrumentNumber)).toBe(true);
    expect(new Set(numbers).size).toBe(numbers.length);
    // Not sequential: consecutive draws differ by far more than a counter step.
    const gaps = numbers.slice(1).map((n, i) => Math.abs(Number(n.slice(0, 12)) - Number(numbers[i].slice(0, 12))));
    expect(gaps.filter((g) => g < 1000).length).toBeLessThan(5);
    // Every payload digit position takes many values.
    for (let pos = 1; pos < 15; pos++) expect(new Set(numbers.map((n) => n[pos])).size).toBe(10);
  });
});

describe('eligibility at the application date', () => {
  const pension = fixture('PENSION-AM').rules;
  const applicant = (birthDate: string, extra: Partial<{ state: string; residenceSince: string }> = {}) => ({
    birthDate,
    address: { state: extra.state ?? 'DF' },
    attributes: { residenceSince: extra.residenceSince ?? '2000-01-01' },
  });

  it('counts whole years (birthday on the day counts; 29 February turns on 1 March)', () => {
    expect(wholeYearsBetween('1948-03-01', '2016-03-01')).toBe(68);
    expect(wholeYearsBetween('1948-03-02', '2016-03-01')).toBe(67);
    expect(wholeYearsBetween('1948-02-29', '2017-02-28')).toBe(68);
    expect(wholeYearsBetween('1948-02-29', '2017-03-01')).toBe(69);
  });

  it('Pensión: 68 on the application date is eligible; turning 68 the day after filing is not (edge case 7)', () => {
    expect(evaluateEligibility(pension, applicant('1948-03-01'), '2016-03-01')).toEqual({ eligible: true });
    const late = evaluateEligibility(pension, applicant('1948-03-02'), '2016-03-01');
    expect(late).toMatchObject({ eligible: false, rule: 'eligibility.minAge' });
    // …even though by the time the officer types it in the person is 68: only the application date counts.
    expect(evaluateEligibility(pension, applicant('1948-03-02'), '2016-03-02')).toEqual({ eligible: true });
  });

  it('Pensión: three years of residence in the Distrito Federal at the application (P4)', () => {
    expect(evaluateEligibility(pension, applicant('1940-01-01', { residenceSince: '2013-03-01' }), '2016-03-01')).toEqual({ eligible: true });
    expect(evaluateEligibility(pension, applicant('1940-01-01', { residenceSince: '2013-03-02' }), '2016-03-01')).toMatchObject({ rule: 'eligibility.minResidenceYears' });
    expect(evaluateEligibility(pension, applicant('1940-01-01', { state: 'MC' }), '2016-03-01')).toMatchObject({ rule: 'eligibility.residenceStates' });
    expect(evaluateEligibility(pension, { birthDate: '1940-01-01', address: { state: 'DF' }, attributes: {} }, '2016-03-01')).toMatchObject({
      rule: 'eligibility.minResidenceYears',
    });
  });

  it('Útiles: school level required and must be one with an amount', () => {
    const utiles = fixture('UTILES').rules;
    const pupil = (schoolLevel?: string) => ({ birthDate: '2008-05-05', address: { state: 'DF' }, attributes: schoolLevel ? { schoolLevel } : {} });
    expect(evaluateEligibility(utiles, pupil('primaria'), '2016-08-01')).toEqual({ eligible: true });
    expect(evaluateEligibility(utiles, pupil('bachillerato'), '2016-08-01')).toMatchObject({ rule: 'eligibility.schoolLevels' });
    expect(evaluateEligibility(utiles, pupil(), '2016-08-01')).toMatchObject({ eligible: false });
    expect(evaluateEligibility(utiles, { ...pupil('primaria'), address: { state: 'MC' } }, '2016-08-01')).toMatchObject({ rule: 'eligibility.residenceStates' });
  });

  it('Desempleo: once every two years from the last payment', () => {
    const d = fixture('DESEMPLEO').rules;
    const person = (lastPaymentAt?: string) => ({ birthDate: '1980-01-01', address: { state: 'DF' }, attributes: lastPaymentAt ? { lastPaymentAt } : {} });
    expect(evaluateEligibility(d, person(), '2016-06-01')).toEqual({ eligible: true });
    expect(evaluateEligibility(d, person('2014-06-01'), '2016-06-01')).toEqual({ eligible: true });
    expect(evaluateEligibility(d, person('2014-06-02'), '2016-06-01')).toMatchObject({ rule: 'eligibility.oncePerYears' });
  });
});

describe('baja and reingreso rules', () => {
  it('allows three re-entries and refuses the fourth (P43)', () => {
    expect(reentryDecision(0, 3, 'not_located')).toEqual({ allowed: true });
    expect(reentryDecision(2, 3, 'not_located')).toEqual({ allowed: true });
    expect(reentryDecision(3, 3, 'not_located')).toMatchObject({ allowed: false, code: 'reentry_limit_reached' });
    expect(reentryDecision(0, 3, 'death')).toMatchObject({ allowed: false, code: 'reentry_not_allowed' });
  });

  it('P22: an uncollected card is cancelled and its balance reintegrated whatever onBaja says; a reintegro baja blocks the others', () => {
    expect(bajaPlan(fixture('PENSION-AM').rules, 'card_not_collected')).toEqual({ instruments: 'cancelled', reintegrateInstruments: true, reintegratePayable: true });
    expect(bajaPlan(fixture('PENSION-AM').rules, 'death')).toEqual({ instruments: 'blocked', reintegrateInstruments: true, reintegratePayable: true });
    expect(bajaPlan(fixture('SEGURO-VF').rules, 'card_not_collected')).toMatchObject({ instruments: 'cancelled', reintegrateInstruments: true, reintegratePayable: false });
  });

  it('P42: the whole-balance reintegro is the Pensión rule for every cause; Desempleo (SD-2) and Seguro keep what was paid on term_completed', () => {
    for (const cause of DEACTIVATION_CAUSES) expect(bajaEffect(fixture('PENSION-AM').rules, cause)).toBe('reintegro');
    expect(bajaPlan(fixture('DESEMPLEO').rules, 'term_completed')).toEqual({ instruments: 'unchanged', reintegrateInstruments: false, reintegratePayable: false });
    expect(bajaPlan(fixture('SEGURO-VF').rules, 'term_completed')).toEqual({ instruments: 'unchanged', reintegrateInstruments: false, reintegratePayable: false });
  });

  it('onBaja of every fixture, cause by cause (design decisions where the seed is silent)', () => {
    const reintegroCauses = (base: string) => DEACTIVATION_CAUSES.filter((c) => bajaEffect(fixture(base).rules, c) === 'reintegro');
    expect(reintegroCauses('PENSION-AM')).toEqual([...DEACTIVATION_CAUSES]);
    expect(reintegroCauses('UNIFORMES')).toEqual([...DEACTIVATION_CAUSES]);
    expect(reintegroCauses('UTILES')).toEqual([...DEACTIVATION_CAUSES]);
    // SD-14 (false information suspends the transfer), duplicates, SD-13 (card not collected: the trámite is cancelled).
    expect(reintegroCauses('DESEMPLEO')).toEqual(['duplicate_registration', 'false_information', 'card_not_collected']);
    // S6: false information and applications in two or more units.
    expect(reintegroCauses('SEGURO-VF')).toEqual(['duplicate_registration', 'false_information']);
    // A program that says nothing keeps the old behaviour: reintegro.
    expect(bajaEffect({}, 'term_completed')).toBe('reintegro');
  });
});

describe('seed program fixtures', () => {
  it('ships every program of DOMAIN.md in table order (then the Cali fund and its seed capital of seed 001, issue 16, then Comedores Comunitarios, issue 18), each valid and citing its rules', () => {
    expect(fixtures.map((f) => fixtureCode(f, f.seedYear))).toEqual([
      'PENSION-AM-2016', 'UNIFORMES-2016', 'UTILES-2016', 'SEGURO-VF-2016', 'DESEMPLEO-2016', 'PROFACE-2016', 'COOPERATIVAS-2016',
      'ECONOMIA-SOCIAL-2020', 'FONAES-2013', 'FONDESOC-2020', 'REINSERCION-2016', 'MI-PRIMER-TRABAJO-2016', 'TRABAJO-DIGNO-SCAPAT-2016', 'PACTYFP-2016', 'COINVERSION-2016', 'PROFAIS-2016', 'COMEDORES-PUBLICOS-2016', 'ALIMENTATE-2016', 'CALLE-2016',
      'CALI-FONDO-SOLIDARIO-2022', 'CALI-CAPITAL-SEMILLA-2022', 'COMEDORES-COMUNITARIOS-2016',
    ]);
    for (const f of fixtures) expect(f.rules.notes?.length).toBeGreaterThan(0);
  });

  it('carries the seed figures', () => {
    expect(benefitAmount(fixture('PENSION-AM').rules)?.toFixed(2)).toBe('1075.20');
    expect(benefitAmount(fixture('DESEMPLEO').rules)?.toFixed(2)).toBe('2150.40');
    expect(benefitAmount(fixture('UNIFORMES').rules)?.toFixed(2)).toBe('150.00');
    expect(fixture('UNIFORMES').rules.schedule).toMatchObject({ frequency: 'loads', count: 2 });
    const utiles = fixture('UTILES').rules;
    expect(['preescolar', 'primaria', 'secundaria'].map((l) => benefitAmount(utiles, { schoolLevel: l })?.toFixed(2))).toEqual(['60.00', '110.00', '150.00']);
    const seguro = fixture('SEGURO-VF');
    expect(seguro.confidential).toBe(true);
    expect(seguro.rules.split?.map((s) => s.amount)).toEqual(['1500.00', '37.00']);
    expect(seguro.rules.maxMonths).toEqual({ default: 12, withAuthorization: 18 });
    expect(fixture('DESEMPLEO').rules.maxMonths?.default).toBe(6);
    expect(fixture('PENSION-AM').rules).toMatchObject({ authorizedBudget: '6676950641.00', targetBeneficiaries: 510000, reentryLimit: 3, schedule: { dayOfMonth: 1 } });
    expect(fixture('PENSION-AM').rules.eligibility).toEqual({ minAge: 68, minResidenceYears: 3, residenceStates: ['DF'] });
    expect(fixture('FONDESOC').rules).toMatchObject({ loan: { principalMin: '10000.00', principalMax: '10000.00', maxLoans: 50000 }, authorizedBudget: '500000000.00', targetBeneficiaries: 50000 });
    expect(fixture('FONAES').rules.trancheThreshold).toEqual({ amount: '600000.00', minTranches: 2 });
    expect(fixture('COOPERATIVAS').rules.tranchePlan?.[0]).toMatchObject({ proofDueCalendarDays: 45 });
  });

  it('moves every date to another fiscal year, amounts unchanged', () => {
    const u = fixture('UNIFORMES');
    const moved = rulesForFiscalYear(u.rules, 2016, 2025);
    expect(moved.voucherExpiresOn).toBe('2025-12-31');
    expect(moved.benefit).toEqual(u.rules.benefit);
    expect(moveDateToYear('2016-02-29', 2017)).toBe('2017-02-28');
    const withDates: ProgramRules = { ...u.rules, schedule: { frequency: 'loads', count: 2, dates: ['2016-08-15', '2017-01-10'] } };
    expect(rulesForFiscalYear(withDates, 2016, 2020).schedule).toMatchObject({ dates: ['2020-08-15', '2021-01-10'] });
  });
});

describe('padrón CSV rows and generator', () => {
  const rules = fixture('PENSION-AM').rules;
  const lines = [...padronLines({ rows: 300, seed: 7, rules, applicationDate: '2016-01-15' })];
  const header = lines[0].trim().split(',');
  const index = headerIndex(header);

  it('writes realistic rows with valid, unique CURPs that pass the program rules', () => {
    expect(lines).toHaveLength(301);
    const curps = lines.slice(1).map((l) => l.split(',')[0]);
    expect(new Set(curps).size).toBe(300);
    for (const line of lines.slice(1)) {
      const r = parsePadronRow(line.trim().split(','), index, header.length, rules, '2016-06-01');
      expect(r).toMatchObject({ ok: true });
    }
  });

  it('is reproducible from its seed', () => {
    expect([...padronLines({ rows: 20, seed: 7, rules, applicationDate: '2016-01-15' })]).toEqual(lines.slice(0, 21));
  });

  it('explains why a row is refused', () => {
    const fields = lines[1].trim().split(',');
    const at = (name: string) => index.get(name)!;
    const variant = (name: string, value: string) => fields.map((f, i) => (i === at(name) ? value : f));
    const reason = (row: string[]) => {
      const r = parsePadronRow(row, index, header.length, rules, '2016-06-01');
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(variant('curp', fields[0].slice(0, 17) + String((Number(fields[0][17]) + 1) % 10)))).toMatch(/^invalid_curp: .*check digit/);
    expect(reason(variant('given_names', ''))).toMatch(/given_names/);
    expect(reason(variant('birth_date', '1940-01-01'))).toMatch(/does not match/);
    expect(reason(variant('state', 'MC'))).toMatch(/^not_eligible: eligibility.residenceStates/);
    expect(reason(variant('application_date', '2017-01-01'))).toMatch(/future/);
    expect(reason(fields.slice(1))).toMatch(/expected 13 fields/);
  });
});
