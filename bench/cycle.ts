import type { INestApplicationContext } from '@nestjs/common';
import { Pool } from 'pg';
import { freshBenchDatabase, option, seedPensionCards } from './support';
import { clearQueuePrefix } from '../src/jobs/redis';

/**
 * A Pensión-like monthly cycle over N active cards (default 1,000,000), run by the real BullMQ
 * worker (FlowProducer parent + chunk children, set-based chunk posting). Reports the time from
 * approval to `completed`, postings per second, and the time to replay the completed cycle
 * (every chunk again: must post nothing), the WAL written per line by the draft and by the
 * posting, and the bytes on disk per posting, journal entry and cycle line. Args: [--cards N] [--chunk N] [--concurrency N]
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const cards = Number(option(args, 'cards') ?? 1_000_000);
  const chunk = Number(option(args, 'chunk') ?? 10_000);
  const concurrency = Number(option(args, 'concurrency') ?? 2);
  const url = await freshBenchDatabase('monedero_bench_cycle');
  const prefix = `bench-cycle-${Date.now()}`;
  Object.assign(process.env, {
    DATABASE_URL: url,
    QUEUE_PREFIX: prefix,
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'silent',
    CYCLE_CHUNK_SIZE: String(chunk),
    CYCLES_CONCURRENCY: String(concurrency),
    DB_STATEMENT_TIMEOUT_MS: '600000',
  });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[cycle bench] ${msg}\n`);

  // Seed set-based: program + budget, N beneficiaries, N active cards with their accounts.
  let t0 = Date.now();
  const { programId: program } = await seedPensionCards(pool, cards);
  const seedSeconds = (Date.now() - t0) / 1000;
  progress(`seeded ${cards} cards in ${seedSeconds.toFixed(1)} s`);

  // Required after the environment is set: the worker reads its settings at import time.
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { CyclesService } = await import('../src/disbursements/cycles.service');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('worker'), { logger: false });
  try {
    const cycles = app.get(CyclesService);
    // --pause-sealer: measure the cycle alone; by default the audit sealer hashes and folds the
    // new entries at the same time on the same cores, as it would in production.
    const sealerPaused = args.includes('--pause-sealer');
    if (sealerPaused) {
      const { SealsProcessor } = await import('../src/audit/seals.processor');
      await app.get(SealsProcessor).worker.pause();
    }
    const walAt = async (): Promise<string> => (await pool.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0].lsn;
    const walSince = async (from: string): Promise<number> =>
      Number((await pool.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint AS bytes`, [from])).rows[0].bytes);
    let wal = await walAt();
    t0 = Date.now();
    const draft = await cycles.createDraft(program, { period: '2016-03', kind: 'deposit' }, { userId: null, name: 'bench:operator' });
    const draftSeconds = (Date.now() - t0) / 1000;
    progress(`draft: ${draft.controlCount} lines, ${draft.controlTotal} in ${draftSeconds.toFixed(1)} s`);
    const draftWalBytes = await walSince(wal);

    wal = await walAt();
    t0 = Date.now();
    await cycles.approve(draft.id, { userId: null, name: 'bench:approver' });
    let last = -1;
    for (;;) {
      const { rows } = await pool.query(`SELECT status, posted_count FROM disbursement_cycles WHERE id = $1`, [draft.id]);
      if (rows[0].posted_count !== last) {
        last = rows[0].posted_count;
        progress(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${rows[0].status}, ${last} posted`);
      }
      if (rows[0].status === 'completed' || rows[0].status === 'completed_with_exceptions') break;
      if (Date.now() - t0 > 30 * 60_000) throw new Error('cycle did not complete in 30 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const runSeconds = (Date.now() - t0) / 1000;
    const postingWalBytes = await walSince(wal);
    // On-disk size (heap, TOAST and indexes; every partition of a partitioned table) per row.
    const { rows: sizes } = await pool.query(
      `SELECT t.name, coalesce((SELECT sum(pg_total_relation_size(p.relid)) FROM pg_partition_tree(t.name::regclass) p),
                              pg_total_relation_size(t.name::regclass))::bigint AS bytes
         FROM unnest(ARRAY['postings', 'journal_entries', 'cycle_lines']) AS t(name)`,
    );
    const bytesPerRow = async (table: string): Promise<number> => {
      const [{ n }] = (await pool.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows;
      const size = sizes.find((r) => r.name === table);
      return Math.round(Number(size.bytes) / Number(n));
    };
    const storage = {
      postingBytes: await bytesPerRow('postings'),
      journalEntryBytes: await bytesPerRow('journal_entries'),
      cycleLineBytes: await bytesPerRow('cycle_lines'),
    };
    const { rows: done } = await pool.query(
      `SELECT c.status, c.control_count, c.control_total::text, c.posted_count, c.posted_total::text, c.exception_count,
              (SELECT count(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE e.kind = 'cycle_deposit')::int AS postings
         FROM disbursement_cycles c WHERE c.id = $1`,
      [draft.id],
    );

    // Replay: every chunk of the completed cycle again, `concurrency` at a time.
    t0 = Date.now();
    let replayPosted = 0;
    const ranges = Array.from({ length: Math.ceil(cards / chunk) }, (_, i) => [i * chunk + 1, Math.min(cards, (i + 1) * chunk)]);
    for (let i = 0; i < ranges.length; i += concurrency) {
      const results = await Promise.all(ranges.slice(i, i + concurrency).map(([from, to]) => cycles.postChunk(draft.id, from, to)));
      replayPosted += results.reduce((n, r) => n + r.posted + r.exceptions, 0);
    }
    const replaySeconds = (Date.now() - t0) / 1000;
    const { rows: check } = await pool.query(
      `SELECT (SELECT count(*) FROM journal_entries WHERE kind = 'cycle_deposit')::int AS entries,
              (SELECT sum(posted_debits) = sum(posted_credits) FROM ledger_accounts) AS balanced,
              (SELECT count(*) FROM ledger_accounts WHERE no_negative_balance AND posted_credits - posted_debits < 0)::int AS negative`,
    );
    const d = done[0];
    return {
      description: 'Pensión-like monthly cycle: approval → completed through BullMQ (parent + chunk children), set-based chunk posting',
      cards,
      chunkSize: chunk,
      workerConcurrency: concurrency,
      seedSeconds,
      draftSeconds,
      draftWalBytesPerLine: Math.round(draftWalBytes / cards),
      approvalToCompletedSeconds: runSeconds,
      postingWalBytesPerLine: Math.round(postingWalBytes / cards),
      bytesOnDiskPerRow: storage,
      linesPerSecond: Math.round(d.posted_count / runSeconds),
      postings: d.postings,
      postingsPerSecond: Math.round(d.postings / runSeconds),
      replaySeconds,
      replayPosted,
      status: d.status,
      controlCount: d.control_count,
      controlTotal: d.control_total,
      postedCount: d.posted_count,
      postedTotal: d.posted_total,
      exceptionCount: d.exception_count,
      entriesAfterReplay: check[0].entries,
      sealerPaused,
      invariantsHold: check[0].balanced && check[0].negative === 0 && d.posted_total === d.control_total && check[0].entries === cards,
      targetSeconds: 60,
      note: 'the machine has 2 cores shared with other work; figures vary with the load',
    };
  } finally {
    await app.close();
    await pool.end();
    await clearQueuePrefix(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  }
}
