import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SettlementService } from '../../src/merchants/settlement.service';
import { createTestApp, TestApp } from '../support/app';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { createInstrument, createMerchant, createProgram, FixtureMerchant, FixtureProgram, idem } from '../support/merchant-fixtures';

describe('settlement and merchant lists', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let program: FixtureProgram;
  let shop: FixtureMerchant;
  let finance: Awaited<ReturnType<TestApp['staff']>>;
  const redemptionIds: string[] = [];

  const savedDatabaseUrl = process.env.DATABASE_URL;

  beforeAll(async () => {
    process.env.SETTLEMENT_DIR = mkdtempSync(join(tmpdir(), 'monedero-settlement-'));
    // Settlement nets every merchant's unsettled captures up to the cut-off: a database of its
    // own keeps other test files' redemptions out of these totals.
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('settlement'));
    // 12:00 on 15 March 2026 in Mexico City (UTC−6).
    t = await createTestApp({ now: new Date('2026-03-15T18:00:00.000Z') });
    ledger = t.app.get(LedgerService);
    const admin = await t.staff('admin');
    finance = await t.staff('finance_operator');
    program = await createProgram(t.db, ledger);
    shop = await createMerchant(t, admin, { name: 'Abarrotes "La Esperanza"', bankAccount: '012180001234567897' });
  });
  afterAll(async () => {
    await t.close();
    process.env.DATABASE_URL = savedDatabaseUrl;
  });

  const redeem = async (amount: string) => {
    const card = await createInstrument(t.db, ledger, program, { balance: '500.00' });
    const res = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount }).expect(201);
    redemptionIds.push(res.body.id);
    return { card, id: res.body.id as string };
  };

  it('nets the day of captures and refunds into a statement, moves it to the bank, writes the payout file', async () => {
    const a = await redeem('100.00');
    await redeem('50.00');
    const card = await createInstrument(t.db, ledger, program, { balance: '500.00' });
    const hold = await t.http.post('/v1/authorizations').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '45.00' }).expect(201);
    await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(idem()).send({ amount: '30.00' }).expect(200);
    await t.http.post(`/v1/redemptions/${a.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '20.00' }).expect(201);
    // An uncaptured authorization is not settled.
    await t.http.post('/v1/authorizations').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '5.00' }).expect(201);

    const open = await t.http.post('/v1/settlements/run').set(finance.auth).send({ businessDate: '2026-03-15' }).expect(422);
    expect(open.body.code).toBe('settlement_date_open');

    t.clock.set('2026-03-16T07:00:00.000Z'); // 01:00 on 16 March: after the cutoff
    await redeem('40.00'); // belongs to 16 March
    const run = await t.http.post('/v1/settlements/run').set(finance.auth).send({ businessDate: '2026-03-15' }).expect(200);
    expect(run.body).toMatchObject({ businessDate: '2026-03-15', cutoffAt: '2026-03-16T06:00:00.000Z', settlements: 1, totals: { MXN: '160.00' } });

    const mine = await t.http.get('/v1/merchant/settlements').set(shop.headers).expect(200);
    expect(mine.body.nextCursor).toBeNull();
    expect(mine.body.data).toHaveLength(1);
    const s = mine.body.data[0];
    expect(s).toMatchObject({
      businessDate: '2026-03-15',
      capturesCount: 3,
      capturesTotal: '180.00',
      refundsCount: 1,
      refundsTotal: '20.00',
      netAmount: '160.00',
    });
    expect(s.statementId).toMatch(/^ST-20260315-\d{6}$/);
    const entry = await ledger.findEntry(s.entryId);
    expect(entry.kind).toBe('settlement');
    const bank = await ledger.findAccountByCode('bank:settlement');
    expect(entry.postings).toEqual(
      expect.arrayContaining([
        { accountId: shop.payableAccountId, side: 'debit', amount: '160.00' },
        { accountId: bank!.id, side: 'credit', amount: '160.00' },
      ]),
    );
    // What is left on the payable is exactly the 16 March redemption.
    expect((await ledger.balance(shop.payableAccountId)).posted.toFixed(2)).toBe('40.00');

    const csv = await t.http.get('/v1/settlements/payout-files/2026-03-15').set(finance.auth).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text).toBe(
      'statement_id,merchant_id,merchant_name,bank_account,amount,currency,business_date\r\n' +
        `"${s.statementId}","${shop.id}","Abarrotes ""La Esperanza""","012180001234567897","160.00","MXN","2026-03-15"\r\n`,
    );
    const staffOnMerchantRoute = await t.http.get('/v1/merchant/settlements').set(finance.auth).expect(403);
    expect(staffOnMerchantRoute.body.code).toBe('forbidden');

    // A second run settles nothing twice.
    const again = await t.app.get(SettlementService).settle('2026-03-15');
    expect(again.totals).toEqual({ MXN: '160.00' });
    const entries = await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind = 'settlement' AND metadata->>'merchantId' = $1`, [shop.id]);
    expect(entries[0].n).toBe(1);
  });

  it('carries a day with more refunds than captures over to the next settlement', async () => {
    const settle = (date: string) => t.app.get(SettlementService).settle(date);
    t.clock.set('2026-03-17T08:00:00.000Z');
    const day16 = await settle('2026-03-16');
    expect(day16.totals).toEqual({ MXN: '40.00' });
    await t.http.post(`/v1/redemptions/${redemptionIds[2]}/refunds`).set(shop.headers).set(idem()).send({ amount: '10.00' }).expect(201);
    t.clock.set('2026-03-18T08:00:00.000Z');
    const day17 = await settle('2026-03-17');
    expect(day17.settlements).toBe(0);
    await redeem('25.00');
    t.clock.set('2026-03-19T08:00:00.000Z');
    const day18 = await settle('2026-03-18');
    expect(day18.totals).toEqual({ MXN: '15.00' });
    const rows = await t.db.query(
      `SELECT business_date::text AS d, captures_total::text AS c, refunds_total::text AS r, net_amount::text AS n
         FROM settlements WHERE merchant_id = $1 ORDER BY business_date`,
      [shop.id],
    );
    expect(rows).toEqual([
      { d: '2026-03-15', c: '180.00', r: '20.00', n: '160.00' },
      { d: '2026-03-16', c: '40.00', r: '0.00', n: '40.00' },
      { d: '2026-03-18', c: '25.00', r: '10.00', n: '15.00' },
    ]);
    await ledger.rollup(shop.payableAccountId);
    expect((await ledger.balance(shop.payableAccountId)).posted.toFixed(2)).toBe('0.00');
  });

  it('lists the merchant transactions by business date with a cursor', async () => {
    const all = await t.http.get('/v1/merchant/transactions?from=2026-03-15&to=2026-03-15').set(shop.headers).expect(200);
    expect(all.body.data.map((x: { type: string }) => x.type).sort()).toEqual(['authorization', 'authorization', 'redemption', 'redemption', 'refund']);
    expect(all.body.data.every((x: { instrumentNumber: string }) => /^\*{12}\d{4}$/.test(x.instrumentNumber))).toBe(true);
    const page1 = await t.http.get('/v1/merchant/transactions?from=2026-03-15&to=2026-03-15&limit=2').set(shop.headers).expect(200);
    expect(page1.body.data).toHaveLength(2);
    const page2 = await t.http.get(`/v1/merchant/transactions?from=2026-03-15&to=2026-03-15&limit=2&cursor=${page1.body.nextCursor}`).set(shop.headers).expect(200);
    const page3 = await t.http.get(`/v1/merchant/transactions?from=2026-03-15&to=2026-03-15&limit=2&cursor=${page2.body.nextCursor}`).set(shop.headers).expect(200);
    expect(page3.body.nextCursor).toBeNull();
    expect([...page1.body.data, ...page2.body.data, ...page3.body.data].map((x: { id: string }) => x.id)).toEqual(all.body.data.map((x: { id: string }) => x.id));
    const bad = await t.http.get('/v1/merchant/transactions?limit=501').set(shop.headers).expect(400);
    expect(bad.body.code).toBe('validation_failed');
    const later = await t.http.get('/v1/merchant/transactions?from=2026-03-16').set(shop.headers).expect(200);
    expect(later.body.data.map((x: { amount: string }) => x.amount).sort()).toEqual(['10.00', '25.00', '40.00']);
  });
});

describe('settlement list validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('refuses malformed filters with 400, never 500', async () => {
    const auditor = await t.staff('auditor');
    for (const q of ['businessDate=2016-02-30', 'businessDate=garbage', 'merchantId=nope', 'limit=0']) {
      const res = await t.http.get(`/v1/settlements?${q}`).set(auditor.auth).expect(400);
      expect(res.body.code).toBe('validation_failed');
    }
    await t.http.get('/v1/settlements?businessDate=2016-03-01').set(auditor.auth).expect(200);
    await t.http.get('/v1/settlements/payout-files/1999-01-01').set(auditor.auth).expect(404);
    await t.http.get('/v1/settlements/payout-files/..%2F..%2Fetc').set(auditor.auth).expect(400);
  });
});
