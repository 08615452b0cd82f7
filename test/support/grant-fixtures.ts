import { randomInt, randomUUID } from 'node:crypto';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { rfcCheckDigit } from '../../src/beneficiaries/rfc.rules';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { readProgramFixtures, rulesForFiscalYear } from '../../src/programs/program-fixtures';
import { Program, ProgramsService } from '../../src/programs/programs.service';
import type { TestApp } from './app';

/**
 * The grant programs of fixtures/programs/ as the tests use them: loaded from the fixture files
 * (never inline copies), under a code of their own (`<BASE>-T<random>-<year>`, so a test's lineage
 * is its own while other test files share the database), with collective grantees of random RFCs
 * and members of random CURPs.
 */

export type Staff = Awaited<ReturnType<TestApp['staff']>>;

/** A program made from the fixture of `base`, for `fiscalYear` (the seed year by default), appropriated when asked. */
export async function loadGrantProgram(
  t: TestApp,
  base: string,
  opts: { fiscalYear?: number; lineage?: string; appropriate?: string | 'authorized' } = {},
): Promise<Program & { lineage: string }> {
  const fixture = readProgramFixtures().find((f) => f.base === base);
  if (!fixture) throw new Error(`no fixture ${base}`);
  const year = opts.fiscalYear ?? fixture.seedYear;
  const lineage = opts.lineage ?? `${base}-T${randomUUID().slice(0, 6).toUpperCase()}`;
  const programs = t.app.get(ProgramsService);
  const program = await programs.create(
    {
      code: `${lineage}-${year}`,
      name: `${fixture.name} ${year}`,
      fiscalYear: year,
      instrumentType: fixture.instrumentType,
      currency: fixture.currency,
      confidential: fixture.confidential,
      rules: rulesForFiscalYear(fixture.rules, fixture.seedYear, year),
    },
    'test',
  );
  if (opts.appropriate) {
    const amount = opts.appropriate === 'authorized' ? program.rules.authorizedBudget! : opts.appropriate;
    await programs.appropriate(program.id, { amount, reference: 'test', ledgerKey: `test-appropriation:${program.id}:${randomUUID()}` }, 'test');
  }
  return { ...program, lineage };
}

const GIVEN = ['María', 'José', 'Juana', 'Pedro', 'Lucía', 'Rosa', 'Andrés', 'Elena', 'Tomás', 'Irma'];
const SURNAMES = ['Hernández', 'García', 'Martínez', 'López', 'Pérez', 'Sánchez', 'Ramírez', 'Cruz', 'Flores', 'Gómez'];

/** A valid CURP of a random adult (random names, birth date and homoclave). */
export function randomMember(): { curp: string; givenNames: string; surnames: string } {
  const givenNames = GIVEN[randomInt(GIVEN.length)];
  const first = SURNAMES[randomInt(SURNAMES.length)];
  const second = SURNAMES[randomInt(SURNAMES.length)];
  const birthDate = `19${randomInt(50, 99)}-${String(randomInt(1, 13)).padStart(2, '0')}-${String(randomInt(1, 29)).padStart(2, '0')}`;
  const curp = buildCurp({ givenNames, firstSurname: first, secondSurname: second, birthDate, sex: randomInt(2) ? 'H' : 'M', state: 'DF', homoclave: String(randomInt(10)) });
  return { curp, givenNames, surnames: `${first} ${second}` };
}

/** A valid 12-character RFC of a legal person (random letters, constitution date and homoclave). */
export function randomRfc(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const pick = (n: number, from: string) => Array.from({ length: n }, () => from[randomInt(from.length)]).join('');
  const first11 = `${pick(3, letters)}${String(randomInt(0, 16)).padStart(2, '0')}${String(randomInt(1, 13)).padStart(2, '0')}${String(randomInt(1, 29)).padStart(2, '0')}${pick(2, letters + '0123456789')}`;
  return `${first11}${rfcCheckDigit(first11)}`;
}

/** Enrols a collective grantee through the API (program_officer): a group, or a constituted collective with an RFC. */
export async function enrolCollective(
  t: TestApp,
  officer: Staff,
  programId: string,
  opts: { kind?: 'cooperative' | 'civil_organisation' | 'firm' | 'group'; members?: number | Array<{ curp: string; givenNames: string; surnames: string }>; rfc?: string | null; applicationDate?: string },
): Promise<{ id: string; rfc: string | null; members: Array<{ curp: string; givenNames: string; surnames: string }> }> {
  const kind = opts.kind ?? 'cooperative';
  const members = Array.isArray(opts.members) ? opts.members : Array.from({ length: opts.members ?? 5 }, randomMember);
  const rfc = opts.rfc === undefined ? (kind === 'group' ? null : randomRfc()) : opts.rfc;
  const res = await t.http
    .post(`/v1/programs/${programId}/beneficiaries`)
    .set(officer.auth)
    .send({
      kind,
      legalName: `${kind === 'group' ? 'Grupo' : 'Sociedad Cooperativa'} ${randomUUID().slice(0, 6)}`,
      ...(rfc ? { rfc } : {}),
      members,
      address: { state: 'DF', municipality: 'Tlalpan' },
      ...(opts.applicationDate ? { applicationDate: opts.applicationDate } : {}),
    });
  if (res.status !== 201) throw new Error(`enrolment failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, rfc, members };
}

/** POST /v1/programs/{id}/grants with an Idempotency-Key; returns the response (any status). */
export function award(t: TestApp, staff: Staff, programId: string, body: Record<string, unknown>) {
  return t.http.post(`/v1/programs/${programId}/grants`).set(staff.auth).set('Idempotency-Key', randomUUID()).send(body);
}

/**
 * A tranche cycle for `period` drafted and approved through the API (maker-checker), then run in
 * this process (start, every chunk, finish) as the worker would; returns the finished cycle.
 */
export async function runTrancheCycle(t: TestApp, operator: Staff, approver: Staff, programId: string, period: string) {
  const draft = await t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', randomUUID()).send({ period, kind: 'tranche' });
  if (draft.status !== 201) throw new Error(`draft failed: ${draft.status} ${JSON.stringify(draft.body)}`);
  await t.http.post(`/v1/cycles/${draft.body.id}/approve`).set(approver.auth).expect(200);
  const cycles = t.app.get(CyclesService);
  await cycles.start(draft.body.id);
  if (draft.body.controlCount > 0) await cycles.postChunk(draft.body.id, 1, draft.body.controlCount);
  await cycles.finish(draft.body.id);
  return (await t.http.get(`/v1/cycles/${draft.body.id}`).set(approver.auth).expect(200)).body;
}

/** Submits a proof of spending for a tranche and has another user accept it. */
export async function proveTranche(t: TestApp, operator: Staff, approver: Staff, grantId: string, trancheNo: number, amount: string) {
  const p = await t.http
    .post(`/v1/grants/${grantId}/tranches/${trancheNo}/proofs`)
    .set(operator.auth)
    .send({ amount, documents: [{ reference: `FAC-${randomUUID().slice(0, 8)}`, kind: 'invoice' }] });
  if (p.status !== 201) throw new Error(`proof failed: ${p.status} ${JSON.stringify(p.body)}`);
  const accepted = await t.http.post(`/v1/grant-proofs/${p.body.id}/accept`).set(approver.auth).send({});
  if (accepted.status !== 200) throw new Error(`acceptance failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return accepted.body;
}

export async function grant(t: TestApp, staff: Staff, grantId: string) {
  return (await t.http.get(`/v1/grants/${grantId}`).set(staff.auth).expect(200)).body;
}
