// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:rollover`;

import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PadronImportService } from '../../src/beneficiaries/padron-import.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, appropriate, balanceOf, createProgram, fixtureRules, meetObligations, waitForCycle } from '../support/cycle-fixtures';
import { randomMember } from '../support/grant-fixtures';
import { clabe } from '../support/payout-fixtures';

/**
 * Fiscal-year lineage (issue 14; docs/programs-padron.md "Fiscal years"): the next year's program
 * keeps the padrón and the instruments, moves no money, and caps count across the lineage.
 */
describe('fiscal-year rollover and lineage', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let admin: Awaited<ReturnType<TestApp['staff']>>;
  let auditor: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-07-02T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    admin = await t.staff('admin');
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  const at = (iso: string) => t.clock.set(new Date(iso));
  const runToEnd = async (programId: string, period: string) => {
    const d = await t.http.post(`/v1/programs/${programId}/cycles`).set(operator.auth).set('Idempotency-Key', `k-${++key}-${Date.now()}`).send({ period, kind: 'deposit' }).expect(201);
    await t.http.post(`/v1/cycles/${d.body.id}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
    return (await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200)).body;
  };
  const rollover = (programId: string, body: Record<string, unknown>) => t.http.post(`/v1/programs/${programId}/rollover`).set(admin.auth).send(body);
  /**
   * The trial balance's lines of one lineage: the programs' own accounts and their instruments'
   * (other suites post to other accounts of the shared database at the same time, so the whole
   * trial balance, totals included, is not this test's to compare); accounts at zero left out, as
   * the new year's own accounts open at zero.
   */
  const trialBalance = async (base: string) => {
    const tb = (await t.http.get('/v1/audit/trial-balance').set(auditor.auth).expect(200)).body;
    const ours = await t.db.query(
      `SELECT a.code FROM ledger_accounts a JOIN programs p ON p.id = a.program_id WHERE p.code LIKE $1 || '-%'
       UNION SELECT a.code FROM ledger_accounts a JOIN instruments i ON i.account_id = a.id JOIN programs p ON p.id = i.program_id WHERE p.code LIKE $1 || '-%'`,
      [base],
    );
    const codes = new Set(ours.map((r: { code: string }) => r.code));
    expect(codes.size).toBeGreaterThan(3);
    return Object.fromEntries(tb.accounts.filter((a: { code: string; balance: string }) => codes.has(a.code) && a.balance !== '0.00').map((a: { code: string; balance: string }) => [a.code, a.balance]));
  };

  it('M15, P27–P28: the 2017 program keeps the padrón (folio, incorporation, re-entries) and the cards with their balances; no money moves; a second rollover → 409', async () => {
    at('2016-12-02T18:00:00Z');
    const base = `PENSION-R${randomUUID().slice(0, 6).toUpperCase()}`;
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('PENSION-AM'), budget: '100000.00', code: `${base}-2016` });
    const carried = await addBeneficiaries(t.db, program.id, 3, { incorporatedOn: '2016-02-10' });
    const [gone] = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-02-10' });
    await t.db.query(`UPDATE beneficiaries SET reentry_count = 2 WHERE id = $1`, [carried[0].beneficiaryId]);
    await t.db.query(`UPDATE beneficiaries SET status = 'inactive', deactivation_cause = 'death', deactivated_on = '2016-11-20' WHERE id = $1`, [gone.beneficiaryId]);
    expect(await runToEnd(program.id, '2016-12')).toMatchObject({ postedCount: 3, postedTotal: '3225.60' });

    const before = await trialBalance(base);
    // 2017 with a new Unidad de Cuenta (73.04 × 15 = 1,095.60).
    const rules2017 = { ...fixtureRules('PENSION-AM'), benefit: { type: 'unidades_de_cuenta', unitValue: '73.04', factor: '15' } };
    const next = await rollover(program.id, { fiscalYear: 2017, rules: rules2017 }).expect(201);
    expect(next.body).toMatchObject({ code: `${base}-2017`, fiscalYear: 2017, carried: { beneficiaries: 3, instruments: 3 } });
    expect(await trialBalance(base)).toEqual(before);

    const padron = async (programId: string) =>
      t.db.query(
        `SELECT folio, curp, to_char(incorporated_on, 'YYYY-MM-DD') AS inc, reentry_count AS re FROM beneficiaries WHERE program_id = $1 AND status = 'active' ORDER BY folio`,
        [programId],
      );
    expect(await padron(next.body.id)).toEqual(await padron(program.id));
    expect((await padron(next.body.id)).map((b: { re: number }) => b.re).sort()).toEqual([0, 0, 2]);
    const cards = await t.db.query(`SELECT i.id, i.account_id AS "accountId", b.program_id AS "programId" FROM instruments i JOIN beneficiaries b ON b.id = i.beneficiary_id WHERE i.id = ANY ($1::uuid[])`, [
      carried.map((c) => c.instrumentId),
    ]);
    expect(cards.map((c: { programId: string }) => c.programId)).toEqual([next.body.id, next.body.id, next.body.id]);
    for (const c of carried) expect(await balanceOf(t.db, c.accountId!)).toBe('1075.20');

    expect((await rollover(program.id, { fiscalYear: 2017 }).expect(409)).body.code).toBe('program_exists');

    // January 2017 pays the carried cards at the new amount; the 2016 balance is still there (P27–P28).
    at('2017-01-02T18:00:00Z');
    await appropriate(ledger, { id: next.body.id, code: next.body.code, budgetAccountId: next.body.budgetAccountId, reintegroAccountId: next.body.reintegroAccountId }, '50000.00');
    expect(await runToEnd(next.body.id, '2017-01')).toMatchObject({ postedCount: 3, postedTotal: '3286.80' });
    for (const c of carried) expect(await balanceOf(t.db, c.accountId!)).toBe('2170.80');
  });

  it('SD-2, W9: Desempleo cannot exceed 6 months across 2016 → 2017', async () => {
    at('2016-07-02T18:00:00Z');
    const base = `DESEMPLEO-R${randomUUID().slice(0, 6).toUpperCase()}`;
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('DESEMPLEO'), budget: '100000.00', code: `${base}-2016` });
    await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-07-01', instrument: 'none', bankAccount: true });
    await meetObligations(t.db, program.id, '2016-12');
    for (const m of ['08', '09', '10', '11', '12']) {
      at(`2016-${m}-01T18:00:00Z`);
      expect(await runToEnd(program.id, `2016-${m}`)).toMatchObject({ postedCount: 1 });
    }
    const next = (await rollover(program.id, { fiscalYear: 2017 }).expect(201)).body;
    await appropriate(ledger, { id: next.id, code: next.code, budgetAccountId: next.budgetAccountId, reintegroAccountId: next.reintegroAccountId }, '50000.00');
    await meetObligations(t.db, next.id, '2017-12');
    at('2017-01-02T18:00:00Z');
    expect(await runToEnd(next.id, '2017-01')).toMatchObject({ controlCount: 1, postedCount: 1 }); // the sixth month
    at('2017-02-02T18:00:00Z');
    const feb = await runToEnd(next.id, '2017-02');
    expect(feb).toMatchObject({ controlCount: 0 });
    expect(feb.exclusions).toEqual({ max_months_reached: 1 });
  });
  it('SD-2 (once every two years), W9: a person paid by DESEMPLEO-2016 cannot be enrolled again in DESEMPLEO-2017 within two years of the last payment', async () => {
    const officer = await t.staff('program_officer');
    at('2016-07-02T18:00:00Z');
    const base = `DESEMPLEO-O${randomUUID().slice(0, 6).toUpperCase()}`;
    const program = await createProgram(t.db, ledger, { rules: fixtureRules('DESEMPLEO'), budget: '100000.00', code: `${base}-2016` });
    const person = randomMember();
    const body = { ...person, birthDate: `19${person.curp.slice(4, 6)}-${person.curp.slice(6, 8)}-${person.curp.slice(8, 10)}`, address: { state: 'DF' } };
    const enrolled = (await t.http.post(`/v1/programs/${program.id}/beneficiaries`).set(officer.auth).send({ ...body, applicationDate: '2016-07-01' }).expect(201)).body;
    await t.http.put(`/v1/beneficiaries/${enrolled.id}/bank-account`).set(officer.auth).send({ clabe: clabe(4242), holderName: person.givenNames }).expect(200);
    at('2016-08-01T18:00:00Z');
    expect(await runToEnd(program.id, '2016-08')).toMatchObject({ controlCount: 1, postedCount: 1 });
    const next = (await rollover(program.id, { fiscalYear: 2017 }).expect(201)).body;
    const [carried] = await t.db.query(`SELECT id FROM beneficiaries WHERE program_id = $1 AND curp = $2`, [next.id, person.curp]);
    at('2017-03-01T18:00:00Z');
    await t.http.post(`/v1/beneficiaries/${carried.id}/deactivate`).set(officer.auth).send({ cause: 'term_completed', effectiveDate: '2017-02-28' }).expect(200);
    // No lastPaymentAt declared: the lineage's own payment (2016-08) is what refuses the new alta.
    const refused = await t.http.post(`/v1/programs/${next.id}/beneficiaries`).set(officer.auth).send({ ...body, applicationDate: '2017-03-01' }).expect(422);
    expect(refused.body).toMatchObject({ code: 'not_eligible', rule: 'eligibility.oncePerYears' });
    expect(refused.body.detail).toContain('2016-08');

    // The padrón import checks the lineage too: the same person from a file is refused, the other line imported.
    const other = randomMember();
    const row = (m: typeof person) => `${m.curp},${m.givenNames},${m.surnames},19${m.curp.slice(4, 6)}-${m.curp.slice(6, 8)}-${m.curp.slice(8, 10)},DF,2017-03-01`;
    const file = join(mkdtempSync(join(tmpdir(), 'padron-lineage-')), 'padron.csv');
    writeFileSync(file, ['curp,given_names,surnames,birth_date,state,application_date', row(person), row(other)].join('\n') + '\n');
    const report = await t.app.get(PadronImportService).importFile(next.id, file, { actor: 'cli:padron:import' });
    expect(report).toMatchObject({ imported: 1, rejected: 1 });
    expect(report.rejections).toEqual([{ line: 2, reason: expect.stringMatching(/^not_eligible: eligibility\.oncePerYears: the last benefit was paid on 2016-08/) }]);
    const imported = await t.db.query(`SELECT curp FROM beneficiaries WHERE program_id = $1 AND status = 'active'`, [next.id]);
    expect(imported).toEqual([{ curp: other.curp }]);
  });
});
