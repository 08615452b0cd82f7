import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { freshBenchDatabase, option, percentile } from './support';
import { clearQueuePrefix } from '../src/jobs/redis';
import type { StaffPrincipal } from '../src/common/auth/principal';

/**
 * FONDESOC at full size (the fixture's rules: 50,000 loans of $10,000, $500,000,000): N loans
 * (default 50,000) applied and accepted (seeded set-based, not timed), then timed in the service
 * (no HTTP): every approval (count cap and money cap checked atomically) and every disbursement
 * (commitment → borrower payable, the schedule), in batches or one loan at a time (approvals of
 * one program queue on its counter row and its budget account, as they must); then the daily
 * delinquency job over the N loans (each with its first instalment past due: the schedules are moved
 * five months back, not timed) and the same job again (changes nothing). Args: [--loans N]
 * [--batch B] [--concurrency C] [--delinquency-loans M]: B loans a transaction through the batch
 * routes (default 1,000; `--batch 1` times the one-loan routes instead, C at a time); with M > N, M − N more disbursed loans (rows and
 * schedules only, copied set-based from the disbursed ones, not timed; the job reads nothing else)
 * join the delinquency job, so the job is measured at M loans when N is kept small.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const loans = Number(option(args, 'loans') ?? 50_000);
  const concurrency = Number(option(args, 'concurrency') ?? 4);
  const batchSize = Number(option(args, 'batch') ?? 1000);
  const delinquencyLoans = Math.max(loans, Number(option(args, 'delinquency-loans') ?? loans));
  const url = await freshBenchDatabase('monedero_loans_bench');
  const prefix = `bench-loans-${Date.now()}`;
  Object.assign(process.env, {
    DATABASE_URL: url,
    QUEUE_PREFIX: prefix,
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'silent',
    DB_STATEMENT_TIMEOUT_MS: '600000',
    DB_POOL_SIZE: String(Math.max(4, concurrency + 2)),
  });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[loans bench] ${msg}\n`);

  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { LoansService } = await import('../src/loans/loans.service');
  const { ProgramsService } = await import('../src/programs/programs.service');
  const { readProgramFixtures } = await import('../src/programs/program-fixtures');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  const staff = (role: StaffPrincipal['role']): StaffPrincipal => ({ kind: 'staff', userId: randomUUID(), username: `bench-${role}`, role });
  try {
    let t0 = Date.now();
    const fixture = readProgramFixtures().find((f) => f.base === 'FONDESOC')!;
    const programs = app.get(ProgramsService);
    const program = await programs.create(
      { code: 'FONDESOC-BENCH-2020', name: 'FONDESOC (bench)', fiscalYear: 2020, instrumentType: fixture.instrumentType, rules: fixture.rules },
      'bench',
    );
    await programs.appropriate(program.id, { amount: fixture.rules.authorizedBudget!, reference: 'bench', ledgerKey: 'bench:appropriation' }, 'bench');
    const ids = await seedLoans(pool, program.id, loans, fixture.rules.loan!.principalMin);
    const seedSeconds = (Date.now() - t0) / 1000;
    progress(`seeded ${loans} applied and accepted loans in ${seedSeconds.toFixed(1)} s`);

    const service = app.get(LoansService);
    const approver = staff('finance_approver');
    const operator = staff('finance_operator');
    const timed = async (label: string, step: (id: string) => Promise<unknown>) => {
      const latencies: number[] = [];
      let next = 0;
      const start = Date.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < ids.length; i = next++) {
            const t = process.hrtime.bigint();
            await step(ids[i]);
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
            if ((i + 1) % 10000 === 0) progress(`${label}: ${i + 1}`);
          }
        }),
      );
      const seconds = (Date.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      return { seconds, perSecond: Math.round(ids.length / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
    };
    // Reference from the same run: what one committed transaction costs on this machine right now
    // (an increment of one row and a commit, `concurrency` at a time, 2,000 times).
    const { DataSource } = await import('typeorm');
    const db = app.get(DataSource);
    await pool.query(`CREATE TABLE bench_reference (id int PRIMARY KEY, n int NOT NULL); INSERT INTO bench_reference VALUES (1, 0)`);
    let refCount = 0;
    const refStart = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (refCount++ < 2000) await db.transaction(async (m) => m.query(`UPDATE bench_reference SET n = n + 1 WHERE id = 1`));
      }),
    );
    const reference = { committedTransactionsPerSecond: Math.round(2000 / ((Date.now() - refStart) / 1000)) };
    progress(`reference: ${reference.committedTransactionsPerSecond} single-row transactions/s`);
    let approval: Record<string, number>;
    let disbursement: Record<string, number>;
    if (batchSize > 1) {
      // The batch routes (POST /v1/programs/{id}/loans/approve|disburse): batchSize loans a transaction, one batch at a time.
      const batches = Array.from({ length: Math.ceil(ids.length / batchSize) }, (_, i) => ids.slice(i * batchSize, (i + 1) * batchSize));
      const inBatches = async (label: string, step: (loanIds: string[]) => Promise<unknown>) => {
        const latencies: number[] = [];
        const start = Date.now();
        for (const b of batches) {
          const t = Date.now();
          await step(b);
          latencies.push(Date.now() - t);
        }
        const seconds = (Date.now() - start) / 1000;
        latencies.sort((a, b) => a - b);
        progress(`${label}: ${seconds.toFixed(1)} s`);
        return { seconds, perSecond: Math.round(ids.length / seconds), batchP50Ms: percentile(latencies, 50), batchMaxMs: latencies[latencies.length - 1] };
      };
      approval = await inBatches('approvals', (b) => service.approveBatch(program.id, b, approver));
      disbursement = await inBatches('disbursements', (b) => service.disburseBatch(program.id, b, operator));
    } else {
      approval = await timed('approved', (id) => service.approve(id, approver));
      progress(`approvals: ${approval.seconds.toFixed(1)} s`);
      disbursement = await timed('disbursed', (id) => service.disburse(id, operator));
      progress(`disbursements: ${disbursement.seconds.toFixed(1)} s`);
    }

    if (delinquencyLoans > loans) await cloneDisbursed(pool, program.id, delinquencyLoans - loans);
    // Every schedule five months earlier (not timed), so each loan's first instalment is past due today.
    await pool.query(`UPDATE loan_instalments SET due_on = (due_on - interval '5 months')::date`);
    await pool.query(`ANALYZE loan_instalments; ANALYZE loans`);
    t0 = Date.now();
    const job = await service.runDelinquency(program.id);
    const delinquencySeconds = (Date.now() - t0) / 1000;
    t0 = Date.now();
    const again = await service.runDelinquency(program.id);
    const delinquencyAgainSeconds = (Date.now() - t0) / 1000;
    progress(`delinquency job: ${delinquencySeconds.toFixed(1)} s, again ${delinquencyAgainSeconds.toFixed(1)} s`);

    t0 = Date.now();
    const report = await service.portfolio(program.id);
    const portfolioSeconds = (Date.now() - t0) / 1000;
    const { rows: check } = await pool.query(
      `SELECT (SELECT count(*)::int FROM loans WHERE program_id = $1 AND status = 'delinquent') AS delinquent,
              (SELECT coalesce(sum(posted), 0)::text FROM ledger_balances WHERE program_id = $1 AND category = 'payee_payable') AS payables,
              (SELECT count(*)::int FROM loan_instalments) AS instalments,
              (SELECT sum(posted_debits) = sum(posted_credits) FROM ledger_accounts) AS balanced`,
      [program.id],
    );
    const expectedTotal = (BigInt(loans) * 10000n).toString() + '.00';
    return {
      description: 'FONDESOC fixture: approve (both caps, atomically) and disburse N loans through the service, then the daily delinquency job over them',
      loans,
      batchSize,
      concurrency: batchSize > 1 ? 1 : concurrency,
      delinquencyLoans,
      reference,
      seedSeconds,
      approval,
      disbursement,
      approveAndDisburseSeconds: round(approval.seconds + disbursement.seconds),
      delinquencySeconds,
      delinquencyAgainSeconds,
      portfolioSeconds,
      delinquencyJob: job.programs[0],
      delinquencyJobAgain: again.programs[0],
      instalments: check[0].instalments,
      borrowerPayables: check[0].payables,
      fund: report.fund,
      caps: report.caps,
      invariantsHold:
        check[0].balanced &&
        check[0].payables === expectedTotal &&
        check[0].delinquent === delinquencyLoans &&
        (delinquencyLoans > loans || report.fund.ok) &&
        report.caps.loans.approved === loans &&
        again.programs[0].instalmentsLate === 0,
      targets: { approveAndDisburseSeconds: 60, delinquencySeconds: 5 },
      note: 'the machine has 2 cores shared with other work; figures vary with the load',
    };
  } finally {
    await app.close();
    await pool.end();
    await clearQueuePrefix(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  }
}

/** N borrowers with bank details and one applied, accepted loan each, set-based; their ids. */
async function seedLoans(pool: Pool, programId: string, n: number, principal: string): Promise<string[]> {
  await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     SELECT $1, 'L-' || g, 'LOAN' || lpad(g::text, 12, '0') || 'XX', 'Nombre', 'Apellido', DATE '1970-01-01', '{"state":"DF"}', DATE '2020-04-01', DATE '2020-04-01'
       FROM generate_series(1, $2::int) g`,
    [programId, n],
  );
  await pool.query(
    `WITH d AS (SELECT b.id, '012180' || lpad(row_number() OVER (ORDER BY b.id)::text, 11, '0') AS d17 FROM beneficiaries b WHERE b.program_id = $1)
     INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
     SELECT 'beneficiary', d.id, $1,
            d.d17 || ((10 - (SELECT sum((substr(d.d17, i, 1)::int * (ARRAY[3, 7, 1])[(i - 1) % 3 + 1]) % 10) FROM generate_series(1, 17) i)::int % 10) % 10)::text,
            'NOMBRE APELLIDO', 1, 'bench', now()
       FROM d`,
    [programId],
  );
  const { rows } = await pool.query(
    `INSERT INTO loans (id, number, program_id, beneficiary_id, principal, status, applied_on, applied_by, applied_at, accepted_at, acceptance_document_ref, acceptance_recorded_by, acceptance_recorded_at)
     SELECT gen_random_uuid(), 'LN-' || lpad(nextval('loan_number_seq')::text, 8, '0'), $1, b.id, $2, 'applied', current_date, 'bench', now(),
            now() - interval '1 hour', 'bench', 'bench', now()
       FROM beneficiaries b WHERE b.program_id = $1 ORDER BY b.id
     RETURNING id`,
    [programId, principal],
  );
  await pool.query(`ANALYZE beneficiaries; ANALYZE payee_bank_accounts; ANALYZE loans`);
  return rows.map((r: { id: string }) => r.id);
}

/**
 * More disbursed loans for the delinquency job only: borrowers, loan rows and schedules copied from
 * the loans the service disbursed (no ledger postings: the job reads loans and instalments alone,
 * and the fund's reconciliation is then not checked).
 */
async function cloneDisbursed(pool: Pool, programId: string, n: number): Promise<void> {
  await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     SELECT $1, 'LC-' || g, 'LOCL' || lpad(g::text, 12, '0') || 'XX', 'Nombre', 'Apellido', DATE '1970-01-01', '{"state":"DF"}', DATE '2020-04-01', DATE '2020-04-01'
       FROM generate_series(1, $2::int) g`,
    [programId, n],
  );
  await pool.query(
    `WITH src AS (SELECT l.*, row_number() OVER (ORDER BY l.id) AS k, count(*) OVER () AS c FROM loans l WHERE l.program_id = $1 AND l.status = 'disbursed'),
          b AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM beneficiaries WHERE program_id = $1 AND folio LIKE 'LC-%'),
          ins AS (
            INSERT INTO loans (id, number, program_id, beneficiary_id, principal, status, applied_on, applied_by, applied_at, approved_by, approved_at,
                               accepted_at, acceptance_document_ref, disbursed_by, disbursed_at, disbursed_on, grace_months, instalment_count)
            SELECT gen_random_uuid(), 'LN-' || lpad(nextval('loan_number_seq')::text, 8, '0'), $1, b.id, s.principal, 'disbursed', s.applied_on, 'bench', s.applied_at,
                   'bench', s.approved_at, s.accepted_at, 'bench', 'bench', s.disbursed_at, s.disbursed_on, s.grace_months, s.instalment_count
              FROM b JOIN src s ON s.k = (b.k - 1) % s.c + 1
            RETURNING id)
     INSERT INTO loan_instalments (loan_id, number, due_on, amount)
     SELECT ins.id, i.number, i.due_on, i.amount
       FROM ins CROSS JOIN (SELECT number, due_on, amount FROM loan_instalments WHERE loan_id = (SELECT id FROM src WHERE k = 1)) i`,
    [programId],
  );
  await pool.query(`ANALYZE loans; ANALYZE loan_instalments`);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
