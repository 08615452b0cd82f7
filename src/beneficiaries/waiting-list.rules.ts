import { ApiProblem } from '../common/problem';

/**
 * Pure rules of the waiting list (P16–P18, P20; docs/programs-padron.md "Waiting list").
 * Unit-tested in test/unit/waiting-list-rules.spec.ts.
 */

/** P17: incorporation «en un lapso no mayor de seis meses a partir de la fecha de la "Solicitud de Registro"». */
export const MAX_WAIT_MONTHS = 6;

/** The last day an applicant filed on `applicationDate` may wait: the same day six months later (end of month when shorter). */
export function waitDeadline(applicationDate: string): string {
  const [y, m, d] = applicationDate.split('-').map(Number);
  const months = y * 12 + (m - 1) + MAX_WAIT_MONTHS;
  const year = Math.floor(months / 12);
  const month = (months % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Days waited so far, and whether the six months are over (waiting past the deadline). */
export function waitStatus(applicationDate: string, today: string): { waitingDays: number; deadline: string; overdue: boolean } {
  const deadline = waitDeadline(applicationDate);
  const waitingDays = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${applicationDate}T00:00:00Z`)) / 86_400_000);
  return { waitingDays, deadline, overdue: today > deadline };
}

/**
 * An incorporation of record: on or after the filing (P20, never before it), not in the future,
 * and (P18) in filing order unless a priority reason (zona de alta marginación) is recorded.
 */
export function assertIncorporation(input: {
  applicationDate: string;
  incorporatedOn: string;
  today: string;
  earlierWaiting: number;
  priorityReason?: string | null;
}): void {
  if (input.incorporatedOn < input.applicationDate) {
    throw new ApiProblem(422, 'incorporation_before_application', `incorporation on ${input.incorporatedOn} precedes the application of ${input.applicationDate}`);
  }
  if (input.incorporatedOn > input.today) throw new ApiProblem(422, 'incorporation_in_future', 'incorporatedOn cannot be in the future');
  if (input.earlierWaiting > 0 && !input.priorityReason) {
    throw new ApiProblem(409, 'out_of_filing_order', `${input.earlierWaiting} applicant(s) filed earlier are still waiting (P18: filing order, or a priority reason)`);
  }
}

/** Whether the program's meta física (rules.targetBeneficiaries) leaves room for one more active beneficiary. */
export function roomInTarget(target: number | undefined, active: number): boolean {
  return target === undefined || active < target;
}
