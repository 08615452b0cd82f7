// The test process only enqueues; workers run in child processes with this prefix.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:crash`;
process.env.CYCLE_CHUNK_SIZE = '1000';

import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { sealAndCheckIntegrity, siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { addBeneficiaries, balanceOf, createProgram, ledgerTotalsOfCycle, waitForCycle } from '../support/cycle-fixtures';

const LINES = 40000;

function startWorker(): ChildProcess {
  return spawn(process.execPath, [join(__dirname, '../support/cycle-worker.js')], {
    env: {
      ...process.env,
      MIGRATIONS_RUN: 'false',
      LOG_LEVEL: 'silent',
      CYCLES_CONCURRENCY: '1',
      CYCLES_LOCK_MS: '1500',
      DB_POOL_SIZE: '4',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describe('crash safety of cycles', () => {
  let t: TestApp;
  const workers: ChildProcess[] = [];

  const savedDatabase = process.env.DATABASE_URL;

  beforeAll(async () => {
    // A database of its own (the workers inherit it): the final integrity check covers exactly this cycle.
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('cyclecrash'));
    t = await createTestApp({ role: 'api', now: new Date('2016-02-25T18:00:00Z') });
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    await t.close();
    process.env.DATABASE_URL = savedDatabase;
  });

  it('a worker killed (SIGKILL) mid-cycle: a new worker finishes it, every line posted exactly once, totals match', async () => {
    const ledger = t.app.get(LedgerService);
    const cycles = t.app.get(CyclesService);
    const program = await createProgram(t.db, ledger, { rules: 'pension', budget: '50000000.00' });
    await addBeneficiaries(t.db, program.id, LINES);
    const draft = await cycles.createDraft(program.id, { period: '2016-03', kind: 'deposit' }, { userId: null, name: 'test:preparer' });
    expect(draft).toMatchObject({ controlCount: LINES, chunkSize: 1000 });
    await cycles.approve(draft.id, { userId: null, name: 'test:approver' });

    const first = startWorker();
    workers.push(first);
    // Kill it once some chunks are posted and many remain.
    const deadline = Date.now() + 60000;
    for (;;) {
      const [c] = await t.db.query(`SELECT posted_count FROM disbursement_cycles WHERE id = $1`, [draft.id]);
      if (c.posted_count >= 2000) break;
      if (Date.now() > deadline) throw new Error('the first worker never started posting');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const [mid] = await t.db.query(`SELECT status, posted_count FROM disbursement_cycles WHERE id = $1`, [draft.id]);
    expect(mid.status).toBe('running');
    expect(mid.posted_count).toBeLessThan(LINES);

    const second = startWorker();
    workers.push(second);
    const done = await waitForCycle(t.db, draft.id, ['completed', 'completed_with_exceptions'], 90000);
    second.kill('SIGTERM');

    expect(done).toMatchObject({ status: 'completed', posted_count: LINES, exception_count: 0 });
    expect(done.posted_total).toBe(done.control_total);
    expect(await ledgerTotalsOfCycle(t.db, draft.id)).toEqual({ entries: LINES, duplicates: 0, debited: '43008000.00', exceptions: 0 });
    const wrong = await t.db.query(
      `SELECT count(*)::int AS n FROM instruments i JOIN ledger_accounts a ON a.id = i.account_id
        WHERE i.program_id = $1 AND a.posted_credits <> 1075.20`,
      [program.id],
    );
    expect(wrong[0].n).toBe(0);
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('6992000.00');
    const commitment = await ledger.findAccountByCode(`cycle:${draft.id}:commitment`);
    expect(await balanceOf(t.db, commitment!.id)).toBe('0.00');

    // Replaying every chunk of the completed cycle posts nothing.
    const replay = await Promise.all(Array.from({ length: LINES / 1000 }, (_, i) => cycles.postChunk(draft.id, i * 1000 + 1, (i + 1) * 1000)));
    expect(replay.every((r) => r.posted === 0 && r.exceptions === 0)).toBe(true);
    expect((await ledgerTotalsOfCycle(t.db, draft.id)).entries).toBe(LINES);

    // And the audit integrity check passes over the whole ledger.
    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    expect(integrity.checkedEntries).toBeGreaterThanOrEqual(LINES);
  });
});
