import { rfcCheckDigit, rfcProblem } from '../../src/beneficiaries/rfc.rules';
import { money } from '../../src/common/money';
import { awardEnvelope, awardLimit, baseCode, planForAward, stageRows } from '../../src/disbursements/grant-award.rules';
import { envelopeTarget, envelopeTopUps } from '../../src/programs/envelopes.rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';
import { demandDueOn, dueLetters, legalReferralOn, rescissionDue } from '../../src/treasury/grant-recovery.rules';

/**
 * The grant rules of the seed fixtures (fixtures/programs, never copies), as pure functions:
 * award limits and their bounds, stages, tranche plans, envelopes, recovery letters and
 * rescission. The end-to-end behaviour is in test/e2e/grants-*.spec.ts.
 */
const rules = (base: string) => readProgramFixtures().find((f) => f.base === base)!.rules;
const COOP = rules('COOPERATIVAS');
const ES = rules('ECONOMIA-SOCIAL');
const FONAES = rules('FONAES');
const PROFACE = rules('PROFACE');
const constituted = { constituted: true };
const group = { constituted: false };

describe('award limits', () => {
  it('COOP-caps: the cap of each stage; without a stage only the largest cap applies', () => {
    const limit = (stage: string | null) => awardLimit(COOP, { stage, members: 6 }, constituted);
    expect(limit('impulso-2')).toMatchObject({ limit: '100000.00', bound: 'stage_cap' });
    expect(limit('fortalecimiento-1')).toMatchObject({ limit: '50000.00', bound: 'stage_cap' });
    expect(limit('fortalecimiento-2')).toMatchObject({ limit: '150000.00', bound: 'stage_cap' });
    expect(limit(null)).toMatchObject({ limit: '150000.00', bound: 'program_cap' });
    expect(() => limit('etapa-3')).toThrow(expect.objectContaining({ code: 'invalid_stage' }));
  });

  it('COOP-2 (@938262, @918284): Impulso I needs a group of at least 5; Impulso II a constituted cooperative', () => {
    expect(() => stageRows(COOP, 'impulso-1', group, 4)).toThrow(expect.objectContaining({ code: 'stage_not_applicable' }));
    expect(stageRows(COOP, 'impulso-1', group, 5)).toHaveLength(1);
    expect(() => stageRows(COOP, 'impulso-2', group, 5)).toThrow(expect.objectContaining({ code: 'stage_not_applicable' }));
    expect(stageRows(COOP, 'impulso-2', constituted, 5)[0].after).toBe('impulso-1');
  });

  it('R003-17: table A, per member × members and per project, lower before legal constitution', () => {
    const arranque = (members: number, who: { constituted: boolean }) => awardLimit(ES, { stage: 'arranque', members }, who);
    expect(arranque(8, constituted)).toMatchObject({ limit: '268800.00', bound: 'member_cap' }); // 33,600 × 8
    expect(arranque(10, constituted)).toMatchObject({ limit: '336000.00', bound: 'member_cap' }); // 33,600 × 10 = the project cap: the more specific bound names it
    expect(arranque(8, group)).toMatchObject({ limit: '210000.00', bound: 'member_cap' }); // 26,250 × 8
    expect(arranque(20, group)).toMatchObject({ limit: '300000.00', bound: 'member_cap' }); // 15,000 × 20
    expect(arranque(30, constituted)).toMatchObject({ limit: '480000.00', bound: 'stage_cap' }); // 21+: the project cap only
    expect(arranque(30, group)).toMatchObject({ limit: '375000.00', bound: 'stage_cap' });
    // DESARROLLA 11–20 before constitution: 21,720 × 20 = 434,400 but the project cap is 434,000 (L96).
    expect(awardLimit(ES, { stage: 'desarrolla', members: 20 }, group)).toMatchObject({ limit: '434000.00', bound: 'stage_cap' });
    expect(() => arranque(4, constituted)).toThrow(expect.objectContaining({ code: 'stage_not_applicable' }));
  });

  it('R003-20, R003-21: CONSOLIDA and CRECE only for legally constituted OSSE; CRECE at most $2,000,000', () => {
    expect(() => stageRows(ES, 'consolida', group, 8)).toThrow(expect.objectContaining({ code: 'stage_not_applicable' }));
    expect(awardLimit(ES, { stage: 'consolida', members: 8 }, constituted)).toMatchObject({ limit: '531360.00', bound: 'member_cap' });
    expect(awardLimit(ES, { stage: 'crece', members: 8 }, constituted)).toMatchObject({ limit: '2000000.00' });
    expect(() => stageRows(ES, 'crece', group, 8)).toThrow(expect.objectContaining({ code: 'stage_not_applicable' }));
  });

  it('R004-02, R004-03: the smallest of the sector cap, the per-member cap and the support share of the project cost', () => {
    const cost = money('1000000.00');
    const empresa = (extra: Record<string, unknown>) => awardLimit(FONAES, { stage: 'ics', members: 10, projectCost: cost, ...extra }, constituted);
    expect(empresa({ supportType: 'negocio' })).toMatchObject({ limit: '500000.00', bound: 'member_cap' }); // 50,000 × 10 < 60 % of 1,000,000
    expect(empresa({ supportType: 'negocio', otherPrograms: true })).toMatchObject({ limit: '400000.00', bound: 'support_share' }); // 40 %
    expect(empresa({ supportType: 'discapacidad' })).toMatchObject({ limit: '500000.00', bound: 'member_cap' });
    expect(awardLimit(FONAES, { stage: 'ics', members: 8 }, group)).toMatchObject({ limit: '300000.00', bound: 'stage_cap' }); // Grupo Social
    expect(awardLimit(FONAES, { stage: 'primario', members: 8 }, constituted)).toMatchObject({ limit: '800000.00', bound: 'member_cap' });
    // A bound whose input is absent is not computed; the largest cap always applies.
    expect(awardLimit(FONAES, { projectCost: cost, supportType: 'garantia' }, constituted)).toMatchObject({ limit: '500000.00', bound: 'support_share' });
    expect(awardLimit(FONAES, {}, constituted)).toMatchObject({ limit: '1500000.00', bound: 'program_cap' });
    // Without a support type the largest share (90 %); without otherPrograms the share without them.
    expect(awardLimit(FONAES, { projectCost: cost }, constituted).bounds.find((b) => b.bound === 'support_share')?.amount).toBe('900000.00');
    expect(() => empresa({ supportType: 'otro' })).toThrow(expect.objectContaining({ code: 'invalid_support_type' }));
  });

  it('R004-04: a credit guarantee up to $1,500,000 and $50,000 or $100,000 per member', () => {
    expect(awardLimit(FONAES, { stage: 'garantia-ics', members: 40 }, constituted)).toMatchObject({ limit: '1500000.00', bound: 'stage_cap' });
    expect(awardLimit(FONAES, { stage: 'garantia-primario', members: 5 }, constituted)).toMatchObject({ limit: '500000.00', bound: 'member_cap' });
  });

  it('a program without caps or shares (PROFACE, @540694) sets no limit: the budget is the only one', () => {
    expect(awardLimit(PROFACE, { members: 8 }, group)).toEqual({ limit: null, bound: null, bounds: [], rows: [] });
  });
});

describe('tranche plans', () => {
  it('R004-07: FONAES pays up to $600,000 in one ministración, above it in two', () => {
    expect(planForAward(money('600000.00'), FONAES).map((t) => t.amount)).toEqual(['600000.00']);
    expect(planForAward(money('100000.00'), FONAES)).toEqual([{ trancheNo: 1, amount: '100000.00', proofDueBusinessDays: null, proofDueCalendarDays: null, label: 'Primera ministración' }]);
    expect(planForAward(money('600000.01'), FONAES).map((t) => t.amount)).toEqual(['300000.01', '300000.00']);
  });

  it('PROFACE-17 and COOP-10a: PROFACE in two halves; Cooperativas one transfer per stage with proof due in 45 calendar days', () => {
    expect(planForAward(money('200000.00'), PROFACE).map((t) => t.amount)).toEqual(['100000.00', '100000.00']);
    expect(planForAward(money('50000.00'), COOP)).toEqual([expect.objectContaining({ amount: '50000.00', proofDueCalendarDays: 45 })]);
  });

  it('refuses a threshold with fewer planned tranches than it requires', () => {
    const parsed = ProgramRules.safeParse({ ...FONAES, tranchePlan: [{ share: '1' }] });
    expect(parsed.success).toBe(false);
  });
});

describe('envelopes', () => {
  it('PROFACE-ovh: 8 %, 3.5 %, 1 % and 0.5 % of what is appropriated, never drawn by an award', () => {
    const appropriated = money('117956958.00');
    const tops = envelopeTopUps(PROFACE.envelopes!, appropriated, new Map(), appropriated);
    expect(tops.map((t) => [t.key, t.amount.toFixed(2)])).toEqual([
      ['operating', '9436556.64'],
      ['insurance', '4128493.53'],
      ['evaluation', '1179569.58'],
      ['publicity', '589784.79'],
    ]);
    expect(awardEnvelope(PROFACE, [], null)).toBeNull(); // awards draw from what is left in the budget
  });

  it('COOP-env: $3M operating, then the stage envelopes in order; a second appropriation only tops up', () => {
    const all = envelopeTopUps(COOP.envelopes!, money('36000000.00'), new Map(), money('36000000.00'));
    expect(all.map((t) => [t.key, t.amount.toFixed(2)])).toEqual([
      ['operating', '3000000.00'],
      ['impulso-1', '3000000.00'],
      ['impulso-2', '6000000.00'],
      ['fortalecimiento-1', '6000000.00'],
      ['fortalecimiento-2', '18000000.00'],
    ]);
    const part = envelopeTopUps(COOP.envelopes!, money('10000000.00'), new Map(), money('10000000.00'));
    expect(part.map((t) => [t.key, t.amount.toFixed(2)])).toEqual([
      ['operating', '3000000.00'],
      ['impulso-1', '3000000.00'],
      ['impulso-2', '4000000.00'],
    ]);
    const rest = envelopeTopUps(COOP.envelopes!, money('36000000.00'), new Map(part.map((t) => [t.key, t.amount])), money('26000000.00'));
    expect(rest.map((t) => [t.key, t.amount.toFixed(2)])).toEqual([
      ['impulso-2', '2000000.00'],
      ['fortalecimiento-1', '6000000.00'],
      ['fortalecimiento-2', '18000000.00'],
    ]);
    expect(envelopeTarget(PROFACE.envelopes![1], money('1000.00')).toFixed(2)).toBe('35.00');
  });

  it('COOP-env: an award draws only from its stage envelope, and needs the stage to know it', () => {
    expect(awardEnvelope(COOP, stageRows(COOP, 'fortalecimiento-2', constituted, 6), 'fortalecimiento-2')).toBe('fortalecimiento-2');
    expect(() => awardEnvelope(COOP, [], null)).toThrow(expect.objectContaining({ code: 'stage_required' }));
  });
});

describe('recovery', () => {
  const letters = COOP.recovery!.letters!;
  const tranche = (over: Partial<Parameters<typeof dueLetters>[1]> = {}) => ({
    releasedOn: '2016-03-01',
    amount: money('50000.00'),
    accepted: money('0'),
    pendingProofs: 0,
    sent: new Map<string, string>(),
    ...over,
  });

  it('COOP-10b, COOP-10c: reminder at day 30, first letter at day 45 asking for the invoices, no demand', () => {
    expect(dueLetters(letters, tranche(), '2016-03-30')).toEqual([]);
    expect(dueLetters(letters, tranche(), '2016-03-31')).toEqual([{ kind: 'reminder', sentOn: '2016-03-31', demands: null }]);
    expect(dueLetters(letters, tranche({ sent: new Map([['reminder', '2016-03-31']]) }), '2016-04-15')).toEqual([{ kind: 'first_letter', sentOn: '2016-04-15', demands: null }]);
    // Day 46, when the old code demanded the money: nothing.
    expect(dueLetters(letters, tranche({ sent: new Map([['reminder', '2016-03-31'], ['first_letter', '2016-04-15']]) }), '2016-04-16')).toEqual([]);
  });

  it('COOP-10d, COOP-10e: 7 days after the first letter the second demands the unproven remainder, to pay in 7 days', () => {
    const sent = new Map([['reminder', '2016-03-31'], ['first_letter', '2016-04-15']]);
    const [second] = dueLetters(letters, tranche({ sent, accepted: money('20000.00') }), '2016-04-22');
    expect([second.kind, second.sentOn, second.demands?.toFixed(2)]).toEqual(['second_letter', '2016-04-22', '30000.00']);
    expect(demandDueOn(COOP.recovery!, second.sentOn)).toBe('2016-04-29');
    expect(legalReferralOn('2016-04-29')).toBe('2016-04-30');
    // A late sweep sends every letter due, each dated its own day.
    expect(dueLetters(letters, tranche(), '2016-05-01').map((l) => [l.kind, l.sentOn])).toEqual([
      ['reminder', '2016-03-31'],
      ['first_letter', '2016-04-15'],
      ['second_letter', '2016-04-22'],
    ]);
    // Design decision: a proof under review postpones the demand; a proven tranche gets no letter.
    expect(dueLetters(letters, tranche({ sent, pendingProofs: 1 }), '2016-04-22')).toEqual([]);
    expect(dueLetters(letters, tranche({ accepted: money('50000.00') }), '2016-05-01')).toEqual([]);
  });

  it('PROFACE-10 (C-3): on rescission the unproven money is due 20 business days after the notification', () => {
    const due = rescissionDue(PROFACE.recovery!.rescission!, '2016-07-04', money('150000.00'), money('60000.00'));
    expect([due.amount.toFixed(2), due.dueOn]).toEqual(['90000.00', '2016-08-01']);
    // 20 business days skip 16 September (Independence Day).
    expect(rescissionDue(PROFACE.recovery!.rescission!, '2016-09-01', money('1.00'), money('0')).dueOn).toBe('2016-09-30');
  });
});

describe('collective grantees', () => {
  it("RFC: layout, date and SAT's check digit", () => {
    for (const rfc of ['SAT970701NN3', 'IMS421231I45', 'CFE370814QI0', 'GODE561231GR8']) expect(rfcProblem(rfc)).toBeNull();
    expect(rfcCheckDigit('SAT970701NN')).toBe('3');
    expect(rfcProblem('SAT970701NN4')).toBe('check_digit');
    expect(rfcProblem('SAT971301NN3')).toBe('date');
    expect(rfcProblem('sat970701nn3')).toBe('layout');
  });

  it('a lineage is the code without its year', () => {
    expect(baseCode('FONAES-2013')).toBe('FONAES');
    expect(baseCode('ECONOMIA-SOCIAL-2020')).toBe('ECONOMIA-SOCIAL');
  });
});
