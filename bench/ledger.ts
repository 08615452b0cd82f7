import { Pool } from 'pg';
import { freshBenchDatabase, option, percentile } from './support';

/**
 * Single postings (one journal entry = one debit + one credit, one ledger_post call each) with
 * 1, 8 and 32 concurrent clients, across many accounts. Reports entries/s and posting rows/s.
 * Args: [--seconds N] [--accounts N]
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seconds = Number(option(args, 'seconds') ?? 10);
  const accounts = Number(option(args, 'accounts') ?? 10000);
  const url = await freshBenchDatabase('monedero_bench_ledger');
  const pool = new Pool({ connectionString: url, max: 40 });
  await pool.query(`INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES ('treasury:MXN', 'Treasury', 'treasury', 'debit')`);
  await pool.query(
    `INSERT INTO ledger_accounts (code, name, category, normal_side, no_negative_balance)
     SELECT 'bench:' || g, 'bench ' || g, 'test', 'credit', true FROM generate_series(1, $1) g`,
    [accounts],
  );
  const ids: string[] = (await pool.query(`SELECT id FROM ledger_accounts WHERE code LIKE 'bench:%' ORDER BY code`)).rows.map((r) => r.id);
  const treasury: string = (await pool.query(`SELECT id FROM ledger_accounts WHERE code = 'treasury:MXN'`)).rows[0].id;
  // Fund every account so transfers between them never hit the no-negative guard.
  await pool.query(
    `SELECT ledger_post('appropriation', 'fund:' || a.id, now(), ARRAY[$1::uuid, a.id], ARRAY['debit','credit'], ARRAY[1000000.00, 1000000.00])
       FROM ledger_accounts a WHERE a.code LIKE 'bench:%'`,
    [treasury],
  );

  const results: Record<string, unknown> = {};
  for (const clients of [1, 8, 32]) {
    results[`clients_${clients}`] = await measure(pool, ids, clients, seconds);
  }
  const check = await pool.query(
    `SELECT (SELECT sum(posted_debits) FROM ledger_accounts) = (SELECT sum(posted_credits) FROM ledger_accounts) AS balanced,
            (SELECT count(*) FROM ledger_accounts WHERE no_negative_balance AND posted_credits - posted_debits < 0) AS negative`,
  );
  await pool.end();
  return {
    description: 'single two-posting entries via ledger_post, random distinct accounts, synchronous commit',
    seconds,
    accounts,
    ...results,
    invariantsHold: check.rows[0].balanced && Number(check.rows[0].negative) === 0,
  };
}

async function measure(pool: Pool, ids: string[], clients: number, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  let seq = 0;
  const worker = async (w: number) => {
    while (Date.now() < deadline) {
      const a = ids[Math.floor(Math.random() * ids.length)];
      let b = ids[Math.floor(Math.random() * ids.length)];
      if (b === a) b = ids[(ids.indexOf(a) + 1) % ids.length];
      const started = performance.now();
      try {
        await pool.query(
          `SELECT ledger_post('transfer', $1, now(), ARRAY[$2::uuid, $3::uuid], ARRAY['debit','credit'], ARRAY[1.25, 1.25])`,
          [`bench:${clients}:${w}:${seq++}`, a, b],
        );
        latencies.push(performance.now() - started);
      } catch {
        failures++;
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    entries: latencies.length,
    entriesPerSecond: Math.round(latencies.length / elapsed),
    postingRowsPerSecond: Math.round((2 * latencies.length) / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    failures,
  };
}
