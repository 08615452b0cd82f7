import { randomUUID } from 'node:crypto';
import { LedgerService } from '../../src/ledger/ledger.service';
import { readProgramFixtures, ProgramFixture as SeedFixture } from '../../src/programs/program-fixtures';
import { ProgramsService } from '../../src/programs/programs.service';
import { clabeCheckDigit } from '../../src/payouts/clabe.rules';
import type { TestApp } from './app';
import { appropriate, balanceOf, waitForCycle } from './cycle-fixtures';

/**
 * Fixtures of the payouts tests: programs made from the seed fixture files (fixtures/programs/,
 * never inline copies of their rules) under a code of their own, CLABEs with a valid check digit,
 * and the HTTP steps of cycles and payout batches.
 */

export function seedFixture(base: string): SeedFixture {
  const f = readProgramFixtures().find((x) => x.base === base);
  if (!f) throw new Error(`no fixture ${base}`);
  return f;
}

/** A program from a seed fixture file (its instrument type, confidentiality and rules), with a budget. */
export async function programFromFixture(t: TestApp, base: string, opts: { budget?: string; rules?: (r: SeedFixture['rules']) => SeedFixture['rules'] } = {}) {
  const f = seedFixture(base);
  const programs = t.app.get(ProgramsService);
  const program = await programs.create(
    {
      code: `${f.base}-${f.seedYear}-T${randomUUID().slice(0, 8)}`,
      name: `${f.name} (test)`,
      fiscalYear: f.seedYear,
      instrumentType: f.instrumentType,
      currency: f.currency,
      timeZone: f.timeZone,
      confidential: f.confidential,
      rules: opts.rules ? opts.rules(f.rules) : f.rules,
    },
    'test',
  );
  if (opts.budget) await appropriate(t.app.get(LedgerService), program, opts.budget);
  return program;
}

/** A CLABE with a valid check digit: bank 012, plaza 180, and an 11-digit account number. */
export function clabe(account: number): string {
  const first17 = `012180${String(account).padStart(11, '0')}`;
  return `${first17}${clabeCheckDigit(first17)}`;
}

let keys = 0;
export const key = () => `pay-${Date.now()}-${++keys}`;

type Staff = Awaited<ReturnType<TestApp['staff']>>;

/** A deposit cycle of one period, drafted, approved and run by the app's worker to the end. */
export async function runCycle(t: TestApp, programId: string, period: string, operator: Staff, approver: Staff) {
  const d = await t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period, kind: 'deposit' }).expect(201);
  await t.http.post(`/v1/cycles/${d.body.id}/approve`).set(approver.auth).expect(200);
  await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
  return (await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200)).body;
}

export function draftBatch(t: TestApp, programId: string, kind: string, operator: Staff) {
  return t.http.post('/v1/payout-batches').set(operator.auth).set('Idempotency-Key', key()).send({ programId, kind });
}

export function approveBatch(t: TestApp, batchId: string, approver: Staff) {
  return t.http.post(`/v1/payout-batches/${batchId}/approve`).set(approver.auth).set('Idempotency-Key', key());
}

export function postResults(t: TestApp, batchId: string, who: Staff, body: string | unknown[]) {
  const req = t.http.post(`/v1/payout-batches/${batchId}/results`).set(who.auth).set('Idempotency-Key', key());
  return typeof body === 'string' ? req.set('content-type', 'text/csv').send(body) : req.send(body);
}

/** Every line of a batch (all pages). */
export async function batchLines(t: TestApp, batchId: string, who: Staff): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  do {
    const res: { body: { lines: Array<Record<string, any>>; nextCursor: string | null } } = await t.http
      .get(`/v1/payout-batches/${batchId}?limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      .set(who.auth)
      .expect(200);
    out.push(...res.body.lines);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

/** Balance of the account with this code, '0.00' when it does not exist yet. */
export async function balanceByCode(t: TestApp, code: string): Promise<string> {
  const a = await t.app.get(LedgerService).findAccountByCode(code);
  return a ? balanceOf(t.db, a.id) : '0.00';
}

export const payableOf = (programId: string, kind: string, payeeId: string) => `program:${programId}:payable:${kind}:${payeeId}`;
export const transitOf = (programId: string) => `program:${programId}:bank-transit`;

/** Journal entries of the payouts of a program (to prove an import posted nothing). */
export async function payoutEntries(t: TestApp, programId: string): Promise<number> {
  const [r] = await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind LIKE 'payout_%' AND metadata->>'programId' = $1`, [programId]);
  return r.n;
}
