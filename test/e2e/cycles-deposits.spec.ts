// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:deposits`;

import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { DRAFT_SCHEDULER_ID } from '../../src/disbursements/cycles.processor';
import { QUEUES } from '../../src/jobs/queues';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, createProgram, ledgerTotalsOfCycle, meetObligations, waitForCycle } from '../support/cycle-fixtures';
import { ProgramsService } from '../../src/programs/programs.service';

describe('disbursement cycles: deposits and voucher loads', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let key = 0;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  const draft = (programId: string, body: Record<string, unknown>, who = operator) =>
    t.http.post(`/v1/programs/${programId}/cycles`).set(who.auth).set('Idempotency-Key', `k-${++key}-${Date.now()}`).send(body);
  const approve = (cycleId: string, who = approver) => t.http.post(`/v1/cycles/${cycleId}/approve`).set(who.auth);
  const runToEnd = async (programId: string, body: Record<string, unknown>) => {
    const d = await draft(programId, body).expect(201);
    await approve(d.body.id).expect(200);
    await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
    return (await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200)).body;
  };

  it('Pensión: a monthly cycle pays active cards with an active instrument, never retroactively, end to end', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '100000.00' });
    const paid = await addBeneficiaries(t.db, program.id, 5, { incorporatedOn: '2016-01-10' });
    const late = await addBeneficiaries(t.db, program.id, 1, { incorporatedOn: '2016-03-15' });
    await addBeneficiaries(t.db, program.id, 1, { instrument: 'blocked' });
    await addBeneficiaries(t.db, program.id, 1, { instrument: 'none' });

    const key1 = `pension-${Date.now()}`;
    const created = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key1).send({ period: '2016-03', kind: 'deposit' }).expect(201);
    expect(created.body).toMatchObject({ status: 'draft', controlCount: 5, controlTotal: '5376.00', paymentDate: '2016-03-01', postedCount: 0 });
    expect(created.body.exclusions).toEqual({ not_yet_incorporated: 1, no_active_instrument: 2 });
    const replay = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key1).send({ period: '2016-03', kind: 'deposit' }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(created.body.id);
    const again = await draft(program.id, { period: '2016-03', kind: 'deposit' }).expect(409);
    expect(again.body.code).toBe('cycle_exists');

    // The operator role cannot approve at all; an approver can.
    await approve(created.body.id, operator).expect(403);
    const approved = await approve(created.body.id).expect(200);
    expect(approved.body.status).toBe('approved');
    const done = await waitForCycle(t.db, created.body.id, ['completed', 'completed_with_exceptions']);
    expect(done.status).toBe('completed');

    const got = await t.http.get(`/v1/cycles/${created.body.id}`).set(approver.auth).expect(200);
    expect(got.body).toMatchObject({ status: 'completed', controlCount: 5, controlTotal: '5376.00', postedCount: 5, postedTotal: '5376.00', exceptionCount: 0 });
    for (const p of paid) expect(await balanceOf(t.db, p.accountId!)).toBe('1075.20');
    expect(await balanceOf(t.db, late[0].accountId!)).toBe('0.00');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('94624.00');
    expect(await balanceOf(t.db, got.body.commitmentAccountId)).toBe('0.00');
    expect(await ledgerTotalsOfCycle(t.db, created.body.id)).toEqual({ entries: 5, duplicates: 0, debited: '5376.00', exceptions: 0 });

    // Lines, paginated; each posted line names its journal entry (commitment → instrument).
    const page1 = await t.http.get(`/v1/cycles/${created.body.id}/lines?limit=2`).set(approver.auth).expect(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.data[0]).toMatchObject({ lineNo: 1, amount: '1075.20', status: 'posted' });
    const page3 = await t.http.get(`/v1/cycles/${created.body.id}/lines?limit=2&cursor=${(await t.http.get(`/v1/cycles/${created.body.id}/lines?limit=4`).set(approver.auth)).body.nextCursor}`).set(approver.auth).expect(200);
    expect(page3.body.data.map((l: { lineNo: number }) => l.lineNo)).toEqual([5]);
    expect(page3.body.nextCursor).toBeNull();
    const entry = await t.http.get(`/v1/journal-entries/${page1.body.data[0].journalEntryId}`).set(approver.auth).expect(200);
    expect(entry.body.kind).toBe('cycle_deposit');
    expect(entry.body.postings).toHaveLength(2);

    // April: the person incorporated on 15 March is paid from April on (never March).
    const april = await runToEnd(program.id, { period: '2016-04', kind: 'deposit' });
    expect(april).toMatchObject({ controlCount: 6, postedCount: 6, postedTotal: '6451.20' });
    expect(await balanceOf(t.db, late[0].accountId!)).toBe('1075.20');
    expect(await balanceOf(t.db, paid[0].accountId!)).toBe('2150.40');
  });

  it('a line whose card is blocked after the draft becomes an exception and its money returns to the budget', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '10000.00' });
    const people = await addBeneficiaries(t.db, program.id, 3);
    const d = await draft(program.id, { period: '2016-03', kind: 'deposit' }).expect(201);
    await t.db.query(`UPDATE instruments SET status = 'blocked' WHERE id = $1`, [people[1].instrumentId]);
    await approve(d.body.id).expect(200);
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('6774.40');
    await waitForCycle(t.db, d.body.id, ['completed', 'completed_with_exceptions']);
    const got = await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200);
    expect(got.body).toMatchObject({ status: 'completed_with_exceptions', postedCount: 2, postedTotal: '2150.40', exceptionCount: 1, exceptionTotal: '1075.20' });
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('7849.60');
    expect(await balanceOf(t.db, people[1].accountId!)).toBe('0.00');
    const lines = await t.http.get(`/v1/cycles/${d.body.id}/lines`).set(approver.auth).expect(200);
    expect(lines.body.data.find((l: { beneficiaryId: string }) => l.beneficiaryId === people[1].beneficiaryId)).toMatchObject({
      status: 'exception',
      exceptionReason: 'instrument_blocked',
      journalEntryId: null,
    });
  });

  it('Útiles: one voucher load with the amount by school level; a second load is refused', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'utiles', budget: '1000.00' });
    const pupils = await addBeneficiaries(t.db, program.id, 3, {
      attributesSql: `jsonb_build_object('schoolLevel', (ARRAY['preescolar','primaria','secundaria'])[g])`,
      instrumentKind: 'voucher',
      expiresAt: '2017-01-01T06:00:00Z',
    });
    await addBeneficiaries(t.db, program.id, 1, { instrumentKind: 'voucher' }); // no school level
    const d = await draft(program.id, { period: '2016-08', kind: 'deposit' }).expect(201);
    expect(d.body).toMatchObject({ controlCount: 3, controlTotal: '320.00', loadNumber: 1 });
    expect(d.body.exclusions).toEqual({ no_amount_for_schoolLevel: 1 });
    await approve(d.body.id).expect(200);
    await waitForCycle(t.db, d.body.id, ['completed']);
    const byLevel = await t.db.query(
      `SELECT b.attributes ->> 'schoolLevel' AS level, a.posted_credits::text AS credited FROM beneficiaries b
         JOIN instruments i ON i.beneficiary_id = b.id JOIN ledger_accounts a ON a.id = i.account_id
        WHERE b.id = ANY ($1) ORDER BY a.posted_credits`,
      [pupils.map((p) => p.beneficiaryId)],
    );
    expect(byLevel).toEqual([
      { level: 'preescolar', credited: '60.00' },
      { level: 'primaria', credited: '110.00' },
      { level: 'secundaria', credited: '150.00' },
    ]);
    const entry = await t.db.query(`SELECT kind FROM journal_entries WHERE idempotency_key = $1`, [`cycle:${d.body.id}:line:${pupils[0].beneficiaryId}`]);
    expect(entry[0].kind).toBe('cycle_voucher_load');
    const second = await draft(program.id, { period: '2016-09', kind: 'deposit' }).expect(422);
    expect(second.body.code).toBe('load_limit_reached');
  });

  it('Uniformes: two loads of $150, identified by their periods; a third is refused', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'uniformes', budget: '1000.00' });
    const pupils = await addBeneficiaries(t.db, program.id, 2, { instrumentKind: 'voucher', expiresAt: '2017-01-01T06:00:00Z' });
    const first = await runToEnd(program.id, { period: '2016-08', kind: 'deposit' });
    expect(first).toMatchObject({ loadNumber: 1, controlTotal: '300.00', postedTotal: '300.00' });
    const second = await runToEnd(program.id, { period: '2016-10', kind: 'deposit' });
    expect(second).toMatchObject({ loadNumber: 2, controlTotal: '300.00', postedTotal: '300.00' });
    for (const p of pupils) expect(await balanceOf(t.db, p.accountId!)).toBe('300.00');
    const third = await draft(program.id, { period: '2016-11', kind: 'deposit' }).expect(422);
    expect(third.body.code).toBe('load_limit_reached');
  });

  it('S-bank, S9: a Seguro split line posts $1,500 to her payable and $37 to the insurer payable in one entry; no bank details, no line', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'seguro', budget: '10000.00' });
    const women = await addBeneficiaries(t.db, program.id, 2, { instrument: 'none', bankAccount: true });
    await addBeneficiaries(t.db, program.id, 1, { instrument: 'none' });
    await meetObligations(t.db, program.id, '2016-12');
    const c = await runToEnd(program.id, { period: '2016-03', kind: 'deposit' });
    expect(c).toMatchObject({ status: 'completed', controlTotal: '3074.00', postedTotal: '3074.00', exclusions: { missing_bank_account: 1 } });
    for (const w of women) {
      const payable = await ledger.findAccountByCode(`program:${program.id}:payable:beneficiary:${w.beneficiaryId}`);
      expect(await balanceOf(t.db, payable!.id)).toBe('1500.00');
    }
    const insurer = await ledger.findAccountByCode(`program:${program.id}:payable:insurer:${program.id}`);
    expect(await balanceOf(t.db, insurer!.id)).toBe('74.00');
    const e = await t.db.query(
      `SELECT count(*)::int AS n, sum(CASE side WHEN 'debit' THEN amount ELSE -amount END)::text AS net FROM postings
        WHERE entry_id = (SELECT id FROM journal_entries WHERE idempotency_key = $1)`,
      [`cycle:${c.id}:line:${women[0].beneficiaryId}`],
    );
    expect(e[0]).toEqual({ n: 3, net: '0.00' });
  });

  it('maximum months: Desempleo 6; Seguro 12, or 18 only with an authorisation record', async () => {
    const desempleo = await createProgram(t.db, ledger, { rules: 'desempleo' });
    await addBeneficiaries(t.db, desempleo.id, 1, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, desempleo.id, '2016-12');
    for (let m = 1; m <= 6; m++) expect((await draft(desempleo.id, { period: `2016-0${m}`, kind: 'deposit' }).expect(201)).body.controlTotal).toBe('2150.40');
    const seventh = await draft(desempleo.id, { period: '2016-07', kind: 'deposit' }).expect(201);
    expect(seventh.body).toMatchObject({ controlCount: 0, exclusions: { max_months_reached: 1 } });

    const seguro = await createProgram(t.db, ledger, { rules: 'seguro' });
    const [plain] = await addBeneficiaries(t.db, seguro.id, 1, { instrument: 'none', bankAccount: true });
    const [extended] = await addBeneficiaries(t.db, seguro.id, 1, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, seguro.id, '2017-12');
    const periods = Array.from({ length: 19 }, (_, i) => `${2016 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`);
    for (const p of periods.slice(0, 12)) expect((await draft(seguro.id, { period: p, kind: 'deposit' }).expect(201)).body.controlCount).toBe(2);
    const officer = await t.staff('program_officer');
    await t.http.post(`/v1/beneficiaries/${extended.beneficiaryId}/extension-authorizations`).set(officer.auth).send({ reference: 'DGIDS/123/2016' }).expect(201);
    const dup = await t.http.post(`/v1/beneficiaries/${extended.beneficiaryId}/extension-authorizations`).set(officer.auth).send({ reference: 'again' }).expect(409);
    expect(dup.body.code).toBe('authorization_exists');
    for (const p of periods.slice(12, 18)) {
      const d = await draft(seguro.id, { period: p, kind: 'deposit' }).expect(201);
      expect(d.body).toMatchObject({ controlCount: 1, exclusions: { max_months_reached: 1 } });
    }
    const month19 = await draft(seguro.id, { period: periods[18], kind: 'deposit' }).expect(201);
    expect(month19.body).toMatchObject({ controlCount: 0, exclusions: { max_months_reached: 2 } });
    const lines = await t.db.query(`SELECT count(*)::int AS n FROM cycle_lines WHERE beneficiary_id = $1`, [plain.beneficiaryId]);
    expect(lines[0].n).toBe(12);
  });

  it('maker-checker: the preparer cannot approve; approval over the available budget is refused and writes nothing', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '1000.00' });
    await addBeneficiaries(t.db, program.id, 1);
    const admin = await t.staff('admin');
    const d = await draft(program.id, { period: '2016-03', kind: 'deposit' }, admin).expect(201);
    const self = await approve(d.body.id, admin).expect(403);
    expect(self.body.code).toBe('same_user_cannot_approve');
    const poor = await approve(d.body.id).expect(422);
    expect(poor.body.code).toBe('insufficient_budget');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('1000.00');
    const got = await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth).expect(200);
    expect(got.body.status).toBe('draft');
    const entries = await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE metadata ->> 'cycleId' = $1`, [d.body.id]);
    expect(entries[0].n).toBe(0);
  });

  it('two cycles racing for the same budget: exactly one is approved, the budget never goes below zero', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '1500.00' });
    await addBeneficiaries(t.db, program.id, 1);
    const a = await draft(program.id, { period: '2016-03', kind: 'deposit', scheduledFor: '2030-01-01T00:00:00Z' }).expect(201);
    const b = await draft(program.id, { period: '2016-04', kind: 'deposit', scheduledFor: '2030-01-01T00:00:00Z' }).expect(201);
    const [ra, rb] = await Promise.all([approve(a.body.id), approve(b.body.id)]);
    expect([ra.status, rb.status].sort()).toEqual([200, 422]);
    expect([ra.body.code, rb.body.code]).toContain('insufficient_budget');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('424.80');
    // The program's budget figures show the reservation as committed, not yet disbursed.
    const programs = t.app.get(ProgramsService);
    const figures = async () => {
      const f = await programs.budget(await programs.getById(program.id));
      return { committed: f.committed.toFixed(2), available: f.available.toFixed(2), disbursed: f.disbursed.toFixed(2) };
    };
    expect(await figures()).toEqual({ committed: '1075.20', available: '424.80', disbursed: '0.00' });
    // Cancelling the approved (scheduled) one returns its commitment to the budget.
    const winner = ra.status === 200 ? a.body.id : b.body.id;
    const cancelled = await t.http.post(`/v1/cycles/${winner}/cancel`).set(approver.auth).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('1500.00');
    expect(await figures()).toEqual({ committed: '0.00', available: '1500.00', disbursed: '0.00' });
    const twice = await t.http.post(`/v1/cycles/${winner}/cancel`).set(approver.auth).expect(409);
    expect(twice.body.code).toBe('cycle_not_cancellable');
  });

  it('the database itself refuses to overdraw a budget when two commitments race (no application check)', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '1500.00' });
    const commitments = await Promise.all(
      [1, 2].map((i) =>
        ledger.ensureAccount({ code: `test:race:${program.id}:${i}`, name: 'race', category: 'cycle_commitment', noNegativeBalance: true }),
      ),
    );
    const url = (t.db.options as { url: string }).url;
    const clients = [new Client({ connectionString: url }), new Client({ connectionString: url })];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      await Promise.all(clients.map((c) => c.query('BEGIN')));
      const post = (c: Client, i: number) =>
        c.query(`SELECT * FROM ledger_post('cycle_commitment', $1, now(), ARRAY[$2::uuid, $3::uuid], ARRAY['debit','credit'], ARRAY[1075.20, 1075.20])`, [
          `race:${program.id}:${i}`,
          program.budgetAccountId,
          commitments[i].id,
        ]);
      await post(clients[0], 0); // holds the budget row lock until commit
      const second = post(clients[1], 1).then(
        () => 'posted',
        (e: { code?: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 200));
      await clients[0].query('COMMIT');
      expect(await second).toBe('23514');
      await clients[1].query('ROLLBACK');
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('424.80');
  });

  it('an approved cycle runs at its scheduled time, not before', async () => {
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '10000.00' });
    await addBeneficiaries(t.db, program.id, 2);
    const at = new Date(t.clock.now().getTime() + 2000).toISOString();
    const d = await draft(program.id, { period: '2016-03', kind: 'deposit', scheduledFor: at }).expect(201);
    const approvedAt = Date.now();
    await approve(d.body.id).expect(200);
    await new Promise((r) => setTimeout(r, 800));
    expect((await t.http.get(`/v1/cycles/${d.body.id}`).set(approver.auth)).body.status).toBe('approved');
    await waitForCycle(t.db, d.body.id, ['completed'], 15000);
    // The delay is computed from the injected clock (scheduledFor − now = 2 s), then waited in real time.
    expect(Date.now() - approvedAt).toBeGreaterThanOrEqual(1900);
  });

  it('schedules: a Job Scheduler makes the next monthly draft ahead of its payment day, once', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.cycles));
    // Registered without blocking start-up (keepScheduled): wait for it.
    let scheduler = await queue.getJobScheduler(DRAFT_SCHEDULER_ID);
    for (let i = 0; i < 50 && !scheduler; i++) {
      await new Promise((r) => setTimeout(r, 100));
      scheduler = await queue.getJobScheduler(DRAFT_SCHEDULER_ID);
    }
    expect(scheduler?.pattern).toBe('0 6 * * *');
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '10000.00' });
    await addBeneficiaries(t.db, program.id, 2);
    const cycles = t.app.get(CyclesService);
    t.clock.set('2016-03-20T18:00:00Z'); // 12 days before 1 April: too early
    expect(await cycles.createScheduledDrafts(5, [program.id])).toEqual([]);
    t.clock.set('2016-03-28T18:00:00Z');
    const [id] = await cycles.createScheduledDrafts(5, [program.id]);
    expect(await cycles.createScheduledDrafts(5, [program.id])).toEqual([]);
    const c = await cycles.find(id);
    expect(c).toMatchObject({ period: '2016-04', status: 'draft', controlCount: 2, preparedBy: 'system:scheduler' });
    expect(new Date(c.scheduledFor!).toISOString()).toBe('2016-04-01T06:00:00.000Z');
    t.clock.set('2016-02-25T18:00:00Z');
  });
});
