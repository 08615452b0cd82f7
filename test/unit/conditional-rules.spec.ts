import { addMonths } from '../../src/common/calendar';
import {
  attendanceAmount,
  attendanceDaysProblem,
  eventAmount,
  eventProblem,
  firstObligationPeriod,
  lastAttendancePeriodPaid,
  obligationDueOn,
  obligationStanding,
  overallStanding,
} from '../../src/conditional/conditional.rules';
import type { EventBenefit, PerAttendanceBenefit } from '../../src/programs/conditional-rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';

/** The conditional-benefit rules of the seed fixtures (fixtures/programs, never copies), as pure functions. */
const rules = (base: string) => readProgramFixtures().find((f) => f.base === base)!.rules;
const scapat = rules('TRABAJO-DIGNO-SCAPAT').benefit as PerAttendanceBenefit;
const mpt = rules('MI-PRIMER-TRABAJO').benefit as EventBenefit;
const signature = rules('REINSERCION').obligations![0];

describe('conditional rules: per day attended (Trabajo Digno SCAPAT)', () => {
  it('TD-SCAPAT @1019682 @1024418: 1, 1.5 or 2 Unidades de Cuenta a day by schooling, rounded per day, times the days attended', () => {
    const pay = (schooling: string, days: number, transportJustified = false) => {
      const r = attendanceAmount(scapat, { schooling, transportJustified }, days);
      return r.ok ? r.amount.toFixed(2) : r.reason;
    };
    expect(pay('bachillerato_trunco', 20)).toBe('1433.60');
    expect(pay('bachillerato', 20)).toBe('2150.40');
    expect(pay('licenciatura_80', 20)).toBe('2867.20');
    expect(pay('bachillerato', 0)).toBe('0.00');
    expect(pay('doctorado', 5)).toMatch(/attributes.schooling must be one of/);
  });

  it('TD-SCAPAT @1019966: $20 of transport a day attended only when the journey justifies it', () => {
    const r = attendanceAmount(scapat, { schooling: 'bachillerato', transportJustified: true }, 18);
    expect(r.ok && [r.dailyStipend.toFixed(2), r.extras.map((x) => x.daily.toFixed(2)), r.amount.toFixed(2)]).toEqual(['107.52', ['20.00'], '2295.36']);
    const no = attendanceAmount(scapat, { schooling: 'bachillerato', transportJustified: 'yes' }, 18);
    expect(no.ok && no.amount.toFixed(2)).toBe('1935.36');
  });

  it('TD-SCAPAT «a mes vencido»: the cycle of a month pays the attendance of the month before; days within the month', () => {
    expect(lastAttendancePeriodPaid(scapat, '2016-04')).toBe('2016-03');
    expect(lastAttendancePeriodPaid(scapat, '2016-01')).toBe('2015-12');
    expect(attendanceDaysProblem('2016-02', 29)).toBeNull();
    expect(attendanceDaysProblem('2016-02', 30)).toMatch(/0 to 29/);
    expect(attendanceDaysProblem('2016-03', 1.5)).toMatch(/whole number/);
    expect(attendanceDaysProblem('2016-03', -1)).toMatch(/whole number/);
  });
});

describe('conditional rules: on recorded events (Mi Primer Trabajo)', () => {
  const saev = { subprogram: 'SAEV' };
  it('MPT-3 SAEV @674198 @674521: $1,000 on hiring, $2,000 only if still employed three months after it, each once', () => {
    const hiring = { kind: 'hiring', occurredOn: '2016-03-07' };
    expect(eventProblem(mpt, saev, hiring, [])).toBeNull();
    expect(eventAmount(mpt.events.hiring, saev)).toMatchObject({ ok: true });
    expect((eventAmount(mpt.events.hiring, saev) as { amount: { toFixed(n: number): string } }).amount.toFixed(2)).toBe('1000.00');
    expect(eventProblem(mpt, saev, hiring, [hiring])).toMatch(/at most 1 time/);
    expect(eventProblem(mpt, saev, { kind: 'still_employed', occurredOn: '2016-06-06' }, [hiring])).toMatch(/only from 2016-06-07/);
    expect(eventProblem(mpt, saev, { kind: 'still_employed', occurredOn: '2016-06-07' }, [hiring])).toBeNull();
    expect(eventProblem(mpt, saev, { kind: 'still_employed', occurredOn: '2016-09-01' }, [])).toMatch(/needs an earlier hiring/);
    expect((eventAmount(mpt.events.still_employed, saev) as { amount: { toFixed(n: number): string } }).amount.toFixed(2)).toBe('2000.00');
  });

  it('MPT-SAPLA @675255 @694400 @675053: $3,000 or $3,500 a month by job level, three months at most, SAPLA youths only', () => {
    const month = (n: number) => ({ kind: 'practice_month', occurredOn: `2016-0${n}-30` });
    const amount = (jobLevel: string) => {
      const r = eventAmount(mpt.events.practice_month, { subprogram: 'SAPLA', jobLevel });
      return r.ok ? r.amount.toFixed(2) : r.reason;
    };
    expect([amount('basic'), amount('technical')]).toEqual(['3000.00', '3500.00']);
    expect(amount('manager')).toMatch(/jobLevel must be one of basic, technical/);
    const sapla = { subprogram: 'SAPLA', jobLevel: 'basic' };
    expect(eventProblem(mpt, sapla, month(6), [month(4), month(5)])).toBeNull();
    expect(eventProblem(mpt, sapla, month(7), [month(4), month(5), month(6)])).toMatch(/at most 3 time/);
    expect(eventProblem(mpt, saev, month(4), [])).toMatch(/only for beneficiaries whose subprogram is SAPLA/);
    expect(eventProblem(mpt, sapla, { kind: 'hiring', occurredOn: '2016-04-01' }, [])).toMatch(/subprogram is SAEV/);
    expect(eventProblem(mpt, sapla, { kind: 'bonus', occurredOn: '2016-04-01' }, [])).toMatch(/pays no event bonus/);
  });

  it('MPT-SAEP @678903 @696041 (design decision): $4,000 a month, not $5,000, up to three months', () => {
    expect((eventAmount(mpt.events.internship_month, { subprogram: 'SAEP' }) as { amount: { toFixed(n: number): string } }).amount.toFixed(2)).toBe('4000.00');
    expect(mpt.events.internship_month.maxPerBeneficiary).toBe(3);
  });

  it('event rules: an event needs an amount xor an amount by attribute, and `after` names a known event', () => {
    const base = rules('MI-PRIMER-TRABAJO');
    const bad = { ...base, benefit: { type: 'event', events: { a: { amount: '1.00', byAttribute: { attribute: 'x', amounts: { y: '2.00' } }, maxPerBeneficiary: 1 } } } };
    expect(ProgramRules.safeParse(bad).success).toBe(false);
    const unknown = { ...base, benefit: { type: 'event', events: { a: { amount: '1.00', maxPerBeneficiary: 1, after: { event: 'b', months: 3 } } } } };
    expect(ProgramRules.safeParse(unknown).success).toBe(false);
  });
});

describe('conditional rules: monthly obligations (Reinserción R7/R8, Seguro S6, Desempleo cartilla)', () => {
  const inc = '2016-01-01';
  it('R8 @195549: the monthly signature is due at the end of each month from her first whole month', () => {
    expect(obligationDueOn(signature, '2016-02')).toBe('2016-02-29');
    expect(obligationStanding(signature, '2016-01-15', [], '2016-02-01').periods).toEqual([]);
    expect(obligationStanding(signature, inc, [{ period: '2016-01', metOn: '2016-01-20' }], '2016-02-01')).toMatchObject({
      status: 'active',
      periods: [{ period: '2016-01', dueOn: '2016-01-31', verdict: 'met' }],
    });
  });

  it('R7 @194575: one month unsigned suspends; two in a row withdraw the support (baja the day after the second deadline)', () => {
    const jan = { period: '2016-01', metOn: '2016-01-20' };
    const one = obligationStanding(signature, inc, [jan], '2016-03-01');
    expect(one).toMatchObject({ status: 'suspended', missedInRow: 1, bajaOn: null });
    // Signing March lifts the suspension for April's payment.
    expect(obligationStanding(signature, inc, [jan, { period: '2016-03', metOn: '2016-03-15' }], '2016-04-01')).toMatchObject({ status: 'active', missedInRow: 0 });
    const two = obligationStanding(signature, inc, [jan], '2016-04-01');
    expect(two).toMatchObject({ status: 'baja', missedInRow: 2, bajaOn: '2016-04-01' });
    // A signature recorded after its month is a missed month (no cure window in this program).
    expect(obligationStanding(signature, inc, [jan, { period: '2016-02', metOn: '2016-03-02' }], '2016-03-10')).toMatchObject({ status: 'suspended' });
    // A record dated after the evaluation day does not count yet.
    expect(obligationStanding(signature, inc, [{ period: '2016-01', metOn: '2016-02-05' }], '2016-02-01')).toMatchObject({ status: 'suspended' });
  });

  it('S5 @236711, S6 @237240: Seguro\'s fixture carries the monthly signature as an obligation: one month unsigned suspends, two in a row → baja breach_of_commitment', () => {
    const seguro = rules('SEGURO-VF');
    expect(seguro).not.toHaveProperty('monthlySignature');
    expect(seguro.obligations).toEqual([expect.objectContaining({ kind: 'monthly_signature', due: { by: 'period_end' }, missedInRowForBaja: 2, bajaCause: 'breach_of_commitment' })]);
    const jan = { kind: 'monthly_signature', period: '2016-01', metOn: '2016-01-29' };
    expect(overallStanding(seguro.obligations!, inc, [jan], '2016-02-01')).toMatchObject({ status: 'active', baja: null });
    expect(overallStanding(seguro.obligations!, inc, [jan], '2016-03-01')).toMatchObject({ status: 'suspended', baja: null });
    expect(overallStanding(seguro.obligations!, inc, [jan], '2016-04-01')).toMatchObject({ status: 'baja', baja: { cause: 'breach_of_commitment', on: '2016-04-01', kind: 'monthly_signature' } });
  });

  it('SD-9 @864126 @864690, SD-12 @867698 @867917, SD-11 cause 4 @866731: Desempleo\'s cartilla is due on the 10th business day from the month after the incorporation, cured within 30 days, else baja', () => {
    const cartilla = rules('DESEMPLEO').obligations!.find((o) => o.kind === 'cartilla')!;
    expect(cartilla).toMatchObject({ from: 'month_after_incorporation', due: { by: 'business_day', day: 10 }, cureDays: 30, missedInRowForBaja: 1, curePaysMissed: false });
    // 1 Feb 2016 is a holiday (first Monday of February): the 10th business day is Monday 15 Feb.
    expect(obligationDueOn(cartilla, '2016-02')).toBe('2016-02-15');
    expect(obligationDueOn(cartilla, '2016-03')).toBe('2016-03-14');
    // Incorporated on 1 January or in mid-January, the first cartilla is February's.
    expect(firstObligationPeriod(cartilla, inc)).toBe('2016-02');
    expect(firstObligationPeriod(cartilla, '2016-01-20')).toBe('2016-02');
    expect(firstObligationPeriod(signature, inc)).toBe('2016-01');
    expect(obligationStanding(cartilla, inc, [], '2016-02-15').periods).toEqual([]);
    expect(obligationStanding(cartilla, inc, [{ period: '2016-02', metOn: '2016-02-10' }], '2016-03-01')).toMatchObject({ status: 'active', periods: [{ verdict: 'met' }] });
    // Not delivered by 15 Feb: suspended while the 30-day cure runs (to 16 Mar), active again once cured.
    expect(obligationStanding(cartilla, inc, [], '2016-03-01')).toMatchObject({ status: 'suspended', periods: [{ verdict: 'pending' }] });
    expect(obligationStanding(cartilla, inc, [{ period: '2016-02', metOn: '2016-03-10' }], '2016-03-11')).toMatchObject({ status: 'active', periods: [{ verdict: 'cured' }] });
    // The last day of the cure counts; March's cartilla (due 14 Mar) delivered with it is late but cured too.
    const both = [{ period: '2016-02', metOn: '2016-03-16' }, { period: '2016-03', metOn: '2016-03-16' }];
    expect(obligationStanding(cartilla, inc, both, '2016-04-01')).toMatchObject({ status: 'active', periods: [{ verdict: 'cured' }, { verdict: 'cured' }] });
    // Not cured by 16 Mar: baja dated 17 Mar; March's cartilla, still in its own cure window, does not delay it.
    expect(obligationStanding(cartilla, inc, [{ period: '2016-02', metOn: '2016-03-17' }], '2016-04-01')).toMatchObject({ status: 'baja', missedInRow: 1, bajaOn: '2016-03-17' });
    expect(overallStanding([cartilla], inc, [], '2016-03-20')).toMatchObject({ status: 'baja', baja: { cause: 'breach_of_commitment', on: '2016-03-17', kind: 'cartilla' } });
  });

  it('obligation rules: a cure never pays the months missed (curePaysMissed is false; paying them is an arrears cycle)', () => {
    const r = rules('REINSERCION');
    expect(ProgramRules.safeParse({ ...r, obligations: [{ ...signature, curePaysMissed: true }] }).success).toBe(false);
    expect(ProgramRules.safeParse({ ...r, obligations: [signature, signature] }).success).toBe(false);
  });

  it('calendar addMonths: same day n months on, clamped to the month end', () => {
    expect(addMonths('2016-01-31', 1)).toBe('2016-02-29');
    expect(addMonths('2016-03-07', 3)).toBe('2016-06-07');
    expect(addMonths('2016-01-15', -1)).toBe('2015-12-15');
    expect(addMonths('2016-12-01', 1)).toBe('2017-01-01');
  });
});
