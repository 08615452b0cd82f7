import { Client } from 'pg';
import { freshBenchDatabase } from './support';

/**
 * `npm run bench -- audit [--postings N] [--queries Q]`
 *
 * Builds a ledger of N postings (default 20 million, N/2 entries) in its own database
 * monedero_bench_audit with set-based SQL (each batch: one INSERT of entries, one INSERT of their
 * postings, checked by the balanced-entry trigger), a year of effective dates, two hot accounts
 * (a budget and a merchant payable, each with a third of all postings) and 20,000 cold accounts.
 * Then it folds the daily totals (what the seals job does) and times the balance of one hot
 * account as of random instants: through the daily totals (audit_account_totals_before) versus a
 * plain range scan of the postings index, checking both give the same figure; then the trial
 * balance as of a date, and the same balance with an unfolded backlog.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const postings = opt('postings', 20_000_000);
  const queries = opt('queries', 200);
  const entries = Math.floor(postings / 2);
  const batch = 500_000;
  const cold = 20_000;

  const url = await freshBenchDatabase('monedero_bench_audit');
  const db = new Client({ connectionString: url });
  await db.connect();
  const t = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const s = process.hrtime.bigint();
    const r = await fn();
    return [r, Number(process.hrtime.bigint() - s) / 1e6];
  };

  await db.query(`INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES
    ('treasury:MXN', 'treasury', 'treasury', 'debit'), ('bench:budget', 'hot budget', 'program_budget', 'credit'),
    ('bench:merchant', 'hot merchant', 'merchant_payable', 'credit')`);
  await db.query(`INSERT INTO ledger_accounts (code, name, category, normal_side) SELECT 'bench:cold:' || g, 'cold', 'instrument', 'credit' FROM generate_series(1, ${cold}) g`);
  await db.query(`CREATE TEMP TABLE acc AS SELECT row_number() OVER (ORDER BY code) - 1 AS n, id FROM ledger_accounts WHERE code LIKE 'bench:cold:%'`);
  const ids = Object.fromEntries((await db.query(`SELECT code, id FROM ledger_accounts WHERE code NOT LIKE 'bench:cold:%'`)).rows.map((r) => [r.code, r.id]));
  await db.query(`CREATE TEMP TABLE hot AS SELECT $1::uuid AS treasury, $2::uuid AS budget, $3::uuid AS merchant`, [ids['treasury:MXN'], ids['bench:budget'], ids['bench:merchant']]);

  // Entry g: g%3=0 treasury → budget, g%3=1 budget → cold account, g%3=2 cold account → merchant.
  const eff = (g: string) => `(timestamptz '2016-01-01 06:00:00+00' + (${g}::bigint * interval '365 days' / ${entries}) + ((${g} % 7919) * interval '1 second'))`;
  const amount = (g: string) => `(((${g} % 9973) + 1)::numeric / 100)`;
  const [, loadMs] = await t(async () => {
    for (let lo = 1; lo <= entries; lo += batch) {
      const hi = Math.min(entries, lo + batch - 1);
      await db.query(
        `INSERT INTO journal_entries (id, kind, idempotency_key, effective_at)
         SELECT md5('bench' || g)::uuid, CASE g % 3 WHEN 0 THEN 'appropriation' WHEN 1 THEN 'deposit' ELSE 'redemption' END, NULL, ${eff('g')}
           FROM generate_series(${lo}, ${hi}) g`,
      );
      await db.query(
        `INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
         SELECT md5('bench' || g)::uuid, x.account, x.side, ${amount('g')}, ${eff('g')}
           FROM generate_series(${lo}, ${hi}) g, hot, acc c,
           LATERAL (VALUES
             (CASE g % 3 WHEN 0 THEN hot.treasury WHEN 1 THEN hot.budget ELSE c.id END, 'debit'),
             (CASE g % 3 WHEN 0 THEN hot.budget WHEN 1 THEN c.id ELSE hot.merchant END, 'credit')) x(account, side)
          WHERE c.n = g % ${cold}`,
      );
      process.stderr.write(`\rloaded ${hi}/${entries} entries`);
    }
  });
  process.stderr.write('\n');
  await db.query(`VACUUM ANALYZE journal_entries`);
  await db.query(`VACUUM ANALYZE postings`);

  const [folded, foldMs] = await t(async () => {
    let n = 0;
    for (;;) {
      const r = await db.query(`SELECT audit_fold_day_totals(audit_seal_horizon(), 1000000) AS n`);
      n += r.rows[0].n;
      if (r.rows[0].n < 1_000_000) return n;
    }
  });
  await db.query(`VACUUM ANALYZE audit_account_day_totals`);
  const hotCount = Number((await db.query(`SELECT count(*) AS n FROM postings WHERE account_id = $1`, [ids['bench:merchant']])).rows[0].n);

  const instants = Array.from({ length: queries }, (_, i) => new Date(Date.parse('2016-01-02T00:00:00Z') + ((i * 7919 * 3_600_000) % (360 * 86_400_000)) + i * 1_234_567).toISOString());
  const timeBalances = async (account: string) => {
    const viaTotals: number[] = [];
    const viaScan: number[] = [];
    let mismatches = 0;
    for (const at of instants) {
      const [a, ms1] = await t(() => db.query(`SELECT credits - debits AS b FROM audit_account_totals_before($1, $2::timestamptz)`, [account, at]));
      const [b, ms2] = await t(() =>
        db.query(`SELECT coalesce(sum(CASE side WHEN 'credit' THEN amount ELSE -amount END), 0) AS b FROM postings WHERE account_id = $1 AND effective_at < $2`, [account, at]),
      );
      viaTotals.push(ms1);
      viaScan.push(ms2);
      if (a.rows[0].b !== b.rows[0].b) mismatches++;
    }
    return { dailyTotalsMs: stats(viaTotals), postingsRangeScanMs: stats(viaScan), mismatches };
  };
  const hotMerchant = await timeBalances(ids['bench:merchant']);
  const [, tbMs] = await t(() => db.query(`SELECT count(*), sum(debits), sum(credits) FROM audit_all_totals_before('2016-09-15T12:00:00Z')`));

  // A backlog not folded yet (as between two runs of the job): 30,000 more entries.
  await db.query(
    `INSERT INTO journal_entries (id, kind, effective_at) SELECT md5('late' || g)::uuid, 'redemption', timestamptz '2016-05-01 12:00:00+00' FROM generate_series(1, 30000) g`,
  );
  await db.query(
    `INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
     SELECT md5('late' || g)::uuid, x.account, x.side, 1.00, timestamptz '2016-05-01 12:00:00+00'
       FROM generate_series(1, 30000) g, hot, acc c, LATERAL (VALUES (c.id, 'debit'), (hot.merchant, 'credit')) x(account, side) WHERE c.n = g % ${cold}`,
  );
  const backlog = await timeBalances(ids['bench:merchant']);
  const [digests, digestMs] = await t(() => db.query(`SELECT count(*)::int AS n FROM audit_entry_digest_v WHERE seq <= 100000`));
  await db.end();
  return {
    postings: entries * 2,
    entries,
    hotAccountPostings: hotCount,
    loadSeconds: +(loadMs / 1000).toFixed(1),
    foldDailyTotals: { entries: folded, seconds: +(foldMs / 1000).toFixed(1) },
    balanceAsOfHotAccount: hotMerchant,
    balanceAsOfWithUnfoldedBacklog30k: backlog,
    trialBalanceAsOfMs: +tbMs.toFixed(1),
    entryDigests: { entries: digests.rows[0].n, ms: +digestMs.toFixed(0), perSecond: Math.round(digests.rows[0].n / (digestMs / 1000)) },
  };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2);
  return { p50: q(0.5), p95: q(0.95), max: +s[s.length - 1].toFixed(2) };
}
