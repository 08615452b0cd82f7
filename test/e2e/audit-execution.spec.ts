// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:audit-execution`;

import { parse } from 'csv-parse/sync';
import { Client } from 'pg';
import { ExecutionService } from '../../src/audit/execution.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, meetObligations } from '../support/cycle-fixtures';
import { applyLoan, approveLoan, borrowers, disbursedLoan, LoanActors, loanProgram } from '../support/loan-fixtures';
import { key, programFromFixture, runCycle, seedFixture } from '../support/payout-fixtures';

type Staff = Awaited<ReturnType<TestApp['staff']>>;
type Row = { key: string; appropriated: string; committed: string; executed: string; reintegrated: string; available: string; planned?: string; executedVsPlanned?: string };

/**
 * Budget execution (M11) of Desempleo, appropriated and paid through the API by real cycles:
 * by month against its spending calendar (002 part B @837641), by zone (alcaldía; comuna in Cali)
 * and by component, every total checked against the sum of its parts.
 */
describe('audit: budget execution by month, zone and component', () => {
  let t: TestApp;
  let operator: Staff;
  let approver: Staff;
  let officer: Staff;
  let auditor: Staff;
  let programId: string;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-08-20T18:00:00Z') });
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    officer = await t.staff('program_officer');
    auditor = await t.staff('auditor');
    const program = await programFromFixture(t, 'DESEMPLEO');
    programId = program.id;
    await t.http.post(`/v1/programs/${programId}/appropriations`).set(operator.auth).set('Idempotency-Key', key()).send({ amount: '100000.00', reference: 'SEFIN-2016-08' }).expect(201);
    const people = await addBeneficiaries(t.db, programId, 3, { instrument: 'none', incorporatedOn: '2016-08-01', bankAccount: true });
    await meetObligations(t.db, programId, '2016-12');
    const addresses = [{ state: 'DF', municipality: 'Tlalpan' }, { state: 'DF', municipality: 'Coyoacán' }, { state: 'VC', municipality: 'Santiago de Cali', comuna: 'Comuna 3' }];
    for (const [i, p] of people.entries()) await t.db.query(`UPDATE beneficiaries SET address = $2 WHERE id = $1`, [p.beneficiaryId, JSON.stringify(addresses[i])]);
    t.clock.set('2016-09-01T18:00:00Z');
    expect(await runCycle(t, programId, '2016-09', operator, approver)).toMatchObject({ status: 'completed', postedTotal: '6451.20' });
    t.clock.set('2016-10-03T18:00:00Z');
    expect(await runCycle(t, programId, '2016-10', operator, approver)).toMatchObject({ status: 'completed', postedTotal: '6451.20' });
    // False information: what was not transferred yet goes back (rules.onBaja) — a reintegro in Tlalpan.
    t.clock.set('2016-10-10T18:00:00Z');
    const baja = await t.http.post(`/v1/beneficiaries/${people[0].beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'false_information', effectiveDate: '2016-10-10' }).expect(200);
    expect(baja.body.reintegro.amount).toBe('4300.80');
    t.clock.set('2016-11-02T18:00:00Z');
  });
  afterAll(() => t.close());

  const execution = async (query: string) => (await t.http.get(`/v1/audit/programs/${programId}/execution${query}`).set(auditor.auth).expect(200)).body;

  it('M11, SD spending calendar: by month, appropriated, executed, reintegrated and end-of-month balances, against the calendar; every check at 0.00', async () => {
    const r = await execution('?by=month&to=2016-10-31');
    expect(r.totals).toEqual({ appropriated: '100000.00', committed: '0.00', executed: '12902.40', reintegrated: '4300.80', available: '87097.60' });
    const rows: Record<string, Row> = Object.fromEntries(r.rows.map((x: Row) => [x.key, x]));
    expect(r.rows.map((x: Row) => x.key)).toEqual(['2016-01', '2016-02', '2016-03', '2016-04', '2016-05', '2016-06', '2016-07', '2016-08', '2016-09', '2016-10']);
    expect(rows['2016-08']).toMatchObject({ appropriated: '100000.00', executed: '0.00', available: '100000.00' });
    expect(rows['2016-09']).toMatchObject({ executed: '6451.20', available: '93548.80', committed: '0.00', planned: '55500000.00', executedVsPlanned: '-55493548.80' });
    expect(rows['2016-10']).toMatchObject({ executed: '6451.20', reintegrated: '4300.80', available: '87097.60', planned: '48000000.00' });
    expect(r.checks.length).toBeGreaterThanOrEqual(7);
    expect(r.differences).toEqual([]);
    expect(r.checks.find((c: { what: string }) => c.what.startsWith('spending calendar'))).toMatchObject({ total: seedFixture('DESEMPLEO').rules.authorizedBudget, difference: '0.00' });

    const csv = await t.http.get(`/v1/audit/programs/${programId}/execution?by=month&to=2016-10-31&format=csv`).set(auditor.auth).expect(200);
    const lines: string[][] = parse(csv.text, { relax_column_count: true });
    expect(lines[0]).toEqual(['section', 'key', 'appropriated', 'committed', 'executed', 'reintegrated', 'available', 'planned']);
    expect(lines).toContainEqual(['row', '2016-09', '0.00', '0.00', '6451.20', '0.00', '93548.80', '55500000.00']);
    expect(lines).toContainEqual(['total', 'total', '100000.00', '0.00', '12902.40', '4300.80', '87097.60', '']);
  });

  it('M11, R001 §4.3: by zone (alcaldía, or comuna in Cali) and by component; each total equals the sum of its rows', async () => {
    const zone = await execution('?by=zone');
    expect(zone.rows).toEqual([
      { key: 'Comuna 3', appropriated: '0.00', committed: '0.00', executed: '4300.80', reintegrated: '0.00', available: '0.00' },
      { key: 'Coyoacán', appropriated: '0.00', committed: '0.00', executed: '4300.80', reintegrated: '0.00', available: '0.00' },
      { key: 'Tlalpan', appropriated: '0.00', committed: '0.00', executed: '4300.80', reintegrated: '4300.80', available: '0.00' },
      { key: '(program)', appropriated: '100000.00', committed: '0.00', executed: '0.00', reintegrated: '0.00', available: '87097.60' },
    ]);
    expect(zone.differences).toEqual([]);
    const component = await execution('?by=component');
    expect(component.rows.map((x: Row) => [x.key, x.executed, x.available])).toEqual([['benefit', '12902.40', '0.00'], ['(program)', '0.00', '87097.60']]);
    expect(component.differences).toEqual([]);
  });

  it('R001 §4.3 (seed 001 totals that do not add up): a spending calendar that does not add up to the authorized budget is listed as a difference', async () => {
    // The rules as typed with a wrong authorized budget, as seed 001's own report has.
    const wrong = await programFromFixture(t, 'DESEMPLEO', { rules: (r) => ({ ...r, authorizedBudget: '509575587.00' }) });
    const r = (await t.http.get(`/v1/audit/programs/${wrong.id}/execution`).set(auditor.auth).expect(200)).body;
    expect(r.differences).toEqual([{ what: expect.stringContaining('spending calendar'), total: '509575587.00', sumOfParts: '509375587.00', difference: '200000.00' }]);
  });

  it('M11: the execution summary (audit_execution_days plus the entries after its mark) gives what every posting gives, by month, zone and component', async () => {
    const execution = t.app.get(ExecutionService);
    await execution.refreshSummary();
    for (const by of ['month', 'zone', 'component'] as const) {
      for (const q of [{ by }, { by, from: '2016-09-15', to: '2016-10-09' }]) {
        expect(await execution.program(programId, t.clock.now(), q, 'summary')).toEqual(await execution.program(programId, t.clock.now(), q, 'entries'));
      }
    }
  });

  it('M11: money posted after the summary was refreshed is counted (the tail after the mark), and again once folded', async () => {
    const execution = t.app.get(ExecutionService);
    await execution.refreshSummary();
    const before = await execution.program(programId, t.clock.now(), { by: 'month' });
    // Hold the folder's lock so the seals job cannot fold the new entry: it stays in the tail.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('monedero:audit:execution-days'))`);
      const posted = await t.http.post(`/v1/programs/${programId}/appropriations`).set(operator.auth).set('Idempotency-Key', key()).send({ amount: '2500.00', reference: 'SEFIN-2016-11' }).expect(201);
      const [tail] = await t.db.query(
        `SELECT (e.txid, e.seq) > (g.last_txid, g.last_seq) AS "inTail" FROM journal_entries e, audit_execution_progress g WHERE e.id = $1`,
        [posted.body.journalEntryId],
      );
      expect(tail.inTail).toBe(true);
      const after = await execution.program(programId, t.clock.now(), { by: 'month' });
      expect(after.totals).toEqual({ ...before.totals, appropriated: '102500.00', available: '89597.60' });
      expect(after.rows.find((r) => r.key === '2016-11')).toMatchObject({ appropriated: '2500.00', available: '89597.60' });
      expect(after).toEqual(await execution.program(programId, t.clock.now(), { by: 'month' }, 'entries'));
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(hashtext('monedero:audit:execution-days'))`);
      await holder.end();
    }
    await execution.refreshSummary();
    expect(await execution.program(programId, t.clock.now(), { by: 'month' })).toEqual(await execution.program(programId, t.clock.now(), { by: 'month' }, 'entries'));
  });

  it('validates its query and refuses other roles', async () => {
    await t.http.get(`/v1/audit/programs/${programId}/execution?by=colonia`).set(auditor.auth).expect(400);
    await t.http.get(`/v1/audit/programs/${programId}/execution?from=2016-10-01&to=2016-09-01`).set(auditor.auth).expect(400);
    await t.http.get(`/v1/audit/programs/${programId}/execution?to=2016-12-01`).set(auditor.auth).expect(400);
    await t.http.get(`/v1/audit/programs/${programId}/execution`).set(officer.auth).expect(403);
  });
});

/**
 * M11 for money paths other than cycles: a loan fund's budget goes to approved loans (committed)
 * and to disbursements (executed), so "available = appropriated − committed − executed" holds for
 * it too. Before loans counted, the report showed a −20,000.00 difference here.
 */
describe('audit: budget execution of a loan fund (FONDESOC)', () => {
  let t: TestApp;
  let auditor: Staff;
  let who: LoanActors;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2020-05-15T17:00:00Z') });
    who = { officer: await t.staff('program_officer'), operator: await t.staff('finance_operator'), approver: await t.staff('finance_approver') };
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  it('M11, R000-01: a loan approved is committed and a loan disbursed is executed; every check at 0.00, from the summary and from the postings', async () => {
    const fund = await loanProgram(t, 'FONDESOC', { capital: '100000.00' });
    const [lent, approved] = await borrowers(t, fund.id, 2);
    await disbursedLoan(t, fund.id, who, { beneficiaryId: lent, principal: '10000.00' });
    const applied = await applyLoan(t, fund.id, who.officer, { beneficiaryId: approved, principal: '10000.00' }).expect(201);
    await approveLoan(t, applied.body.id, who.approver).expect(200);

    for (const by of ['month', 'zone', 'component'] as const) {
      const r = (await t.http.get(`/v1/audit/programs/${fund.id}/execution?by=${by}`).set(auditor.auth).expect(200)).body;
      expect(r.totals).toMatchObject({ appropriated: '100000.00', committed: '10000.00', executed: '10000.00', available: '80000.00' });
      expect(r.checks.filter((c: { difference: string }) => c.difference !== '0.00')).toEqual([]);
    }
    const execution = t.app.get(ExecutionService);
    await execution.refreshSummary();
    for (const by of ['month', 'zone', 'component'] as const) {
      expect(await execution.program(fund.id, t.clock.now(), { by }, 'summary')).toEqual(await execution.program(fund.id, t.clock.now(), { by }, 'entries'));
    }
  });
});
