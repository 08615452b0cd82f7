// Own queue prefix: the API children and the in-process app share it, nobody else.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:payoutcrash`;

import { parse } from 'csv-parse/sync';
import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries } from '../support/cycle-fixtures';
import { sealAndCheckIntegrity, siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { balanceByCode, programFromFixture, transitOf } from '../support/payout-fixtures';
import { startServiceProcess } from '../support/service-child';

const LINES = 20000;

/**
 * A crash between a payout batch's approval and its bank file: the API process serving the
 * approval is SIGKILLed while its transaction has moved the money to transit and not yet written
 * the file. Nothing is lost or half-done: the batch is still a draft with every peso on its
 * payables, and approving it again (another process) sends it with its file, once.
 */
describe('crash safety of payout batches', () => {
  let t: TestApp;
  const children: ChildProcess[] = [];
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('payoutcrash'));
    t = await createTestApp({ role: 'api', now: new Date('2016-02-25T18:00:00Z') });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await t.close();
    process.env.DATABASE_URL = saved;
  });

  async function startApi(): Promise<{ proc: ChildProcess; base: string }> {
    const child = await startServiceProcess({ MONEDERO_ROLE: 'api', MIGRATIONS_RUN: 'false', DB_POOL_SIZE: '4' });
    children.push(child.proc);
    return { proc: child.proc, base: child.base! };
  }

  it('an API process killed (SIGKILL) between the move to transit and the bank file: the batch stays a draft, nothing moved; approved again, it is sent once with its whole file', async () => {
    const program = await programFromFixture(t, 'DESEMPLEO', { budget: '100000000.00' });
    // Incorporated on 1 February: their first cartilla (rules.obligations) is March's, not due by March's deposit.
    await addBeneficiaries(t.db, program.id, LINES, { instrument: 'none', bankAccount: true, incorporatedOn: '2016-02-01' });
    const cycles = t.app.get(CyclesService);
    const cycle = await cycles.createDraft(program.id, { period: '2016-03', kind: 'deposit' }, { userId: null, name: 'test:preparer' });
    await cycles.approve(cycle.id, { userId: null, name: 'test:approver' });
    await cycles.start(cycle.id);
    for (let from = 1; from <= LINES; from += cycle.chunkSize) await cycles.postChunk(cycle.id, from, Math.min(LINES, from + cycle.chunkSize - 1));
    await cycles.finish(cycle.id);

    const operator = await t.staff('finance_operator');
    const approver = await t.staff('finance_approver');
    const draft = await t.http.post('/v1/payout-batches').set(operator.auth).set('Idempotency-Key', randomUUID()).send({ programId: program.id, kind: 'beneficiaries' }).expect(201);
    expect(draft.body).toMatchObject({ controlCount: LINES, controlTotal: '43008000.00' });
    const payables = async () =>
      (await t.db.query(`SELECT coalesce(sum(b.posted), 0)::text AS total FROM ledger_balances b WHERE b.program_id = $1 AND b.category = 'payee_payable'`, [program.id]))[0].total;
    expect(await payables()).toBe('43008000.00');

    // The approval runs in a child API process; it is killed once its transaction is inside the approval.
    const first = await startApi();
    const approval = fetch(`${first.base}/v1/payout-batches/${draft.body.id}/approve`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${approver.token}`, 'Idempotency-Key': randomUUID() },
    }).catch(() => null);
    const deadline = Date.now() + 60000;
    let seen: { state: string; query: string } | undefined;
    while (!seen) {
      // Reading the sent lines for the bank file: past payout_batch_send (the money is in transit), before the file's INSERT.
      [seen] = await t.db.query(
        `SELECT state, left(query, 80) AS query FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query LIKE '%FROM payout_lines WHERE batch_id = $1 AND status IN%' AND state IN ('active', 'idle in transaction')`,
      );
      if (Date.now() > deadline) throw new Error('the approval never got past payout_batch_send');
    }
    process.stderr.write(`payouts-crash: killed the API process at ${JSON.stringify(seen)}\n`);
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    expect(await approval).toBeNull();
    // PostgreSQL rolls the orphaned transaction back (once the function ends, if it was still running).
    while ((await t.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND query NOT LIKE '%pg_stat_activity%'`)).length) {
      await new Promise((r) => setTimeout(r, 50));
    }

    const [after] = await t.db.query(
      `SELECT b.status, (SELECT count(*)::int FROM payout_lines l WHERE l.batch_id = b.id AND l.status <> 'draft') AS moved,
              (SELECT count(*)::int FROM payout_batch_files f WHERE f.batch_id = b.id) AS files,
              (SELECT count(*)::int FROM journal_entries e WHERE e.idempotency_key = 'payout:' || b.id || ':sent') AS entries
         FROM payout_batches b WHERE b.id = $1`,
      [draft.body.id],
    );
    expect(after).toEqual({ status: 'draft', moved: 0, files: 0, entries: 0 });
    expect(await balanceByCode(t, transitOf(program.id))).toBe('0.00');
    expect(await payables()).toBe('43008000.00');

    // Approved again through another process (a new Idempotency-Key: the killed request's key stays in flight until its lease ends).
    const second = await startApi();
    const res = await fetch(`${second.base}/v1/payout-batches/${draft.body.id}/approve`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${approver.token}`, 'Idempotency-Key': randomUUID() },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'sent', sentCount: LINES, sentTotal: '43008000.00', exceptionCount: 0 });
    expect(await balanceByCode(t, transitOf(program.id))).toBe('43008000.00');
    expect(await payables()).toBe('0.00');

    const download = async () => Buffer.from(await (await fetch(`${second.base}/v1/payout-batches/${draft.body.id}/file`, { headers: { Authorization: `Bearer ${operator.token}` } })).arrayBuffer());
    const [a, b] = [await download(), await download()];
    expect(a.equals(b)).toBe(true);
    const rows = parse(a.toString('utf8')) as string[][];
    expect(rows).toHaveLength(LINES + 2);
    expect(new Set(rows.slice(1, -1).map((r) => r[0])).size).toBe(LINES);
    expect(rows[rows.length - 1]).toEqual(['TOTAL', '', String(LINES), '43008000.00', draft.body.number]);
    second.proc.kill('SIGTERM');

    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    // 40 s on a quiet machine; 140 s seen at load average 16.
  }, 300000);
});
