import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SealsService } from '../../src/audit/seals.service';
import { createTestApp, TestApp } from '../support/app';
import { behindTheBack } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { testAccount, treasury } from '../support/ledger-fixtures';

/**
 * Tampering is a global change, so this file runs in a database of its own (<test db>_tamper…):
 * other test files calling the integrity check in parallel never see the edited posting.
 */
const base = new URL(process.env.DATABASE_URL!);
const ownDb = `${base.pathname.slice(1).replace(/_test$/, '')}_tamper_test`;
const ownUrl = (() => {
  const u = new URL(base.toString());
  u.pathname = `/${ownDb}`;
  return u.toString();
})();

/** Behind the service's back, in this file's own database. */
const tamper = (sql: string, params: unknown[] = []) => behindTheBack(ownUrl, sql, params);

describe('audit: integrity seals and the tamper test', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let seals: SealsService;
  let auth: { Authorization: string };
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    process.env.DATABASE_URL = await isolatedDatabase(ownDb);
    t = await createTestApp();
    ledger = t.app.get(LedgerService);
    seals = t.app.get(SealsService);
    auth = (await t.staff('auditor')).auth;
  });
  afterAll(async () => {
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  const move = async (from: string, to: string, amount: string) =>
    (
      await ledger.post({
        kind: 'deposit',
        idempotencyKey: `tamper:${randomUUID()}`,
        effectiveAt: new Date('2016-05-01T12:00:00Z'),
        metadata: { note: 'tamper test' },
        postings: [
          { accountId: from, side: 'debit', amount: money(amount) },
          { accountId: to, side: 'credit', amount: money(amount) },
        ],
      })
    ).entryId;

  it('seals entries into a hash chain and reports a clean ledger', async () => {
    const tr = await treasury(ledger);
    const a = await testAccount(ledger, { label: 'tamper-a' });
    const b = await testAccount(ledger, { label: 'tamper-b', deferred: true });
    await move(tr.id, a.id, '500.00');
    for (let i = 0; i < 5; i++) await move(a.id, b.id, `1${i}.25`);
    const first = await seals.sealPending();
    expect(first.entries).toBeGreaterThanOrEqual(6);
    await move(a.id, b.id, '3.00');
    const second = await seals.sealPending();
    expect(second).toMatchObject({ blocks: 1, entries: 1 });
    const again = await seals.sealPending();
    expect(again.entries).toBe(0);

    const res = await t.http.get('/v1/audit/integrity').set(auth).expect(200);
    expect(res.body).toMatchObject({ ok: true, problemCount: 0, unsealedEntries: 0, chain: { ok: true } });
    expect(res.body.checkedEntries).toBe(res.body.sealedEntries);
    expect(res.body.sealedBlocks).toBeGreaterThanOrEqual(2);
    const list = await t.http.get('/v1/audit/seals').set(auth).expect(200);
    expect(list.body.data[1].prevHash).toBe(list.body.data[0].hash);
  });

  it('reports exactly the entry whose posting was edited behind the service, and nothing after restoring it', async () => {
    const tr = await treasury(ledger);
    const a = await testAccount(ledger, { label: 'victim' });
    const b = await testAccount(ledger, { label: 'thief' });
    await move(tr.id, a.id, '900.00');
    const victim = await move(a.id, b.id, '100.00');
    await move(a.id, b.id, '7.00');
    await seals.sealPending();
    const [posting] = await t.db.query(`SELECT id::text FROM postings WHERE entry_id = $1 AND side = 'credit'`, [victim]);

    await tamper(`UPDATE postings SET amount = amount + 0.01 WHERE id = $1`, [posting.id]);
    try {
      const res = await t.http.get('/v1/audit/integrity').set(auth).expect(200);
      expect(res.body.ok).toBe(false);
      const entryProblems = res.body.problems.filter((p: { entryId?: string }) => p.entryId);
      expect(new Set(entryProblems.map((p: { entryId: string }) => p.entryId))).toEqual(new Set([victim]));
      expect(entryProblems.map((p: { type: string }) => p.type).sort()).toEqual(['entry_unbalanced', 'sealed_entry_altered']);
      const accountProblems = res.body.problems.filter((p: { accountId?: string }) => p.accountId);
      expect(new Set(accountProblems.map((p: { accountId: string }) => p.accountId))).toEqual(new Set([b.id]));
      expect(accountProblems.find((p: { type: string }) => p.type === 'account_totals_mismatch')).toMatchObject({
        expected: { credits: '107.01' },
        actual: { credits: '107.00' },
      });
    } finally {
      await tamper(`UPDATE postings SET amount = amount - 0.01 WHERE id = $1`, [posting.id]);
    }
    const clean = await t.http.get('/v1/audit/integrity').set(auth).expect(200);
    expect(clean.body).toMatchObject({ ok: true, problemCount: 0 });
  });

  it('detects a deleted sealed entry and a broken seal', async () => {
    const tr = await treasury(ledger);
    const a = await testAccount(ledger, { label: 'gone' });
    const gone = await move(tr.id, a.id, '42.00');
    await seals.sealPending();
    await tamper(`DELETE FROM postings WHERE entry_id = $1; `, [gone]);
    await tamper(`DELETE FROM journal_entries WHERE id = $1`, [gone]);
    const [block] = await t.db.query(`SELECT block_no::int AS n, hash FROM audit_seals ORDER BY block_no LIMIT 1`);
    await tamper(`UPDATE audit_seals SET entry_count = entry_count + 1 WHERE block_no = $1`, [block.n]);
    {
      const res = await t.http.get('/v1/audit/integrity').set(auth).expect(200);
      const types = res.body.problems.map((p: { type: string; entryId?: string; blockNo?: number }) => `${p.type}:${p.entryId ?? p.blockNo ?? ''}`);
      expect(types).toContain(`sealed_entry_missing:${gone}`);
      expect(types).toContain(`seal_chain_broken:${block.n}`);
      expect(res.body.chain.ok).toBe(false);
    }
    // Last test of this file: the database is dropped afterwards, so nothing needs restoring.
  });
});
