import type { INestApplicationContext } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { freshBenchDatabase, option } from './support';
import { clearQueuePrefix } from '../src/jobs/redis';
import type { StaffPrincipal } from '../src/common/auth/principal';

/**
 * A payout batch of N lines (default 100,000) of a bank-paid program (the Desempleo fixture's
 * rules): the payables are credited by a real deposit cycle (not timed), then each step of the
 * batch is timed on its own — draft (control totals, exclusions), approval (payables → transit
 * and the bank file, one transaction), the file's download, the results import (CSV: 99 % paid,
 * 1 % rejected) and the same results again (must change nothing). Args: [--lines N]
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const lines = Number(option(args, 'lines') ?? 100_000);
  const url = await freshBenchDatabase('monedero_bench_payouts');
  const prefix = `bench-payouts-${Date.now()}`;
  Object.assign(process.env, { DATABASE_URL: url, QUEUE_PREFIX: prefix, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent', DB_STATEMENT_TIMEOUT_MS: '600000' });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[payouts bench] ${msg}\n`);

  // Required after the environment is set: the modules read their settings at import time.
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { CyclesService } = await import('../src/disbursements/cycles.service');
  const { PayoutsService } = await import('../src/payouts/payouts.service');
  const { ProgramsService } = await import('../src/programs/programs.service');
  const { readProgramFixtures } = await import('../src/programs/program-fixtures');
  const { parseResultsCsv } = await import('../src/payouts/payouts.rules');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  const staff = (role: StaffPrincipal['role']): StaffPrincipal => ({ kind: 'staff', userId: randomUUID(), username: `bench-${role}`, role });
  try {
    // Seed (not timed): the program, N beneficiaries with bank details, one month credited to their payables.
    // Incorporated on 1 February: their first cartilla (rules.obligations) is March's, not due by March's deposit.
    let t0 = Date.now();
    const fixture = readProgramFixtures().find((f) => f.base === 'DESEMPLEO')!;
    const programs = app.get(ProgramsService);
    const program = await programs.create(
      { code: 'DESEMPLEO-BENCH-2016', name: 'Desempleo (bench)', fiscalYear: 2016, instrumentType: fixture.instrumentType, rules: fixture.rules },
      'bench',
    );
    await programs.appropriate(program.id, { amount: '509375587.00', reference: 'bench', ledgerKey: 'bench:appropriation' }, 'bench');
    await seedBeneficiaries(pool, program.id, lines);
    const cycles = app.get(CyclesService);
    const cycle = await cycles.createDraft(program.id, { period: '2016-03', kind: 'deposit' }, { userId: null, name: 'bench:operator' });
    await cycles.approve(cycle.id, { userId: null, name: 'bench:approver' });
    await cycles.start(cycle.id);
    for (let from = 1; from <= cycle.controlCount; from += cycle.chunkSize) await cycles.postChunk(cycle.id, from, Math.min(cycle.controlCount, from + cycle.chunkSize - 1));
    await cycles.finish(cycle.id);
    const seedSeconds = (Date.now() - t0) / 1000;
    progress(`seeded ${lines} payables in ${seedSeconds.toFixed(1)} s`);

    const payouts = app.get(PayoutsService);
    const operator = staff('finance_operator');
    const approver = staff('finance_approver');
    t0 = Date.now();
    const draft = await payouts.createBatch({ programId: program.id, kind: 'beneficiaries' }, operator);
    const draftSeconds = (Date.now() - t0) / 1000;
    progress(`draft: ${draft.controlCount} lines, ${draft.controlTotal} in ${draftSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const sent = await payouts.approve(draft.id, approver);
    const approvalSeconds = (Date.now() - t0) / 1000;
    progress(`approval (transit + file): ${sent.sentCount} sent in ${approvalSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const file = await payouts.file(draft.id);
    const fileSeconds = (Date.now() - t0) / 1000;
    const again = await payouts.file(draft.id);
    progress(`file: ${file.content.length} bytes in ${fileSeconds.toFixed(2)} s`);

    // The bank's answer: every 100th line rejected.
    const ids = file.content.toString('utf8').split('\r\n').slice(1, -2).map((l) => l.slice(0, 36));
    const csv = `line_id,status,reason\r\n${ids.map((id, i) => `${id},${i % 100 === 0 ? 'rejected,cuenta cancelada' : 'paid,'}`).join('\r\n')}\r\n`;
    const sha256 = createHash('sha256').update(csv).digest('hex');
    t0 = Date.now();
    const applied = await payouts.importResults(draft.id, parseResultsCsv(csv), { format: 'csv', sha256 }, operator);
    const resultsSeconds = (Date.now() - t0) / 1000;
    progress(`results: ${applied.paid} paid, ${applied.rejected} rejected in ${resultsSeconds.toFixed(1)} s`);
    t0 = Date.now();
    const replay = await payouts.importResults(draft.id, parseResultsCsv(csv), { format: 'csv', sha256 }, operator);
    const replaySeconds = (Date.now() - t0) / 1000;

    const { rows: check } = await pool.query(
      `SELECT (SELECT posted::text FROM ledger_balances WHERE account_id = $2) AS transit,
              (SELECT coalesce(sum(posted), 0)::text FROM ledger_balances WHERE program_id = $1 AND category = 'payee_payable') AS payables,
              (SELECT count(*)::int FROM journal_entries WHERE kind LIKE 'payout_%') AS entries,
              (SELECT sum(posted_debits) = sum(posted_credits) FROM ledger_accounts) AS balanced`,
      [program.id, (await pool.query(`SELECT transit_account_id FROM payout_batches WHERE id = $1`, [draft.id])).rows[0].transit_account_id],
    );
    return {
      description: 'payout batch of a bank-paid program: draft, approval (payables → transit + bank file in one transaction), file download, results import (CSV), re-import',
      lines,
      seedSeconds,
      draftSeconds,
      approvalSeconds,
      fileSeconds,
      resultsSeconds,
      reimportSeconds: replaySeconds,
      fileBytes: file.content.length,
      fileSha256: file.sha256,
      fileIdenticalOnSecondDownload: file.content.equals(again.content),
      controlCount: draft.controlCount,
      controlTotal: draft.controlTotal,
      sentTotal: sent.sentTotal,
      paid: applied.paid,
      rejected: applied.rejected,
      reimportChanged: replay.paid + replay.rejected,
      transitAfterResults: check[0].transit,
      payablesAfterResults: check[0].payables,
      payoutEntries: check[0].entries,
      invariantsHold:
        check[0].balanced && check[0].transit === '0.00' && replay.paid + replay.rejected === 0 && applied.paid + applied.rejected === lines && check[0].entries === 3,
      targetSecondsPerStep: 10,
      note: 'the machine has 2 cores shared with other work; figures vary with the load',
    };
  } finally {
    await app.close();
    await pool.end();
    await clearQueuePrefix(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  }
}

/** N active beneficiaries with bank details (a CLABE with its check digit), set-based. */
async function seedBeneficiaries(pool: Pool, programId: string, n: number): Promise<void> {
  await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     SELECT $1, 'B-' || g, 'BENC' || lpad(g::text, 12, '0') || 'XX', 'Nombre', 'Apellido', DATE '1970-01-01', '{"state":"DF"}', DATE '2016-02-01', DATE '2016-02-01'
       FROM generate_series(1, $2::int) g`,
    [programId, n],
  );
  await pool.query(
    `WITH d AS (SELECT b.id, '012180' || lpad(row_number() OVER (ORDER BY b.id)::text, 11, '0') AS d17 FROM beneficiaries b WHERE b.program_id = $1),
     acc AS (
       INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
       SELECT 'beneficiary', d.id, $1,
              d.d17 || ((10 - (SELECT sum((substr(d.d17, i, 1)::int * (ARRAY[3, 7, 1])[(i - 1) % 3 + 1]) % 10) FROM generate_series(1, 17) i)::int % 10) % 10)::text,
              'NOMBRE APELLIDO', 1, 'bench', now()
         FROM d
       RETURNING owner_kind, owner_id, program_id, clabe, holder_name)
     INSERT INTO payee_bank_account_history (owner_kind, owner_id, program_id, version, clabe, holder_name, source, changed_by, changed_at)
     SELECT owner_kind, owner_id, program_id, 1, clabe, holder_name, 'staff', 'bench', now() FROM acc`,
    [programId],
  );
  await pool.query(`ANALYZE beneficiaries; ANALYZE payee_bank_accounts`);
}
