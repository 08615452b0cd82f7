import { addMonths } from '../../src/common/calendar';
import {
  attendanceAmount,
  attendanceDaysProblem,
  eventAmount,
  eventProblem,
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

  it('obligations with a cure window (the shape of the Desempleo cartilla, not in its fixture yet): due on the 10th business day, cured within 30 days, baja after the cure window', () => {
    const cartilla = { kind: 'cartilla', due: { by: 'business_day' as const, day: 10 }, cureDays: 30, missedInRowForBaja: 1, bajaCause: 'breach_of_commitment' as const, curePaysMissed: false as const };
    expect(obligationDueOn(cartilla, '2016-03')).toBe('2016-03-14');
    expect(obligationDueOn(cartilla, '2016-01')).toBe('2016-01-15');
    expect(obligationStanding(cartilla, inc, [{ period: '2016-01', metOn: '2016-01-12' }], '2016-01-20')).toMatchObject({ status: 'active', periods: [{ verdict: 'met' }] });
    expect(obligationStanding(cartilla, inc, [], '2016-01-20')).toMatchObject({ status: 'suspended', periods: [{ verdict: 'pending' }] });
    expect(obligationStanding(cartilla, inc, [{ period: '2016-01', metOn: '2016-02-10' }], '2016-02-11')).toMatchObject({ status: 'active', periods: [{ verdict: 'cured' }] });
    // January's cartilla (due Friday 15 Jan: 1 Jan is a holiday) is missed once its 30-day cure ends on 14 Feb;
    // February's, due on the 15th, is still in its cure window and does not stop the baja.
    expect(obligationStanding(cartilla, inc, [], '2016-02-14')).toMatchObject({ status: 'suspended', missedInRow: 0 });
    expect(obligationStanding(cartilla, inc, [], '2016-02-20')).toMatchObject({ status: 'baja', missedInRow: 1, bajaOn: '2016-02-15' });
    expect(overallStanding([cartilla], inc, [], '2016-02-20')).toMatchObject({ status: 'baja', baja: { cause: 'breach_of_commitment', on: '2016-02-15', kind: 'cartilla' } });
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
