import { addBusinessDays } from '../common/calendar';

/**
 * Complaints (quejas, no conformidades) and their deadlines per program, as data (docs/complaints.md).
 * Each program base names the seed rule of its deadline, the steps of its procedure in business
 * days (each counted from the end of the one before, starting at the day the complaint is formally
 * received), the subjects its rules list, where it is first heard, and where it escalates (X6).
 */
export const CHANNELS = ['in_person', 'writing', 'mailbox', 'phone', 'locatel', 'email', 'web'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Subjects: the RO's own (P51: I staff non-compliance, II card balances, III wrongful baja) and the general ones. */
export const SUBJECTS = ['staff_noncompliance', 'card_balance', 'wrongful_baja', 'payment', 'registration', 'service', 'other'] as const;
export type Subject = (typeof SUBJECTS)[number];

export const ESCALATION_TARGETS = ['contraloria_interna', 'procuraduria_social', 'locatel', 'contraloria_general'] as const;
export type EscalationTarget = (typeof ESCALATION_TARGETS)[number];

/** P53: the answer may refute, confirm or remedy the act complained of. */
export const OUTCOMES = ['refute', 'confirm', 'remedy'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** P54: who signs the receipt of the answer — the holder (Derechohabiente) or their Representante Solidario. */
export const RECEIPT_SIGNERS = ['holder', 'representative'] as const;
export type ReceiptSigner = (typeof RECEIPT_SIGNERS)[number];

export interface ComplaintRules {
  /** Seed id of the deadline, or `default` where the seed gives none (design decision). */
  seedId: string;
  steps: Array<{ step: string; businessDays: number }>;
  subjects: readonly Subject[];
  firstInstance: string;
  escalation: readonly EscalationTarget[];
}

const ALL_TARGETS = ESCALATION_TARGETS;
const GENERAL: readonly Subject[] = ['card_balance', 'wrongful_baja', 'staff_noncompliance', 'payment', 'registration', 'service', 'other'];

export const COMPLAINT_RULES: Record<string, ComplaintRules> = {
  // P51 subjects, P52 ten business days from formal receipt, P55/X6 escalation.
  'PENSION-AM': {
    seedId: 'P52',
    steps: [{ step: 'answer', businessDays: 10 }],
    subjects: ['staff_noncompliance', 'card_balance', 'wrongful_baja', 'other'],
    firstInstance: 'Instituto para la Atención de los Adultos Mayores',
    escalation: ALL_TARGETS,
  },
  // S13: comparecencia within 5 business days, report in 3, resolution in 5, notification in 5.
  'SEGURO-VF': {
    seedId: 'S13',
    steps: [
      { step: 'appearance', businessDays: 5 },
      { step: 'report', businessDays: 3 },
      { step: 'resolution', businessDays: 5 },
      { step: 'notification', businessDays: 5 },
    ],
    subjects: GENERAL,
    firstInstance: 'Dirección General de Igualdad y Diversidad Social',
    escalation: ALL_TARGETS,
  },
  // CP12: answered within 15 business days of the formal filing.
  'COMEDORES-PUBLICOS': { seedId: 'CP12', steps: [{ step: 'answer', businessDays: 15 }], subjects: GENERAL, firstInstance: 'Dirección General de Igualdad y Diversidad Social', escalation: ALL_TARGETS },
  // A11: 10 business days from receipt of the written complaint.
  ALIMENTATE: { seedId: 'A11', steps: [{ step: 'answer', businessDays: 10 }], subjects: GENERAL, firstInstance: 'Dirección General de Igualdad y Diversidad Social', escalation: ALL_TARGETS },
  // Desempleo rule 16 (@875360): «recibir respuesta en (10) diez días», read as business days like P52 and A11.
  DESEMPLEO: { seedId: 'SD-16', steps: [{ step: 'answer', businessDays: 10 }], subjects: GENERAL, firstInstance: 'Dirección del Seguro de Desempleo', escalation: ['procuraduria_social', 'locatel', 'contraloria_general'] },
};

/** Where the seed gives no deadline (Uniformes U19, Útiles, grants): ten business days, the figure of P52, A11 and SD-16. */
export const DEFAULT_COMPLAINT_RULES: ComplaintRules = {
  seedId: 'default',
  steps: [{ step: 'answer', businessDays: 10 }],
  subjects: GENERAL,
  firstInstance: 'program office',
  escalation: ALL_TARGETS,
};

/** The complaint rules of a program by its code (`<BASE>-<year>` or any code starting with `<BASE>-`). */
export function complaintRulesOf(code: string): ComplaintRules {
  const base = Object.keys(COMPLAINT_RULES).find((b) => code === b || code.startsWith(`${b}-`));
  return base ? COMPLAINT_RULES[base] : DEFAULT_COMPLAINT_RULES;
}

/** Due date of each step, counted in business days from the day of receipt; the last one is the complaint's dueOn. */
export function complaintSchedule(receivedOn: string, rules: ComplaintRules): { steps: Array<{ step: string; businessDays: number; dueOn: string }>; dueOn: string } {
  let at = receivedOn;
  const steps = rules.steps.map((s) => {
    at = addBusinessDays(at, s.businessDays);
    return { ...s, dueOn: at };
  });
  return { steps, dueOn: at };
}

export type ComplaintStatus = 'open' | 'answered' | 'escalated';

/**
 * X6: a complaint escalates when the unit does not resolve it: once answered (the person is not
 * satisfied) or when its deadline has passed unanswered; and only to a body its rules name.
 */
export function escalationRefusal(status: ComplaintStatus, dueOn: string, today: string, to: string, rules: ComplaintRules): { code: string; detail: string } | null {
  if (status === 'escalated') return { code: 'invalid_status_transition', detail: 'the complaint is already escalated' };
  if (!(rules.escalation as readonly string[]).includes(to)) return { code: 'escalation_target_not_allowed', detail: `this program escalates to ${rules.escalation.join(', ')}` };
  if (status === 'open' && today <= dueOn) return { code: 'complaint_not_escalable', detail: `the unit has until ${dueOn} to answer` };
  return null;
}

/** Open and past its due date. */
export function isOverdue(status: ComplaintStatus, dueOn: string, today: string): boolean {
  return status === 'open' && dueOn < today;
}
