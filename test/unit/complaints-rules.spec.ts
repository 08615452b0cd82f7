import { complaintRulesOf, complaintSchedule, COMPLAINT_RULES, DEFAULT_COMPLAINT_RULES, escalationRefusal, isOverdue } from '../../src/complaints/complaints.rules';

describe('complaint rules', () => {
  it('P52: Pensión answers within 10 business days of formal receipt; P51 subjects', () => {
    const r = complaintRulesOf('PENSION-AM-2016');
    expect(r.seedId).toBe('P52');
    expect(complaintSchedule('2016-03-01', r)).toEqual({ steps: [{ step: 'answer', businessDays: 10, dueOn: '2016-03-15' }], dueOn: '2016-03-15' });
    expect(r.subjects).toEqual(expect.arrayContaining(['staff_noncompliance', 'card_balance', 'wrongful_baja']));
    expect(r.subjects).not.toContain('payment');
  });

  it('S13: Seguro VF counts 5 / 3 / 5 / 5 business days, each from the step before (21 March 2016 is a holiday)', () => {
    const s = complaintSchedule('2016-03-01', complaintRulesOf('SEGURO-VF-2016'));
    expect(s.steps.map((x) => [x.step, x.dueOn])).toEqual([
      ['appearance', '2016-03-08'],
      ['report', '2016-03-11'],
      ['resolution', '2016-03-18'],
      ['notification', '2016-03-28'],
    ]);
    expect(s.dueOn).toBe('2016-03-28');
  });

  it('CP12: 15 business days; A11: 10; SD-16: 10; a program whose seed is silent gets the documented default', () => {
    expect(complaintSchedule('2016-03-01', COMPLAINT_RULES['COMEDORES-PUBLICOS']).dueOn).toBe('2016-03-23');
    expect(COMPLAINT_RULES['COMEDORES-PUBLICOS'].seedId).toBe('CP12');
    expect(complaintSchedule('2016-03-01', complaintRulesOf('ALIMENTATE-2016')).dueOn).toBe('2016-03-15');
    expect(complaintRulesOf('ALIMENTATE-2016').seedId).toBe('A11');
    expect(complaintRulesOf('DESEMPLEO-2016').seedId).toBe('SD-16');
    expect(complaintRulesOf('UNIFORMES-2016')).toBe(DEFAULT_COMPLAINT_RULES);
  });

  it('X6: escalation only once the unit answered or let the deadline pass, and only to a body the rules name', () => {
    const r = complaintRulesOf('PENSION-AM-2016');
    expect(escalationRefusal('open', '2016-03-15', '2016-03-15', 'locatel', r)?.code).toBe('complaint_not_escalable');
    expect(escalationRefusal('open', '2016-03-15', '2016-03-16', 'locatel', r)).toBeNull();
    expect(escalationRefusal('answered', '2016-03-15', '2016-03-02', 'procuraduria_social', r)).toBeNull();
    expect(escalationRefusal('escalated', '2016-03-15', '2016-03-20', 'locatel', r)?.code).toBe('invalid_status_transition');
    expect(escalationRefusal('answered', '2016-03-15', '2016-03-20', 'contraloria_interna', complaintRulesOf('DESEMPLEO-2016'))?.code).toBe('escalation_target_not_allowed');
    expect(isOverdue('open', '2016-03-15', '2016-03-16')).toBe(true);
    expect(isOverdue('open', '2016-03-15', '2016-03-15')).toBe(false);
    expect(isOverdue('answered', '2016-03-15', '2016-03-16')).toBe(false);
  });
});
