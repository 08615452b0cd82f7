import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { IntegrityService } from '../../src/audit/integrity.service';
import { SealsService } from '../../src/audit/seals.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { behindTheBack, siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { testAccount, treasury } from '../support/ledger-fixtures';

/**
 * The incremental integrity check (docs/audit.md "Incremental integrity"): a day of new activity
 * verified from the last checkpoint, without rereading history. Tampering is global, so this file
 * runs in a database of its own.
 */
describe('audit: incremental integrity from a checkpoint', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let seals: SealsService;
  let integrity: IntegrityService;
  let ownUrl: string;
  const saved = process.env.DATABASE_URL;
  const tamper = (sql: string, params: unknown[] = []) => behindTheBack(ownUrl, sql, params);

  beforeAll(async () => {
    ownUrl = await isolatedDatabase(siblingTestDatabase('incremental'));
    process.env.DATABASE_URL = ownUrl;
    t = await createTestApp();
    ledger = t.app.get(LedgerService);
    seals = t.app.get(SealsService);
    integrity = t.app.get(IntegrityService);
  });
  afterAll(async () => {
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  const move = async (from: string, to: string, amount: string, day: string) =>
    (
      await ledger.post({
        kind: 'deposit',
        idempotencyKey: `incremental:${randomUUID()}`,
        effectiveAt: new Date(`${day}T12:00:00Z`),
        postings: [
          { accountId: from, side: 'debit', amount: money(amount) },
          { accountId: to, side: 'credit', amount: money(amount) },
        ],
      })
    ).entryId;
  const checkpoints = async () => (await t.db.query(`SELECT count(*)::int AS n FROM audit_integrity_checkpoints`))[0].n;

  let a: string;
  let b: string;
  let history: string;

  it('checks only the entries after the checkpoint, and moves the checkpoint to the last seal', async () => {
    const tr = await treasury(ledger);
    a = (await testAccount(ledger, { label: 'inc-a' })).id;
    b = (await testAccount(ledger, { label: 'inc-b', deferred: true })).id;
    await move(tr.id, a, '1000.00', '2026-11-29');
    history = await move(a, b, '10.00', '2026-11-30');
    await seals.sealPending();
    const first = await integrity.checkIncremental();
    expect(first).toMatchObject({ ok: true, problemCount: 0, fromBlock: 0 });
    expect(first.checkedEntries).toBeGreaterThanOrEqual(2);
    expect(first.checkpoint).not.toBeNull();

    // A day of new activity: only it is read.
    for (let i = 0; i < 4; i++) await move(a, b, `2.5${i}`, '2026-12-01');
    await seals.sealPending();
    const day = await integrity.checkIncremental();
    expect(day).toMatchObject({ ok: true, problemCount: 0, fromBlock: first.checkpoint!.blockNo, checkedEntries: 4, checkedPostings: 8, sealedEntries: 4 });
    expect(day.checkpoint!.blockNo).toBeGreaterThan(first.checkpoint!.blockNo);
    expect(await checkpoints()).toBe(2);

    // Nothing new: nothing read, no new checkpoint.
    expect(await integrity.checkIncremental()).toMatchObject({ ok: true, checkedEntries: 0, checkpoint: null });
    expect(await checkpoints()).toBe(2);
  });

  it('finds a sealed entry of the new day edited behind the service (both postings, so it still balances) and records no checkpoint', async () => {
    const victim = await move(a, b, '5.00', '2026-12-01');
    await move(a, b, '6.00', '2026-12-01');
    await seals.sealPending();
    await tamper(`UPDATE postings SET amount = amount + 1 WHERE entry_id = $1`, [victim]);
    try {
      const res = await integrity.checkIncremental();
      expect(res.ok).toBe(false);
      expect(res.checkpoint).toBeNull();
      const types = res.problems.map((p) => `${p.type}:${p.entryId ?? p.accountId ?? p.blockNo ?? ''}`).sort();
      expect(types).toEqual([`account_totals_mismatch:${a}`, `account_totals_mismatch:${b}`, `sealed_entry_altered:${victim}`].sort());
      expect(await checkpoints()).toBe(2);
    } finally {
      await tamper(`UPDATE postings SET amount = amount - 1 WHERE entry_id = $1`, [victim]);
    }
    expect(await integrity.checkIncremental()).toMatchObject({ ok: true, checkedEntries: 2 });
    expect(await checkpoints()).toBe(3);
  });

  it('finds an entry slipped in below the last seal behind the sealer, and one posting deleted from a new entry', async () => {
    const sealedLater = await move(a, b, '7.00', '2026-12-01');
    const [{ txid }] = await t.db.query(`SELECT (txid::text::bigint - 1)::text AS txid FROM journal_entries WHERE id = $1`, [sealedLater]);
    await seals.sealPending();
    const unbalanced = await move(a, b, '8.00', '2026-12-01');
    const slipped = randomUUID();
    await tamper(`INSERT INTO journal_entries (id, kind, effective_at, txid) VALUES ($1, 'deposit', '2026-12-01T12:00:00Z', $2::text::xid8)`, [slipped, txid]);
    await tamper(
      `INSERT INTO postings (entry_id, account_id, side, amount, effective_at) VALUES ($1, $2, 'debit', 1, '2026-12-01T12:00:00Z'), ($1, $3, 'credit', 1, '2026-12-01T12:00:00Z')`,
      [slipped, a, b],
    );
    await tamper(`DELETE FROM postings WHERE entry_id = $1 AND side = 'credit'`, [unbalanced]);
    const res = await integrity.checkIncremental();
    expect(res.ok).toBe(false);
    const types = res.problems.map((p) => `${p.type}:${p.entryId ?? ''}`);
    expect(types).toContain(`unsealed_entry_below_seal:${slipped}`);
    expect(types).toContain(`entry_unbalanced:${unbalanced}`);
  });

  it('never rereads history: an edit before the checkpoint is the full check’s to find', async () => {
    await tamper(`UPDATE postings SET amount = amount + 1 WHERE entry_id = $1`, [history]);
    const full = await integrity.check();
    expect(full.problems.map((p) => `${p.type}:${p.entryId ?? ''}`)).toContain(`sealed_entry_altered:${history}`);
    const incremental = await integrity.checkIncremental();
    expect(incremental.problems.map((p) => p.entryId)).not.toContain(history);
    // Last test of this file: the database is dropped afterwards, so nothing needs restoring.
  });
});
