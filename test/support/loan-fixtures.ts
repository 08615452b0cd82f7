import { randomUUID } from 'node:crypto';
import { ProgramsService } from '../../src/programs/programs.service';
import type { TestApp } from './app';
import { addBeneficiaries } from './cycle-fixtures';
import { programFromFixture, seedFixture } from './payout-fixtures';

/**
 * Fixtures of the loans tests: loan programs made from the seed fixture files (FONDESOC,
 * CALI-FONDO-SOLIDARIO; never inline copies of their rules), capital appropriated in the program's
 * currency, borrowers with bank details, and the HTTP steps of a loan's life.
 */

type Staff = Awaited<ReturnType<TestApp['staff']>>;
type Rules = ReturnType<typeof seedFixture>['rules'];

let keys = 0;
export const loanKey = () => `loan-${Date.now()}-${++keys}`;

/** A loan program from its fixture file, with `capital` appropriated (treasury of its currency → budget). */
export async function loanProgram(t: TestApp, base: 'FONDESOC' | 'CALI-FONDO-SOLIDARIO', opts: { capital?: string; rules?: (r: Rules) => Rules } = {}) {
  const program = await programFromFixture(t, base, { rules: opts.rules });
  if (opts.capital) {
    await t.app.get(ProgramsService).appropriate(program.id, { amount: opts.capital, reference: 'test capital', ledgerKey: `test-capital:${randomUUID()}` }, 'test');
  }
  return program;
}

/** n borrowers: active beneficiaries of the program, with bank details unless told otherwise. */
export async function borrowers(t: TestApp, programId: string, n: number, opts: { bankAccount?: boolean } = {}): Promise<string[]> {
  const rows = await addBeneficiaries(t.db, programId, n, { instrument: 'none', bankAccount: opts.bankAccount ?? true });
  return rows.map((r) => r.beneficiaryId);
}

export interface LoanActors {
  officer: Staff;
  operator: Staff;
  approver: Staff;
}

export function applyLoan(t: TestApp, programId: string, officer: Staff, body: Record<string, unknown>) {
  return t.http.post(`/v1/programs/${programId}/loans`).set(officer.auth).send(body);
}

export function approveLoan(t: TestApp, loanId: string, approver: Staff) {
  return t.http.post(`/v1/loans/${loanId}/approve`).set(approver.auth).set('Idempotency-Key', loanKey());
}

export function acceptLoan(t: TestApp, loanId: string, officer: Staff, acceptedAt = new Date(t.clock.now().getTime() - 60_000).toISOString()) {
  return t.http.post(`/v1/loans/${loanId}/acceptance`).set(officer.auth).send({ acceptedAt, documentRef: `ACEPTACION/${loanId.slice(0, 8)}` });
}

export function disburseLoan(t: TestApp, loanId: string, operator: Staff) {
  return t.http.post(`/v1/loans/${loanId}/disburse`).set(operator.auth).set('Idempotency-Key', loanKey());
}

export function repayLoan(t: TestApp, loanId: string, operator: Staff, body: { amount: string; paidOn: string; reference: string }) {
  return t.http.post(`/v1/loans/${loanId}/repayments`).set(operator.auth).set('Idempotency-Key', loanKey()).send(body);
}

/** Apply → approve → accept → disburse; returns the disbursed loan. */
export async function disbursedLoan(t: TestApp, programId: string, who: LoanActors, body: Record<string, unknown>) {
  const applied = await applyLoan(t, programId, who.officer, body).expect(201);
  await approveLoan(t, applied.body.id, who.approver).expect(200);
  await acceptLoan(t, applied.body.id, who.officer).expect(200);
  return (await disburseLoan(t, applied.body.id, who.operator).expect(200)).body;
}

export async function portfolio(t: TestApp, programId: string, who: Staff) {
  return (await t.http.get(`/v1/programs/${programId}/loan-portfolio`).set(who.auth).expect(200)).body;
}
