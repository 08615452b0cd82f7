import type { INestApplicationContext } from '@nestjs/common';
import { Pool } from 'pg';
import { freshBenchDatabase, option, percentile } from './support';

/**
 * `npm run bench -- lists [--rows N] [--pages N]`
 *
 * A page of GET /v1/merchant/transactions must cost what a page costs, whatever the merchant's
 * history. Seeds one merchant with N redemptions (default 1,000,000) and N/10 refunds, and a small
 * merchant with 1,000 rows as the reference, set-based; then times RedemptionsService.transactions
 * (the route's use case, both SQL round trips): the first page, and pages reached by cursor at
 * random depths, of the big merchant and of the small one, in the same run.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rows = Number(option(args, 'rows') ?? 1_000_000);
  const pages = Number(option(args, 'pages') ?? 300);
  const url = await freshBenchDatabase('monedero_bench_lists');
  Object.assign(process.env, { DATABASE_URL: url, QUEUE_PREFIX: `bench-lists-${Date.now()}`, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent' });
  const pool = new Pool({ connectionString: url, max: 2 });
  const progress = (msg: string) => process.stderr.write(`[lists bench] ${msg}\n`);
  let t0 = Date.now();
  const [big, small] = await seed(pool, rows);
  const seedSeconds = (Date.now() - t0) / 1000;
  progress(`seeded ${rows} + ${rows / 10} rows in ${seedSeconds.toFixed(1)} s`);

  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../src/app.module');
  const { RedemptionsService } = await import('../src/merchants/redemptions.service');
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.forRole('api'), { logger: false });
  try {
    const service = app.get(RedemptionsService);
    // Cursors at random depths: the key of a row of the history, as the previous page would give it.
    const cursorsOf = async (merchant: string, n: number) => {
      const { rows: keys } = await pool.query(
        `SELECT created_at::text AS at, id FROM redemptions WHERE merchant_id = $1 ORDER BY random() LIMIT $2`,
        [merchant, n],
      );
      const { encodeCursor } = await import('../src/merchants/merchants.rules');
      return keys.map((k: { at: string; id: string }) => encodeCursor({ at: k.at, id: k.id }));
    };
    const measure = async (merchant: string) => {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) await service.transactions(merchant, { limit: 50 }); // warm-up
      let first = 0;
      for (let i = 0; i < 20; i++) {
        const s = process.hrtime.bigint();
        await service.transactions(merchant, { limit: 50 });
        first += Number(process.hrtime.bigint() - s) / 1e6;
      }
      for (const cursor of await cursorsOf(merchant, pages)) {
        const s = process.hrtime.bigint();
        const page = await service.transactions(merchant, { limit: 50, cursor });
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
        if (page.data.length === 0 && page.nextCursor) throw new Error('an empty page with a next cursor');
      }
      times.sort((a, b) => a - b);
      const r = (x: number) => Number(x.toFixed(2));
      return { firstPageMeanMs: r(first / 20), deepPages: times.length, p50Ms: r(percentile(times, 50)), p99Ms: r(percentile(times, 99)), maxMs: r(times[times.length - 1]) };
    };
    const bigMerchant = await measure(big);
    const reference = await measure(small);
    return {
      description: 'GET /v1/merchant/transactions use case (limit 50): first page and pages at random cursor depths',
      rows: { bigMerchant: rows + rows / 10, referenceMerchant: 1100 },
      seedSeconds,
      bigMerchant,
      reference,
      ratioP50: Number((bigMerchant.p50Ms / reference.p50Ms).toFixed(2)),
    };
  } finally {
    await app.close();
    await pool.end();
  }
}

/** Merchants with captured redemptions and refunds, all on one real journal entry (the list reads rows, not postings). */
async function seed(pool: Pool, n: number): Promise<[string, string]> {
  const { rows: acc } = await pool.query(
    `INSERT INTO ledger_accounts (code, name, category, normal_side, no_negative_balance)
     VALUES ('treasury:MXN', 'T', 'treasury', 'debit', false), ('bench:card', 'card', 'instrument', 'credit', true),
            ('bench:budget', 'b', 'program_budget', 'credit', true), ('bench:reint', 'r', 'reintegro_payable', 'credit', false)
     RETURNING id, code`,
  );
  const id = (c: string) => acc.find((a: { code: string }) => a.code === c).id;
  const { rows: [{ entry_id: entry }] } = await pool.query(
    `SELECT entry_id FROM ledger_post('bench', 'bench:entry', now(), ARRAY[$1::uuid, $2::uuid], ARRAY['debit','credit'], ARRAY[1.00, 1.00])`,
    [id('treasury:MXN'), id('bench:card')],
  );
  const { rows: [{ id: program }] } = await pool.query(
    `INSERT INTO programs (code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     VALUES ('LISTS-BENCH', 'bench', 2026, 'card', '{"benefit":{"type":"fixed","amount":"1.00"}}', $1, $2) RETURNING id`,
    [id('bench:budget'), id('bench:reint')],
  );
  const { rows: [{ id: beneficiary }] } = await pool.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     VALUES ($1, 'B-1', 'BENC000000000001XX', 'N', 'A', '1950-01-01', '{"state":"DF"}', '2026-01-01', '2026-01-01') RETURNING id`,
    [program],
  );
  const { rows: [{ id: instrument }] } = await pool.query(
    `INSERT INTO instruments (beneficiary_id, program_id, kind, number_hash, last4, status, account_id, delivered_at)
     VALUES ($1, $2, 'card', 'bench', '0000', 'active', $3, now()) RETURNING id`,
    [beneficiary, program, id('bench:card')],
  );
  const merchants: string[] = [];
  for (const [name, count] of [['big', n], ['small', 1000]] as const) {
    const { rows: [{ id: payable }] } = await pool.query(
      `INSERT INTO ledger_accounts (code, name, category, normal_side, deferred_totals) VALUES ($1, 'p', 'merchant_payable', 'credit', true) RETURNING id`,
      [`bench:payable:${name}`],
    );
    const { rows: [{ id: merchant }] } = await pool.query(
      `INSERT INTO merchants (name, category, payable_account_id) VALUES ($1, 'grocery', $2) RETURNING id`,
      [name, payable],
    );
    // Times a few microseconds apart, some equal: the keyset must page through ties.
    await pool.query(
      `INSERT INTO redemptions (id, merchant_id, instrument_id, program_id, instrument_last4, kind, status, amount, captured_amount,
                                entry_id, created_at, captured_at, resolved_at)
       SELECT gen_random_uuid(), $1, $2, $3, '0000', 'direct', 'captured', 1.00, 1.00, $4, t, t, t
         FROM (SELECT timestamptz '2026-01-01' + ((g / 2) * interval '7 microseconds') AS t FROM generate_series(1, $5::int) g) s`,
      [merchant, instrument, program, entry, count],
    );
    await pool.query(
      `INSERT INTO redemption_refunds (id, redemption_id, merchant_id, amount, entry_id, created_at)
       SELECT gen_random_uuid(), r.id, r.merchant_id, 0.10, $2, r.created_at + interval '1 second'
         FROM redemptions r WHERE r.merchant_id = $1 AND random() < 0.1`,
      [merchant, entry],
    );
    merchants.push(merchant);
  }
  await pool.query('VACUUM ANALYZE');
  return [merchants[0], merchants[1]];
}
