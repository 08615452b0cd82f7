// The test process only enqueues; workers run in child processes with this prefix.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:sweep-crash`;

import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { QUEUES } from '../../src/jobs/queues';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, appropriate, balanceOf, createProgram } from '../support/cycle-fixtures';

const VOUCHERS = 30000;

/** The crash test's worker (test/support/cycle-worker.js runs the real src/worker.ts), with small sweep chunks. */
function startWorker(): ChildProcess {
  return spawn(process.execPath, [join(__dirname, '../support/cycle-worker.js')], {
    env: { ...process.env, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent', SWEEP_CHUNK_SIZE: '500', SWEEPS_LOCK_MS: '1500', DB_POOL_SIZE: '4' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describe('crash safety of the voucher-expiry sweep', () => {
  let t: TestApp;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    t = await createTestApp({ role: 'api' });
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    await t.close();
  });

  it('a worker killed (SIGKILL) mid-sweep: a new worker completes it, every voucher swept exactly once, amounts exact', async () => {
    const ledger = t.app.get(LedgerService);
    const program = await createProgram(t.db, ledger, { rules: 'uniformes' });
    await appropriate(ledger, program, '10000000.00');
    await addBeneficiaries(t.db, program.id, VOUCHERS, { instrumentKind: 'voucher', expiresAt: '2017-01-01T06:00:00Z' });
    // Load every voucher set-based (one entry, one posting each): 150.00, or 75.35 for every third.
    // One transaction and one instant, so the entry, its postings and the account totals agree at
    // every moment (the integrity check of other suites sharing this database sees no half-load).
    const loadedAt = new Date();
    const total: string = await t.db.transaction(async (m) => {
      const [load] = await m.query(`INSERT INTO journal_entries (kind, idempotency_key, effective_at) VALUES ('cycle_voucher_load', $1, $2) RETURNING id`, [
        `test-load:${program.id}`,
        loadedAt,
      ]);
      await m.query(
        `WITH v AS (SELECT i.account_id, CASE WHEN row_number() OVER (ORDER BY i.id) % 3 = 0 THEN 75.35 ELSE 150.00 END AS amt FROM instruments i WHERE i.program_id = $2)
         INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
         SELECT $1::uuid, account_id, 'credit', amt, $4::timestamptz FROM v
         UNION ALL SELECT $1::uuid, $3::uuid, 'debit', (SELECT sum(amt) FROM v), $4::timestamptz`,
        [load.id, program.id, program.budgetAccountId, loadedAt],
      );
      await m.query(
        `UPDATE ledger_accounts a SET posted_credits = a.posted_credits + p.amount FROM postings p WHERE p.entry_id = $1 AND p.side = 'credit' AND a.id = p.account_id`,
        [load.id],
      );
      const [{ sum }] = await m.query(`SELECT amount::text AS sum FROM postings WHERE entry_id = $1 AND side = 'debit'`, [load.id]);
      await m.query(`UPDATE ledger_accounts SET posted_debits = posted_debits + $2 WHERE id = $1`, [program.budgetAccountId, sum]);
      return sum;
    });
    expect(total).toBe('3753500.00');

    const queue = t.app.get<Queue>(getQueueToken(QUEUES.sweeps));
    await queue.add('voucher-expiry', { programId: program.id }, { jobId: `sweep.voucher-expiry.${program.id}` });
    const first = startWorker();
    workers.push(first);
    const swept = async () => (await t.db.query(`SELECT count(*)::int AS n FROM treasury_voucher_sweeps WHERE program_id = $1`, [program.id]))[0].n as number;
    const deadline = Date.now() + 60000;
    while ((await swept()) < 2000) {
      if (Date.now() > deadline) throw new Error('the first worker never started sweeping');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const mid = await swept();
    expect(mid).toBeLessThan(VOUCHERS);

    const second = startWorker();
    workers.push(second);
    const end = Date.now() + 120000;
    while ((await swept()) < VOUCHERS) {
      if (Date.now() > end) throw new Error(`sweep stuck at ${await swept()} of ${VOUCHERS}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Wait for the job to finish so nothing is in flight when we check.
    for (let i = 0; i < 200 && !(await queue.getJob(`sweep.voucher-expiry.${program.id}`))?.finishedOn; i++) await new Promise((r) => setTimeout(r, 100));
    second.kill('SIGTERM');

    const [check] = await t.db.query(
      `SELECT (SELECT count(*)::int FROM treasury_voucher_sweeps WHERE program_id = $1) AS rows,
              (SELECT count(DISTINCT instrument_id)::int FROM treasury_voucher_sweeps WHERE program_id = $1) AS distinct_vouchers,
              (SELECT coalesce(sum(amount), 0)::text FROM treasury_voucher_sweeps WHERE program_id = $1) AS swept_total,
              (SELECT coalesce(sum(amount), 0)::text FROM reintegros WHERE program_id = $1 AND cause = 'voucher_expiry') AS reintegros_total,
              (SELECT count(*)::int FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                WHERE e.kind = 'voucher_expiry' AND e.metadata->>'programId' = $1::text AND p.side = 'debit') AS debits,
              (SELECT count(*)::int FROM (SELECT p.account_id FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                WHERE e.kind = 'voucher_expiry' AND e.metadata->>'programId' = $1::text AND p.side = 'debit' GROUP BY 1 HAVING count(*) > 1) d) AS twice,
              (SELECT count(*)::int FROM instruments i JOIN ledger_accounts a ON a.id = i.account_id
                WHERE i.program_id = $1 AND a.posted_credits <> a.posted_debits) AS left_with_balance`,
      [program.id],
    );
    expect(check).toEqual({ rows: VOUCHERS, distinct_vouchers: VOUCHERS, swept_total: '3753500.00', reintegros_total: '3753500.00', debits: VOUCHERS, twice: 0, left_with_balance: 0 });
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('3753500.00');
  });
});
