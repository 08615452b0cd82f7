process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:treasury-vouchers`;

import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf } from '../support/cycle-fixtures';
import { createInstrument, createMerchant, createProgram, idem } from '../support/merchant-fixtures';

const UNIFORMES = {
  benefit: { type: 'fixed', amount: '150.00' },
  schedule: { frequency: 'loads', count: 2 },
  voucherExpiresOn: '2016-12-31',
  voucherUnspentAtExpiry: 'reintegro',
  allowedMerchantCategories: ['clothing'],
};
/** End of 31 December 2016 in America/Mexico_City (UTC−6): vouchers are usable strictly before. */
const EXPIRY = new Date('2017-01-01T06:00:00Z');

describe('treasury: voucher expiry sweep and remittances', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let sweeps: SweepsService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let program: { id: string; budgetAccountId: string };
  let reintegroAccountId: string;
  let vouchers: Awaited<ReturnType<typeof createInstrument>>[];

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-12-31T12:00:00Z') });
    ledger = t.app.get(LedgerService);
    sweeps = t.app.get(SweepsService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    program = await createProgram(t.db, ledger, { rules: UNIFORMES, instrumentType: 'voucher', budget: '10000.00' });
    // The merchants fixture makes 2026 programs; this one is of fiscal year 2016.
    await t.db.query(`UPDATE programs SET fiscal_year = 2016 WHERE id = $1`, [program.id]);
    reintegroAccountId = (await ledger.findAccountByCode(`program:${program.id}:reintegro`))!.id;
    vouchers = [];
    for (const balance of ['150.00', '300.00', '0.00', '75.35']) {
      vouchers.push(await createInstrument(t.db, ledger, program, { kind: 'voucher', balance, expiresAt: EXPIRY }));
    }
  });
  afterAll(() => t.close());

  it('a voucher redeemed one second before expiry succeeds, one second after is refused; the sweep takes exactly what was left, once', async () => {
    const admin = await t.staff('admin');
    const shop = await createMerchant(t, admin, { category: 'clothing' });
    const [a, b, , d] = vouchers;
    const redeem = (v: typeof a, amount: string) =>
      t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: v.number, pin: v.pin, amount });

    t.clock.set(new Date(EXPIRY.getTime() - 2000));
    const hold = await t.http.post('/v1/authorizations').set(shop.headers).set(idem()).send({ instrumentNumber: b.number, pin: b.pin, amount: '99.99' }).expect(201);
    expect(new Date(hold.body.expiresAt).getTime()).toBeLessThanOrEqual(EXPIRY.getTime());
    t.clock.set(new Date(EXPIRY.getTime() - 1000));
    await redeem(a, '40.10').expect(201);
    t.clock.set(new Date(EXPIRY.getTime() + 1000));
    const late = await redeem(a, '1.00').expect(422);
    expect(late.body.code).toBe('instrument_expired');

    // Not before the end of the expiry date: a sweep as at 30 December finds nothing expired.
    t.clock.set('2017-01-01T07:00:00Z');
    const early = await sweeps.voucherExpiry({ programId: program.id, date: '2016-12-30' });
    expect(early).toMatchObject({ vouchers: 0, total: '0.00', entries: 0 });

    const first = await sweeps.voucherExpiry({ programId: program.id });
    // 109.90 + 300.00 (the hold is released: it expired with the voucher) + 75.35; the empty voucher adds nothing.
    expect(first).toMatchObject({ vouchers: 3, total: '485.25', entries: 1 });
    for (const v of vouchers) expect(await balanceOf(t.db, v.accountId)).toBe('0.00');
    const [h] = await t.db.query(`SELECT status FROM ledger_holds WHERE account_id = $1`, [b.accountId]);
    expect(h.status).toBe('expired');
    const [acc] = await t.db.query(`SELECT pending_debits::text AS p FROM ledger_accounts WHERE id = $1`, [b.accountId]);
    expect(acc.p).toBe('0.00');
    expect(await balanceOf(t.db, reintegroAccountId)).toBe('485.25');

    // One journal entry: one debit per voucher with money left, one credit to the reintegro payable.
    const [r] = (await t.http.get(`/v1/reintegros?programId=${program.id}&status=pending`).set(operator.auth).expect(200)).body.data;
    expect(r).toMatchObject({ cause: 'voucher_expiry', amount: '485.25', source: 'voucher', status: 'pending', details: { vouchers: 3, expiresOn: '2016-12-31' } });
    const entry = await ledger.findEntry(r.journalEntryId);
    expect(entry.kind).toBe('voucher_expiry');
    expect(entry.postings.map((p: { accountId: string; side: string; amount: string }) => `${p.side}:${p.amount}`).sort()).toEqual(
      ['debit:109.90', 'debit:300.00', 'debit:75.35', 'credit:485.25'].sort(),
    );
    const swept = await t.db.query(`SELECT instrument_id, amount::text FROM treasury_voucher_sweeps s WHERE program_id = $1 ORDER BY s.amount`, [program.id]);
    expect(swept.map((s: { amount: string }) => s.amount)).toEqual(['0.00', '75.35', '109.90', '300.00']);
    expect(d.accountId).toBeDefined();

    // Run twice: the second run posts nothing.
    const entriesBefore = (await t.db.query(`SELECT count(*)::int AS n FROM journal_entries`))[0].n;
    const second = await sweeps.voucherExpiry({ programId: program.id });
    expect(second).toMatchObject({ vouchers: 0, total: '0.00', entries: 0 });
    const entriesAfter = (await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind = 'voucher_expiry' AND metadata->>'programId' = $1`, [program.id]))[0].n;
    expect(entriesAfter).toBe(1);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM journal_entries`))[0].n).toBeGreaterThanOrEqual(entriesBefore);
    expect(await balanceOf(t.db, reintegroAccountId)).toBe('485.25');
  });

  it('fiscal-year close: the available budget at 31 December moves to reintegro, once', async () => {
    const before = await balanceOf(t.db, program.budgetAccountId);
    expect(before).toBe('9474.65');
    const closed = await sweeps.fiscalClose({ programId: program.id });
    expect(closed.programs).toEqual([expect.objectContaining({ programId: program.id, amount: '9474.65' })]);
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('0.00');
    expect((await sweeps.fiscalClose({ programId: program.id })).programs).toEqual([]);
    expect(await balanceOf(t.db, reintegroAccountId)).toBe('9959.90');
  });

  it('remittances: prepared by an operator, approved by another user, moved to the treasury, with a CSV document; nothing remitted twice', async () => {
    const noKey = await t.http.post(`/v1/remittances/${randomUUID()}/approve`).set(approver.auth).expect(400);
    expect(noKey.body.code).toBe('idempotency_key_required');
    await t.http.post('/v1/remittances').set(approver.auth).send({ programId: program.id }).expect(403);
    const key = `rm-${randomUUID()}`;
    const draft = await t.http.post('/v1/remittances').set(operator.auth).set('Idempotency-Key', key).send({ programId: program.id }).expect(201);
    expect(draft.body).toMatchObject({ programId: program.id, status: 'draft', itemCount: 2, total: '9959.90', preparedBy: `user:${operator.username}` });
    expect(draft.body.number).toMatch(/^RM-\d{8}$/);
    const replay = await t.http.post('/v1/remittances').set(operator.auth).set('Idempotency-Key', key).send({ programId: program.id }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(draft.body.id);
    const empty = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: program.id }).expect(422);
    expect(empty.body.code).toBe('no_pending_reintegros');
    const inBatch = await t.http.get(`/v1/reintegros?programId=${program.id}&status=in_remittance`).set(operator.auth).expect(200);
    expect(inBatch.body.data).toHaveLength(2);

    // The database refuses a reintegro in a second live remittance.
    await expect(
      t.db.query(`INSERT INTO remittance_items (remittance_id, reintegro_id, amount) SELECT $1, id, amount FROM reintegros WHERE remittance_id = $2 LIMIT 1`, [
        (
          await t.db.query(
            `INSERT INTO remittances (number, program_id, currency, item_count, total, prepared_by, created_at) VALUES ($1, $2, 'MXN', 1, 1, 'test', now()) RETURNING id`,
            [`RM-T-${randomUUID()}`, program.id],
          )
        )[0].id,
        draft.body.id,
      ]),
    ).rejects.toMatchObject({ driverError: expect.objectContaining({ constraint: 'remittance_items_once' }) });

    // An operator cannot approve at all (role).
    const byOperator = await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(operator.auth).set(idem()).expect(403);
    expect(byOperator.body.code).toBe('forbidden');

    const treasury = (await ledger.findAccountByCode('treasury:MXN'))!;
    const approveKey = idem();
    const approved = await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(approver.auth).set(approveKey).expect(200);
    expect(approved.body).toMatchObject({ status: 'approved', approvedBy: `user:${approver.username}` });
    const again = await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(approver.auth).set(approveKey).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const twice = await t.http.post(`/v1/remittances/${draft.body.id}/approve`).set(approver.auth).set(idem()).expect(409);
    expect(twice.body.code).toBe('invalid_remittance_state');

    const entry = await ledger.findEntry(approved.body.journalEntryId);
    expect(entry.kind).toBe('remittance');
    expect(entry.postings).toEqual(
      expect.arrayContaining([
        { accountId: reintegroAccountId, side: 'debit', amount: '9959.90' },
        { accountId: treasury.id, side: 'credit', amount: '9959.90' },
      ]),
    );
    expect(await balanceOf(t.db, reintegroAccountId)).toBe('0.00');
    // Not the treasury's balance before and after: other test files appropriate from treasury:MXN meanwhile.
    const [toTreasury] = await t.db.query(
      `SELECT sum(p.amount)::text AS total FROM postings p JOIN journal_entries e ON e.id = p.entry_id
        WHERE p.account_id = $1 AND p.side = 'credit' AND e.kind = 'remittance' AND e.metadata->>'programId' = $2`,
      [treasury.id, program.id],
    );
    expect(toTreasury.total).toBe('9959.90');
    const remitted = await t.http.get(`/v1/reintegros?programId=${program.id}&status=remitted`).set(operator.auth).expect(200);
    expect(remitted.body.data.every((r: { remittanceId: string }) => r.remittanceId === draft.body.id)).toBe(true);
    expect(remitted.body.data).toHaveLength(2);

    // The document lists every item: each voucher swept with money left, and the fiscal close.
    const csv = await t.http.get(`/v1/remittances/${draft.body.id}/document.csv`).set(approver.auth).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('remittance,status,program,reintegro_id,cause,baja_cause,created_at,source,source_ref,beneficiary_folio,instrument_last4,amount,journal_entry_id');
    expect(lines).toHaveLength(1 + 3 + 1);
    const amounts = lines.slice(1).map((l) => l.split(',')[11]);
    expect(amounts.reduce((s, a) => s.plus(money(a)), money('0')).toFixed(2)).toBe('9959.90');
    expect(lines.filter((l) => l.includes(',voucher_expiry,'))).toHaveLength(3);
    expect(lines.filter((l) => l.includes(',fiscal_year_close,'))).toHaveLength(1);

    const list = await t.http.get(`/v1/remittances?programId=${program.id}&limit=1`).set(approver.auth).expect(200);
    // Two remittances of this program: the approved one and the one inserted by hand above.
    expect(list.body.data).toHaveLength(1);
    const page2 = await t.http.get(`/v1/remittances?programId=${program.id}&limit=1&cursor=${list.body.nextCursor}`).set(approver.auth).expect(200);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.data[0].id).not.toBe(list.body.data[0].id);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('a cancelled draft returns its reintegros to pending and they can be remitted once more', async () => {
    const p = await createProgram(t.db, ledger, { rules: UNIFORMES, instrumentType: 'voucher', budget: '500.00' });
    await createInstrument(t.db, ledger, p, { kind: 'voucher', balance: '150.00', expiresAt: EXPIRY });
    expect((await sweeps.voucherExpiry({ programId: p.id })).total).toBe('150.00');
    const d1 = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: p.id }).expect(201);
    await t.http.post(`/v1/remittances/${d1.body.id}/cancel`).set(operator.auth).expect(200);
    // Maker-checker: an admin may prepare and approve, but never the same remittance.
    const admin = await t.staff('admin');
    const d2 = await t.http.post('/v1/remittances').set(admin.auth).send({ programId: p.id }).expect(201);
    expect(d2.body).toMatchObject({ itemCount: 1, total: '150.00' });
    const self = await t.http.post(`/v1/remittances/${d2.body.id}/approve`).set(admin.auth).set(idem()).expect(403);
    expect(self.body.code).toBe('same_user_cannot_approve');
    await t.http.post(`/v1/remittances/${d2.body.id}/approve`).set(approver.auth).set(idem()).expect(200);
    const [r] = (await t.http.get(`/v1/reintegros?programId=${p.id}`).set(operator.auth).expect(200)).body.data;
    expect(r).toMatchObject({ status: 'remitted', remittanceId: d2.body.id });
    const items = await t.db.query(`SELECT remittance_id, live FROM remittance_items WHERE reintegro_id = $1 ORDER BY live`, [r.id]);
    expect(items).toEqual([
      { remittance_id: d1.body.id, live: false },
      { remittance_id: d2.body.id, live: true },
    ]);
  });
});
