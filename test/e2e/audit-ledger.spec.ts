import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SealsService } from '../../src/audit/seals.service';
import { createTestApp, TestApp } from '../support/app';
import { testAccount, treasury } from '../support/ledger-fixtures';

describe('audit: balances as of a date, trial balance, statements', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let auth: { Authorization: string };
  let acct: { id: string };
  let hot: { id: string };

  const post = async (from: string, to: string, amount: string, at: string, kind = 'deposit') =>
    (
      await ledger.post({
        kind,
        idempotencyKey: `audit-test:${randomUUID()}`,
        effectiveAt: new Date(at),
        description: `${kind} ${amount}`,
        postings: [
          { accountId: from, side: 'debit', amount: money(amount) },
          { accountId: to, side: 'credit', amount: money(amount) },
        ],
      })
    ).entryId;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-06-30T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    auth = (await t.staff('auditor')).auth;
    const tr = await treasury(ledger);
    acct = await testAccount(ledger, { label: 'audit-stmt' });
    hot = await testAccount(ledger, { label: 'audit-hot', deferred: true });
    await post(tr.id, acct.id, '1000.00', '2016-03-01T12:00:00Z', 'appropriation');
    await post(acct.id, hot.id, '100.10', '2016-03-15T12:00:00Z', 'redemption');
    await post(acct.id, hot.id, '0.05', '2016-04-02T05:30:00Z', 'redemption'); // 2016-04-01 23:30 in Mexico City
    await post(hot.id, acct.id, '50.00', '2016-04-20T12:00:00Z', 'refund');
  });
  afterAll(() => t.close());

  const balance = async (id: string, asOf: string) =>
    (await t.http.get(`/v1/audit/accounts/${id}/balance`).query({ asOf }).set(auth).expect(200)).body.balance;

  it('answers balances as of a date the same before and after the daily totals are folded', async () => {
    const expected: Array<[string, string]> = [
      ['2016-02-29', '0.00'],
      ['2016-03-01', '1000.00'],
      ['2016-03-15T11:59:59Z', '1000.00'],
      ['2016-03-15T12:00:00Z', '899.90'],
      ['2016-04-01', '899.85'], // the 05:30Z posting is on 1 April in the service time zone
      ['2016-04-02T05:29:59.999Z', '899.90'],
      ['2016-06-30', '949.85'],
    ];
    for (const [asOf, want] of expected) expect([asOf, await balance(acct.id, asOf)]).toEqual([asOf, want]);
    // Other test files share this database: their sealer may hold the lock, or a transaction of
    // theirs may hold the horizon back, so seal until this account's days are folded (bounded).
    const foldedDays = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM audit_account_day_totals WHERE account_id = $1`, [acct.id]))[0].n as number;
    for (const deadline = Date.now() + 20000; (await foldedDays()) < 4 && Date.now() < deadline; ) {
      await t.app.get(SealsService).sealPending();
      if ((await foldedDays()) < 4) await new Promise((r) => setTimeout(r, 250));
    }
    expect(await foldedDays()).toBe(4);
    for (const [asOf, want] of expected) expect([asOf, await balance(acct.id, asOf)]).toEqual([asOf, want]);
    expect(await balance(hot.id, '2016-04-30')).toBe('50.15');
  });

  it('folds a late, back-dated posting into the right day', async () => {
    await t.app.get(SealsService).sealPending();
    const tr = await treasury(ledger);
    await post(tr.id, acct.id, '10.00', '2016-03-10T12:00:00Z', 'appropriation');
    expect(await balance(acct.id, '2016-03-31')).toBe('909.90'); // unfolded yet: read from the backlog
    await t.app.get(SealsService).sealPending();
    expect(await balance(acct.id, '2016-03-31')).toBe('909.90');
    expect(await balance(acct.id, '2016-03-09')).toBe('1000.00');
  });

  it('gives a trial balance in which debits equal credits', async () => {
    const res = await t.http.get('/v1/audit/trial-balance').query({ asOf: '2016-03-31' }).set(auth).expect(200);
    expect(res.body.balanced).toBe(true);
    expect(res.body.totals.debits).toBe(res.body.totals.credits);
    const mine = res.body.accounts.find((a: { accountId: string }) => a.accountId === acct.id);
    expect(mine).toMatchObject({ debits: '100.10', credits: '1010.00', balance: '909.90' });
    const csv = await t.http.get('/v1/audit/trial-balance').query({ asOf: '2016-03-31', category: 'test' }).set(auth).set('Accept', 'text/csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('code,name,category,normal_side,debits,credits,balance');
    expect(csv.text).toContain(`test:audit-stmt:`);
  });

  it('produces a statement with opening and closing balance, paged, in JSON and CSV', async () => {
    const res = await t.http.get(`/v1/accounts/${acct.id}/statement`).query({ from: '2016-03-12', to: '2016-04-30' }).set(auth).expect(200);
    expect(res.body).toMatchObject({ openingBalance: '1010.00', closingBalance: '959.85', totalDebits: '100.15', totalCredits: '50.00', nextCursor: null });
    expect(res.body.lines.map((l: { balance: string }) => l.balance)).toEqual(['909.90', '909.85', '959.85']);
    const p1 = await t.http.get(`/v1/accounts/${acct.id}/statement`).query({ from: '2016-03-12', to: '2016-04-30', limit: 2 }).set(auth).expect(200);
    expect(p1.body.lines).toHaveLength(2);
    const p2 = await t.http.get(`/v1/accounts/${acct.id}/statement`).query({ from: '2016-03-12', to: '2016-04-30', limit: 2, cursor: p1.body.nextCursor }).set(auth).expect(200);
    expect(p2.body.lines.map((l: { balance: string; credit: string }) => [l.credit, l.balance])).toEqual([['50.00', '959.85']]);
    expect(p2.body.nextCursor).toBeNull();
    const csv = await t.http.get(`/v1/accounts/${acct.id}/statement`).query({ from: '2016-03-12', to: '2016-04-30' }).set(auth).set('Accept', 'text/csv').expect(200);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('type,effective_at,entry_id,seq,kind,description,debit,credit,balance');
    expect(rows[1]).toMatch(/^opening,.*,1010\.00$/);
    expect(rows).toHaveLength(6);
    expect(rows[5]).toMatch(/^closing,.*,100\.15,50\.00,959\.85$/);
    await t.http.get(`/v1/accounts/${randomUUID()}/statement`).set(auth).expect(404);
    const bad = await t.http.get(`/v1/accounts/${acct.id}/statement`).query({ from: '31/12/2016' }).set(auth).expect(400);
    expect(bad.body.code).toBe('validation_failed');
  });

  it('lets only auditors and finance read them', async () => {
    const officer = await t.staff('program_officer');
    const res = await t.http.get('/v1/audit/trial-balance').set(officer.auth).expect(403);
    expect(res.body.code).toBe('forbidden');
  });
});
