import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { blockHash, GENESIS_HASH } from '../src/audit/audit.rules';
import { BalancesService } from '../src/audit/balances.service';
import { IntegrityService } from '../src/audit/integrity.service';
import { SealsService } from '../src/audit/seals.service';
import type { AppConfig } from '../src/config/config';
import { freshBenchDatabase, option, percentile } from './support';

/**
 * `npm run bench -- audit [--postings N] [--cards N] [--queries Q]`
 *
 * Audit reads over a ledger at national scale (issue 19 item 5). Builds, set-based, a year of
 * history (2025-12-01 … 2026-11-30) of N postings (default 50 million, N/2 entries) in the
 * monthly partitions of postings: entry g moves treasury → budget (g % 3 = 0), budget → card
 * (g % 3 = 1) or card → merchant (g % 3 = 2), over `cards` card accounts (default 100,000), in
 * effective-time order, one INSERT of entries and one of postings per million entries. Generation
 * runs with triggers off (session_replication_role = replica: the balanced-entry trigger's cost is
 * the cycle bench's to measure); then, as the running system would have left them, the account
 * totals, the daily totals, a seal of the history and an integrity checkpoint at its end are set
 * from the postings in one pass each (each timed). Then a day of new activity (2026-12-01, N/730
 * entries) is posted through the real primitive (ledger_post_set, sets of 1,000 entries) and sealed
 * by the real sealer, and it measures, with a reference from the same run:
 * - balance as of an instant of the hot merchant account (a third of all postings) and of a card,
 *   through BalancesService (what GET /v1/audit/accounts/:id/balance runs), p50/p95/p99; reference:
 *   the same balance summed from the postings index;
 * - the statement of one card over the year (first page of 100 lines, opening and closing);
 * - the trial balance as of a date (BalancesService.trialBalance); reference: the same totals
 *   grouped from the postings;
 * - the incremental integrity check of the new day; reference: the account-totals part of the
 *   full check (every posting summed by account);
 * - bytes per posting (heap + indexes of every partition) and per journal entry.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: number) => Number(option(args, name) ?? dflt);
  const postings = opt('postings', 50_000_000);
  const cards = opt('cards', 100_000);
  const queries = opt('queries', 400);
  const entries = Math.floor(postings / 2);
  const batch = 1_000_000;
  const dayEntries = Math.max(1000, Math.round(entries / 365));
  const progress = (msg: string) => process.stderr.write(`[audit bench] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);

  const url = await freshBenchDatabase(process.env.BENCH_AUDIT_DB ?? 'monedero_bench_audit');
  const db = new Client({ connectionString: url });
  await db.connect();
  const t = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const s = process.hrtime.bigint();
    const r = await fn();
    return [r, Number(process.hrtime.bigint() - s) / 1e6];
  };
  const seconds = (ms: number) => +(ms / 1000).toFixed(1);

  // Accounts: treasury, a budget, a merchant payable (the hot account), the cards.
  await db.query(`INSERT INTO ledger_accounts (code, name, category, normal_side) VALUES
    ('treasury:MXN', 'treasury', 'treasury', 'debit'), ('bench:budget', 'budget', 'program_budget', 'credit'),
    ('bench:merchant', 'hot merchant', 'merchant_payable', 'credit')`);
  await db.query(`INSERT INTO ledger_accounts (code, name, category, normal_side) SELECT 'bench:card:' || lpad(g::text, 8, '0'), 'card', 'instrument', 'credit' FROM generate_series(1, ${cards}) g`);
  await db.query(`CREATE TABLE bench_cards AS SELECT (row_number() OVER (ORDER BY code) - 1)::int AS n, id FROM ledger_accounts WHERE code LIKE 'bench:card:%'`);
  await db.query(`CREATE UNIQUE INDEX ON bench_cards (n)`);
  const ids = Object.fromEntries((await db.query(`SELECT code, id FROM ledger_accounts WHERE code NOT LIKE 'bench:card:%'`)).rows.map((r) => [r.code, r.id]));
  await db.query(`CREATE TABLE bench_hot AS SELECT $1::uuid AS treasury, $2::uuid AS budget, $3::uuid AS merchant`, [ids['treasury:MXN'], ids['bench:budget'], ids['bench:merchant']]);
  for (let m = 0; m < 12; m++) await db.query(`SELECT ledger_postings_month((date '2025-12-01' + make_interval(months => $1))::date)`, [m]);

  // The year of history, in effective-time order. The plain (non-unique) indexes are built after
  // the load, from their own definitions: one sort each instead of 25 million random inserts.
  const plainIndexes: Array<{ name: string; def: string }> = (
    await db.query(
      `SELECT indexrelid::regclass::text AS name, replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') AS def
         FROM pg_index WHERE indrelid IN ('postings'::regclass, 'journal_entries'::regclass) AND NOT indisunique`,
    )
  ).rows.map((r) => ({ name: r.name, def: r.def }));
  for (const x of plainIndexes) await db.query(`DROP INDEX ${x.name}`);
  const entryId = (g: string) => `('00000000-0000-4000-8000-' || lpad(to_hex(${g}), 12, '0'))::uuid`;
  const eff = (g: string) => `(timestamptz '2025-12-01 00:00:00+00' + ((${g} - 1) * (interval '365 days' / ${entries})))`;
  const amount = (g: string) => `((((${g} / 3) % 9973) + 1)::numeric / 100)`;
  const [, loadMs] = await t(async () => {
    for (let lo = 1; lo <= entries; lo += batch) {
      const hi = Math.min(entries, lo + batch - 1);
      await db.query('BEGIN');
      await db.query(`SET LOCAL session_replication_role = replica`);
      await db.query(
        `INSERT INTO journal_entries (id, kind, effective_at)
         SELECT ${entryId('g')}, CASE g % 3 WHEN 0 THEN 'appropriation' WHEN 1 THEN 'deposit' ELSE 'redemption' END, ${eff('g')}
           FROM generate_series(${lo}, ${hi}) g`,
      );
      await db.query(
        `INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
         SELECT ${entryId('g')}, x.account, x.side, ${amount('g')}, ${eff('g')}
           FROM generate_series(${lo}, ${hi}) g CROSS JOIN bench_hot h JOIN bench_cards c ON c.n = (g / 3) % ${cards},
           LATERAL (VALUES
             (CASE g % 3 WHEN 0 THEN h.treasury WHEN 1 THEN h.budget ELSE c.id END, 'debit'),
             (CASE g % 3 WHEN 0 THEN h.budget WHEN 1 THEN c.id ELSE h.merchant END, 'credit')) x(account, side)`,
      );
      await db.query('COMMIT');
      progress(`loaded ${hi}/${entries} entries`);
    }
  });
  const [, indexMs] = await t(async () => {
    for (const x of plainIndexes) await db.query(x.def);
  });
  progress(`indexes built in ${seconds(indexMs)} s`);
  const [, vacuumMs] = await t(async () => {
    await db.query(`VACUUM ANALYZE journal_entries`);
    await db.query(`VACUUM ANALYZE postings`);
  });
  progress(`vacuumed in ${seconds(vacuumMs)} s`);

  // What the running system would have left: account totals, daily totals, a seal and a checkpoint.
  const [, totalsMs] = await t(async () => {
    await db.query(`CREATE TABLE bench_sums AS SELECT account_id, coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0) AS debits,
                      coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0) AS credits FROM postings GROUP BY account_id`);
    await db.query(`UPDATE ledger_accounts a SET posted_debits = s.debits, posted_credits = s.credits FROM bench_sums s WHERE s.account_id = a.id`);
    await db.query(`INSERT INTO audit_integrity_account_totals (account_id, debits, credits) SELECT account_id, debits, credits FROM bench_sums`);
  });
  progress(`account totals in ${seconds(totalsMs)} s`);
  const [, dayTotalsMs] = await t(async () => {
    await db.query(`INSERT INTO audit_account_day_totals (account_id, day, debits, credits, postings)
                    SELECT account_id, (effective_at AT TIME ZONE 'UTC')::date, coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0),
                           coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0), count(*)
                      FROM postings GROUP BY 1, 2`);
  });
  progress(`daily totals in ${seconds(dayTotalsMs)} s`);
  const [last] = (await db.query(`SELECT e.txid::text AS txid, e.seq::text AS seq FROM journal_entries e ORDER BY e.txid DESC, e.seq DESC LIMIT 1`)).rows;
  const [first] = (await db.query(`SELECT e.txid::text AS txid, e.seq::text AS seq FROM journal_entries e ORDER BY e.txid, e.seq LIMIT 1`)).rows;
  await db.query(`UPDATE audit_day_totals_progress SET last_txid = $1::xid8, last_seq = $2 WHERE id`, [last.txid, last.seq]);
  // The history's seal stands in for the blocks the sealer would have written (its digests are not
  // recomputed here: the sealer's rate is measured on the new day below).
  const block = { blockNo: 1, prevHash: GENESIS_HASH, entriesHash: 'f'.repeat(64), entryCount: entries, fromTxid: first.txid, fromSeq: first.seq, toTxid: last.txid, toSeq: last.seq, horizon: String(BigInt(last.txid) + 1n) };
  const hash = blockHash(block);
  await db.query(
    `INSERT INTO audit_seals (block_no, from_txid, from_seq, to_txid, to_seq, first_seq, last_seq, entry_count, horizon, entries_hash, prev_hash, hash)
     VALUES (1, $1::xid8, $2, $3::xid8, $4, $2, $4, $5, $9::xid8, $6, $7, $8)`,
    [first.txid, first.seq, last.txid, last.seq, entries, block.entriesHash, GENESIS_HASH, hash, block.horizon],
  );
  const [tot] = (await db.query(`SELECT sum(debits)::text AS d, sum(credits)::text AS c FROM bench_sums`)).rows;
  await db.query(
    `INSERT INTO audit_integrity_checkpoints (prev_id, block_no, block_hash, to_txid, to_seq, entries, debits, credits, checked_entries, checked_postings)
     VALUES (0, 1, $1, $2::xid8, $3, $4, $5, $6, $4, $7)`,
    [hash, last.txid, last.seq, entries, tot.d, tot.c, entries * 2],
  );
  await db.query(`VACUUM ANALYZE audit_account_day_totals`);
  await db.query(`VACUUM ANALYZE ledger_accounts`);

  const ds = new DataSource({ type: 'postgres', url, extra: { max: 4 } });
  await ds.initialize();
  const config = { DEFAULT_TIME_ZONE: 'America/Mexico_City' } as AppConfig;
  const balances = new BalancesService(ds, config);
  const integrity = new IntegrityService(ds);
  const sealer = new SealsService(ds);

  // A day of new activity through the primitive, sealed and folded by the real jobs.
  const [, dayPostMs] = await t(async () => {
    for (let lo = 1; lo <= dayEntries; lo += 1000) {
      const hi = Math.min(dayEntries, lo + 999);
      await db.query(
        `WITH g AS (SELECT g, ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid AS id,
                           timestamptz '2026-12-01 06:00:00+00' + g * interval '1 second' AS at FROM generate_series($1::int, $2::int) g)
         SELECT ledger_post_set(
           ARRAY(SELECT ROW(g.id, 'redemption', 'bench:day:' || g.g, g.at, NULL, '{}'::jsonb, NULL, NULL)::ledger_entry_in FROM g),
           ARRAY(SELECT ROW(g.id, x.account, x.side, ((g.g % 97) + 1)::numeric)::ledger_posting_in
                   FROM g JOIN bench_cards c ON c.n = (g.g * 7919) % ${cards}, bench_hot h,
                   LATERAL (VALUES (c.id, 'debit'), (h.merchant, 'credit')) x(account, side)))`,
        [lo, hi],
      );
    }
  });
  progress(`posted a day of ${dayEntries} entries in ${seconds(dayPostMs)} s`);
  const [sealed, sealMs] = await t(async () => {
    let n = 0;
    for (;;) {
      const r = await sealer.sealPending(1000);
      n += r.entries;
      if (r.entries === 0) return n;
    }
  });
  progress(`sealed ${sealed} in ${seconds(sealMs)} s`);

  // Incremental integrity of the day, against the account-totals part of the full check.
  const [inc, incMs] = await t(() => integrity.checkIncremental(ds));
  progress(`incremental check ${incMs.toFixed(0)} ms ok=${inc.ok} ${JSON.stringify(inc.problems.slice(0, 3))}`);
  const [, fullSumsMs] = await t(() => db.query(`SELECT count(*) FROM (SELECT account_id, sum(amount) FILTER (WHERE side = 'debit'), sum(amount) FILTER (WHERE side = 'credit') FROM postings GROUP BY account_id) s`));
  progress(`full account sums ${seconds(fullSumsMs)} s`);

  // Balance as of an instant: the hot merchant and random cards, against the postings index.
  const instants = Array.from({ length: queries }, (_, i) => new Date(Date.parse('2025-12-02T00:00:00Z') + ((i * 7919 * 3_600_000 + i * 1_234_567) % (360 * 86_400_000))).toISOString());
  const cardIds: string[] = (await db.query(`SELECT id FROM bench_cards ORDER BY (n::bigint * 7919) % $1, n LIMIT $2`, [cards, queries])).rows.map((r) => r.id);
  const asOf = async (account: string, list: string[]) => {
    const ms: number[] = [];
    for (const at of list) ms.push((await t(() => balances.balanceAsOf(account, at, new Date(), ds)))[1]);
    return ms;
  };
  const merchantMs = await asOf(ids['bench:merchant'], instants);
  const cardMs: number[] = [];
  for (let i = 0; i < cardIds.length; i++) cardMs.push(...(await asOf(cardIds[i], [instants[i]])));
  const scan = async (account: string, at: string) =>
    t(() => db.query(`SELECT coalesce(sum(CASE side WHEN 'credit' THEN amount ELSE -amount END), 0)::text AS b FROM postings WHERE account_id = $1 AND effective_at <= $2`, [account, at]));
  const refMerchant: number[] = [];
  let mismatches = 0;
  for (const at of instants.slice(0, 5)) {
    const [r, ms] = await scan(ids['bench:merchant'], at);
    refMerchant.push(ms);
    const viaService = await balances.balanceAsOf(ids['bench:merchant'], at, new Date(), ds);
    if (Number(viaService.balance) !== Number(r.rows[0].b)) mismatches++;
  }
  const refCard: number[] = [];
  for (let i = 0; i < Math.min(50, cardIds.length); i++) refCard.push((await scan(cardIds[i], instants[i]))[1]);
  progress('balances done');

  // Statement of one card over the year.
  const stmtMs: number[] = [];
  for (const id of cardIds.slice(0, 100)) {
    stmtMs.push((await t(() => balances.statement(id, { from: '2025-12-01', to: '2026-11-30' }, new Date(), { limit: 100 }, ds)))[1]);
  }
  const [oneStatement] = await t(() => balances.statement(cardIds[0], { from: '2025-12-01', to: '2026-11-30' }, new Date(), { limit: 100 }, ds));
  progress('statements done');

  // Trial balance as of a date, against grouping the postings.
  const tbMs: number[] = [];
  let tb: { balanced: boolean; accounts: unknown[] } | null = null;
  for (const d of ['2026-06-15', '2026-09-30', '2026-11-30']) {
    const [r, ms] = await t(() => balances.trialBalance(d, new Date(), {}, ds));
    tbMs.push(ms);
    tb = r;
  }
  const [, tbRefMs] = await t(() =>
    db.query(`SELECT count(*) FROM (SELECT account_id, sum(amount) FILTER (WHERE side = 'debit'), sum(amount) FILTER (WHERE side = 'credit') FROM postings WHERE effective_at < '2026-10-01 06:00:00+00' GROUP BY account_id) s`),
  );
  progress('trial balance done');

  // Storage.
  const [size] = (
    await db.query(
      `SELECT sum(pg_relation_size(relid))::bigint AS heap, sum(pg_indexes_size(relid))::bigint AS idx, sum(pg_total_relation_size(relid))::bigint AS total,
              (SELECT count(*) FROM postings)::bigint AS n, count(*) FILTER (WHERE isleaf)::int AS partitions
         FROM pg_partition_tree('postings') WHERE isleaf`,
    )
  ).rows;
  const [je] = (await db.query(`SELECT pg_total_relation_size('journal_entries')::bigint AS total, pg_relation_size('journal_entries')::bigint AS heap, (SELECT count(*) FROM journal_entries)::bigint AS n`)).rows;
  const [dt] = (await db.query(`SELECT pg_total_relation_size('audit_account_day_totals')::bigint AS total, (SELECT count(*) FROM audit_account_day_totals)::bigint AS n`)).rows;
  await ds.destroy();
  await db.end();

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { n: s.length, p50: +percentile(s, 50).toFixed(2), p95: +percentile(s, 95).toFixed(2), p99: +percentile(s, 99).toFixed(2), max: +s[s.length - 1].toFixed(2) };
  };
  return {
    postings: Number(size.n),
    entries: Number(je.n),
    cards,
    partitions: size.partitions,
    generation: { historyPostings: entries * 2, loadSeconds: seconds(loadMs), postingsPerSecond: Math.round((entries * 2) / (loadMs / 1000)), indexBuildSeconds: seconds(indexMs), vacuumAnalyzeSeconds: seconds(vacuumMs), accountTotalsSeconds: seconds(totalsMs), dailyTotalsSeconds: seconds(dayTotalsMs) },
    newDay: { entries: dayEntries, postSeconds: seconds(dayPostMs), sealedEntries: sealed, sealSeconds: seconds(sealMs) },
    balanceAsOf: {
      hotMerchantMs: stats(merchantMs),
      cardMs: stats(cardMs),
      referencePostingsScanMs: { hotMerchant: stats(refMerchant), card: stats(refCard) },
      hotMerchantPostings: Math.round((entries * 2) / 3 / 2),
      mismatches,
      target: 'p99 ≤ 5 ms',
    },
    statementOfOneCard: { ms: stats(stmtMs), linesOnFirstPage: oneStatement.lines.length, hasMore: oneStatement.nextCursor !== null, target: '≤ 50 ms' },
    trialBalanceAsOf: { ms: tbMs.map((x) => +x.toFixed(0)), accounts: tb?.accounts.length, balanced: tb?.balanced, dayTotalRows: Number(dt.n), referencePostingsGroupByMs: +tbRefMs.toFixed(0), target: '≤ 2 s' },
    incrementalIntegrityOfOneDay: {
      ms: +incMs.toFixed(0),
      ok: inc.ok,
      checkedEntries: inc.checkedEntries,
      checkedPostings: inc.checkedPostings,
      checkedBlocks: inc.checkedBlocks,
      referenceFullCheckAccountSumsMs: +fullSumsMs.toFixed(0),
      problems: inc.problems.slice(0, 5),
    },
    storage: {
      bytesPerPosting: Math.round(Number(size.total) / Number(size.n)),
      heapBytesPerPosting: Math.round(Number(size.heap) / Number(size.n)),
      indexBytesPerPosting: Math.round(Number(size.idx) / Number(size.n)),
      postingsGB: +(Number(size.total) / 1e9).toFixed(2),
      bytesPerJournalEntry: Math.round(Number(je.total) / Number(je.n)),
      journalEntriesGB: +(Number(je.total) / 1e9).toFixed(2),
      dailyTotalsGB: +(Number(dt.total) / 1e9).toFixed(2),
    },
  };
}
