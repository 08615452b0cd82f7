process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:replica`;
import { Client } from 'pg';
import { money } from '../../src/common/money';
import { migrate, recreateDatabase } from '../../src/database/migrate';
import { ReadDatabase } from '../../src/database/read-database';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { testAccount, treasury } from '../support/ledger-fixtures';
import { ThrowawayPostgres } from '../support/throwaway-servers';

/**
 * Auditor reads on a real PostgreSQL streaming replica of a throwaway cluster (pg_basebackup -R):
 * they are served there and labelled with the replica's lag; a read that must be current refuses
 * a replica that is behind (the primary answers); nothing money-moving reads it, and its
 * connections cannot write.
 */
describe('reads on a streaming replica (DATABASE_READ_URL)', () => {
  const saved = { database: process.env.DATABASE_URL, read: process.env.DATABASE_READ_URL, wait: process.env.READ_REPLICA_WAIT_MS };
  let primary: ThrowawayPostgres;
  let replica: ThrowawayPostgres;
  let replicaSql: Client;
  let t: TestApp;

  beforeAll(async () => {
    primary = await ThrowawayPostgres.create();
    const url = primary.urlFor('monedero_replica_test');
    await recreateDatabase(url);
    await migrate({ DATABASE_URL: url, DB_POOL_SIZE: 2, DB_STATEMENT_TIMEOUT_MS: 30000 });
    replica = await primary.replica();
    replicaSql = new Client({ connectionString: replica.urlFor('monedero_replica_test') });
    await replicaSql.connect();
    Object.assign(process.env, { DATABASE_URL: url, DATABASE_READ_URL: replica.urlFor('monedero_replica_test'), READ_REPLICA_WAIT_MS: '300' });
    t = await createTestApp();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await replicaSql?.end();
    replica?.destroySync();
    primary?.destroySync();
    for (const [k, v] of [['DATABASE_URL', saved.database], ['DATABASE_READ_URL', saved.read], ['READ_REPLICA_WAIT_MS', saved.wait]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const caughtUp = async () => {
    for (let i = 0; i < 200; i++) {
      const [{ lsn }] = await t.db.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
      const { rows } = await replicaSql.query(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok`, [lsn]);
      if (rows[0].ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the replica never caught up');
  };

  it('serves audit reads from the replica, labelled with its lag, and refuses a lagging one for a read that must be current', async () => {
    const ledger = t.app.get(LedgerService);
    const auditor = await t.staff('auditor');
    const account = await testAccount(ledger, { label: 'replica' });
    const fund = async (amount: string) =>
      ledger.post({
        kind: 'appropriation',
        effectiveAt: new Date(t.clock.now().getTime() - 60_000),
        postings: [
          { accountId: (await treasury(ledger)).id, side: 'debit', amount: money(amount) },
          { accountId: account.id, side: 'credit', amount: money(amount) },
        ],
      });
    await fund('100.00');
    await caughtUp();
    const balance = (headers: Record<string, string> = {}) =>
      t.http.get(`/v1/audit/accounts/${account.id}/balance`).set(auditor.auth).set(headers).expect(200);

    const fresh = await balance();
    expect(fresh.headers['x-read-source']).toBe('replica');
    expect(fresh.body.balance).toBe('100.00');
    const tb = await t.http.get('/v1/audit/trial-balance').set(auditor.auth).expect(200);
    expect(tb.headers['x-read-source']).toBe('replica');
    expect(tb.body.balanced).toBe(true);

    // The replica stops replaying: what it serves is what it has, and it says how far behind it is.
    await replicaSql.query(`SELECT pg_wal_replay_pause()`);
    try {
      await fund('25.00');
      await new Promise((r) => setTimeout(r, 50));
      const stale = await balance();
      expect(stale.headers['x-read-source']).toBe('replica');
      expect(stale.body.balance).toBe('100.00');
      expect(Number(stale.headers['x-replica-lag-ms'])).toBeGreaterThan(0);
      // A read that must be current is never served by a replica that is behind: the primary answers.
      const current = await balance({ 'X-Read-Consistency': 'current' });
      expect(current.headers['x-read-source']).toBe('primary');
      expect(current.body.balance).toBe('125.00');
    } finally {
      await replicaSql.query(`SELECT pg_wal_replay_resume()`);
    }
    await caughtUp();
    const resumed = await balance({ 'X-Read-Consistency': 'current' });
    expect(resumed.headers['x-read-source']).toBe('replica');
    expect(resumed.body.balance).toBe('125.00');
  });

  it('money moves on the primary while the replica is paused, and the replica connections cannot write', async () => {
    const ledger = t.app.get(LedgerService);
    const account = await testAccount(ledger, { label: 'replica-write' });
    await replicaSql.query(`SELECT pg_wal_replay_pause()`);
    try {
      const posted = await ledger.post({
        kind: 'appropriation',
        effectiveAt: new Date(t.clock.now().getTime() - 60_000),
        postings: [
          { accountId: (await treasury(ledger)).id, side: 'debit', amount: money('1.00') },
          { accountId: account.id, side: 'credit', amount: money('1.00') },
        ],
      });
      expect(posted.replayed).toBe(false);
    } finally {
      await replicaSql.query(`SELECT pg_wal_replay_resume()`);
    }
    const read = await t.app.get(ReadDatabase).replica();
    expect(read.source).toBe('replica');
    await expect(read.db.query(`SELECT ledger_post('x', NULL, now(), ARRAY[$1::uuid, $1::uuid], ARRAY['debit','credit'], ARRAY[1, 1])`, [account.id])).rejects.toMatchObject({
      code: '25006',
    });
  });
});
