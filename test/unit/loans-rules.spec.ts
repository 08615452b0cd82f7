import { addMonths } from '../../src/common/calendar';
import { money, sumMoney } from '../../src/common/money';
import { ApiProblem } from '../../src/common/problem';
import { ageingBucket, allocateRepayment, assertEnrolmentOpen, buildSchedule, checkApplication, daysPastDue, parseRepaymentCsv } from '../../src/loans/loans.rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';

/** The loan rules of the seed fixtures (fixtures/programs, never copies), as pure functions. */
const rules = (base: string) => readProgramFixtures().find((f) => f.base === base)!.rules;
const fondesoc = rules('FONDESOC');
const cali = rules('CALI-FONDO-SOLIDARIO');

const problemOf = (f: () => unknown): { code: string; status: number } | null => {
  try {
    f();
    return null;
  } catch (error) {
    if (error instanceof ApiProblem) return { code: error.code, status: error.status };
    throw error;
  }
};

describe('loan product (rules.loan)', () => {
  it('R000-01: FONDESOC lends exactly 10,000.00; any other principal → 422 invalid_principal', () => {
    expect(checkApplication(fondesoc.loan!, money('10000.00'), undefined)).toBeNull();
    expect(problemOf(() => checkApplication(fondesoc.loan!, money('9999.99'), undefined))).toEqual({ code: 'invalid_principal', status: 422 });
    expect(problemOf(() => checkApplication(fondesoc.loan!, money('10000.01'), undefined))).toEqual({ code: 'invalid_principal', status: 422 });
    expect(fondesoc.loan).toMatchObject({ maxLoans: 50000, revolving: false });
    expect(fondesoc.authorizedBudget).toBe('500000000.00');
  });

  it('R001-01: the Cali fund revolves and has a microcredit and a working-capital line, each with its own bounds', () => {
    expect(cali.loan!.revolving).toBe(true);
    expect(cali.loan!.lines!.map((l) => l.key)).toEqual(['microcredito', 'capital-de-trabajo']);
    expect(checkApplication(cali.loan!, money('5000000.00'), 'microcredito')).toBe('microcredito');
    expect(problemOf(() => checkApplication(cali.loan!, money('5000000.01'), 'microcredito'))).toEqual({ code: 'invalid_principal', status: 422 });
    expect(checkApplication(cali.loan!, money('8000000.00'), 'capital-de-trabajo')).toBe('capital-de-trabajo');
    expect(problemOf(() => checkApplication(cali.loan!, money('900000.00'), 'capital-de-trabajo'))).toEqual({ code: 'invalid_principal', status: 422 });
    expect(problemOf(() => checkApplication(cali.loan!, money('1000000.00'), undefined))).toEqual({ code: 'invalid_loan_line', status: 422 });
    expect(problemOf(() => checkApplication(cali.loan!, money('1000000.00'), 'vivienda'))).toEqual({ code: 'invalid_loan_line', status: 422 });
    expect(problemOf(() => checkApplication(fondesoc.loan!, money('10000.00'), 'microcredito'))).toEqual({ code: 'invalid_loan_line', status: 422 });
  });

  it('refuses inconsistent products: bounds reversed, a line outside the product, a repeated line', () => {
    const bad = (loan: Record<string, unknown>) => ProgramRules.safeParse({ ...cali, loan: { ...cali.loan, ...loan } }).success;
    expect(bad({})).toBe(true);
    expect(bad({ principalMin: '20000000.00' })).toBe(false);
    expect(bad({ lines: [{ key: 'a', label: 'A', principalMin: '100.00', principalMax: '200.00' }] })).toBe(false);
    expect(bad({ lines: [cali.loan!.lines![0], cali.loan!.lines![0]] })).toBe(false);
    expect(bad({ principalMin: '0.10', principalMax: '1.00', instalments: 12, lines: undefined })).toBe(false);
  });
});

describe('enrolment window (rules.enrolment)', () => {
  it('R001-02: Cali applications are taken until 2022-12-15 inclusive; 2022-12-16 → 422 enrolment_closed', () => {
    expect(problemOf(() => assertEnrolmentOpen(cali.enrolment, '2022-12-15'))).toBeNull();
    expect(problemOf(() => assertEnrolmentOpen(cali.enrolment, '2022-12-16'))).toEqual({ code: 'enrolment_closed', status: 422 });
    expect(problemOf(() => assertEnrolmentOpen(cali.enrolment, '2021-12-31'))).toEqual({ code: 'enrolment_closed', status: 422 });
    expect(problemOf(() => assertEnrolmentOpen(undefined, '2030-01-01'))).toBeNull();
  });

  it('R001-03: the window belongs to its agreement; the closing message says a new term needs a new agreement', () => {
    expect(cali.enrolment!.agreement).toMatch(/Convenio/);
    let detail = '';
    try {
      assertEnrolmentOpen(cali.enrolment, '2023-01-10');
    } catch (error) {
      detail = (error as ApiProblem).detail;
    }
    expect(detail).toMatch(/closed on 2022-12-15; a new term opens with a new agreement/);
    expect(ProgramRules.safeParse({ ...cali, enrolment: { ...cali.enrolment, opensOn: '2023-01-01' } }).success).toBe(false);
  });
});

describe('schedule', () => {
  it('R000-02: 10,000.00 over the fixture instalments after its grace months: equal to the centavo, remainder on the last, sum exact', () => {
    const { graceMonths, instalments } = fondesoc.loan!;
    const s = buildSchedule(money('10000.00'), graceMonths, instalments, '2020-05-15');
    expect(s).toHaveLength(instalments);
    expect(s[0].dueOn).toBe(addMonths('2020-05-15', graceMonths + 1));
    expect(s.slice(0, -1).every((i) => i.amount.toFixed(2) === '833.33')).toBe(true);
    expect(s[s.length - 1].amount.toFixed(2)).toBe('833.37');
    expect(sumMoney(s.map((i) => i.amount)).toFixed(2)).toBe('10000.00');
  });

  it('R000-02: sums exactly for every count from 1 to 60 and awkward principals', () => {
    for (const principal of ['10000.00', '0.99', '1234567.89', '5000000.00']) {
      for (let n = 1; n <= 60; n++) {
        if (money(principal).times(100).lt(n)) continue;
        const s = buildSchedule(money(principal), 0, n, '2022-01-31');
        expect(sumMoney(s.map((i) => i.amount)).toFixed(2)).toBe(money(principal).toFixed(2));
        expect(s.every((i) => i.amount.gt(0) && i.amount.decimalPlaces() <= 2)).toBe(true);
        expect(s.slice(0, -1).every((i) => i.amount.eq(s[0].amount))).toBe(true);
        expect(s[n - 1].amount.gte(s[0].amount)).toBe(true);
      }
    }
  });

  it('due dates keep the day of the month, or the month\'s last day (31 Jan → 28 Feb → 31 Mar)', () => {
    expect(buildSchedule(money('300.00'), 0, 3, '2023-01-31').map((i) => i.dueOn)).toEqual(['2023-02-28', '2023-03-31', '2023-04-30']);
    expect(buildSchedule(money('300.00'), 2, 1, '2023-12-15').map((i) => i.dueOn)).toEqual(['2024-03-15']);
  });
});

describe('repayments', () => {
  const open = () => [
    { number: 2, amount: money('833.33'), paid: money('0') },
    { number: 1, amount: money('833.33'), paid: money('100.00') },
    { number: 3, amount: money('833.34'), paid: money('0') },
  ];

  it('pay the oldest unpaid instalment first, then the next', () => {
    expect(allocateRepayment(open(), money('1000.00')).map((a) => [a.number, a.applied.toFixed(2), a.settles])).toEqual([
      [1, '733.33', true],
      [2, '266.67', false],
    ]);
  });

  it('refuse more than the outstanding with 422 overpayment', () => {
    expect(allocateRepayment(open(), money('2400.00')).map((a) => a.applied.toFixed(2))).toEqual(['733.33', '833.33', '833.34']);
    expect(problemOf(() => allocateRepayment(open(), money('2400.01')))).toEqual({ code: 'overpayment', status: 422 });
  });
});

describe('delinquency ageing', () => {
  it('counts days from the oldest unpaid instalment past due, in the buckets of API.md', () => {
    expect(daysPastDue(null, '2020-10-01')).toBe(0);
    expect(daysPastDue('2020-09-15', '2020-09-15')).toBe(0);
    expect(daysPastDue('2020-09-15', '2020-09-16')).toBe(1);
    expect([0, 1, 30, 31, 60, 61, 90, 91, 400].map(ageingBucket)).toEqual(['current', '1-30', '1-30', '31-60', '31-60', '61-90', '61-90', 'over-90', 'over-90']);
  });
});

describe('bank repayment file', () => {
  it('reads reference, amount and paidOn in any order; refuses bad lines one by one', () => {
    const { lines, refused } = parseRepaymentCsv(
      'paidOn,Reference,amount\r\n2020-09-15,LN-00000001/OP-1,833.33\r\n2020-09-15,nonsense,1.00\r\n2020-09-15,LN-00000001/OP-2,1.999\r\n2020-02-30,LN-00000001/OP-3,1.00\r\n2020-09-15,LN-00000001/OP-1,833.33\r\n',
    );
    expect(lines).toEqual([{ line: 2, reference: 'LN-00000001/OP-1', loanNumber: 'LN-00000001', amount: '833.33', paidOn: '2020-09-15' }]);
    expect(refused.map((r) => [r.line, r.reason])).toEqual([
      [3, 'invalid_reference'],
      [4, 'invalid_amount'],
      [5, 'invalid_date'],
      [6, 'duplicate_in_file'],
    ]);
    expect(problemOf(() => parseRepaymentCsv('reference,amount\r\nLN-00000001/X,1.00\r\n'))).toEqual({ code: 'validation_failed', status: 400 });
  });
});
