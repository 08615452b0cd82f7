// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:seed-capital`;

import { randomUUID } from 'node:crypto';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SettlementService } from '../../src/merchants/settlement.service';
import { ProgramsService } from '../../src/programs/programs.service';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf, waitForCycle } from '../support/cycle-fixtures';
import { createInstrument, createMerchant, idem } from '../support/merchant-fixtures';
import { programFromFixture, seedFixture } from '../support/payout-fixtures';

/**
 * Cali capital semilla (seed 001 R001-04): seed capital in kind, a COP voucher of the fixture
 * 21-cali-capital-semilla.json loaded by a real voucher cycle, spent only at accredited suppliers
 * through the merchant redemption, and paid to the supplier by the daily settlement.
 */
describe('loans: Cali seed capital in kind (R001-04)', () => {
  let t: TestApp;
  let key = 0;

  beforeAll(async () => {
    // 10:00 in Bogotá (UTC−5) on 15 June 2022, inside the 2022 term.
    t = await createTestApp({ role: 'all', now: new Date('2022-06-15T15:00:00Z') });
  });
  afterAll(() => t.close());

  it('R001-04, R001-02: one load of the fixture amount; redeemed at an accredited supplier, refused elsewhere with nothing posted; the supplier settled exactly; refused after the term', async () => {
    const ledger = t.app.get(LedgerService);
    const rules = seedFixture('CALI-CAPITAL-SEMILLA').rules;
    const amount = (rules.benefit as { amount: string }).amount;
    expect(amount).toBe('1500000.00');
    const [operator, approver, admin] = [await t.staff('finance_operator'), await t.staff('finance_approver'), await t.staff('admin')];

    const program = await programFromFixture(t, 'CALI-CAPITAL-SEMILLA');
    expect(program).toMatchObject({ currency: 'COP', timeZone: 'America/Bogota', instrumentType: 'voucher' });
    await t.app.get(ProgramsService).appropriate(program.id, { amount: '3000000.00', reference: 'test capital', ledgerKey: `test-capital:${randomUUID()}` }, 'test');
    // Two entrepreneurs with a voucher each (a PIN, empty, in COP), in the padrón since the term opened.
    const fixtureProgram = { id: program.id, budgetAccountId: program.budgetAccountId, currency: program.currency };
    const [v1, v2] = [
      await createInstrument(t.db, ledger, fixtureProgram, { kind: 'voucher', balance: '0.00' }),
      await createInstrument(t.db, ledger, fixtureProgram, { kind: 'voucher', balance: '0.00' }),
    ];
    await t.db.query(`UPDATE beneficiaries SET application_date = '2022-01-10', incorporated_on = '2022-01-10' WHERE program_id = $1`, [program.id]);

    // The load: a voucher cycle of the program (schedule: one load), the fixture's amount to each voucher.
    const draft = (period: string) =>
      t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', `seed-${++key}-${Date.now()}`).send({ period, kind: 'deposit' });
    const cycle = await draft('2022-06').expect(201);
    expect(cycle.body).toMatchObject({ controlCount: 2, controlTotal: '3000000.00', loadNumber: 1 });
    await t.http.post(`/v1/cycles/${cycle.body.id}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, cycle.body.id, ['completed']);
    expect(await balanceOf(t.db, v1.accountId)).toBe(amount);
    expect(await balanceOf(t.db, v2.accountId)).toBe(amount);
    expect((await draft('2022-07').expect(422)).body.code).toBe('load_limit_reached');

    const supplier = await createMerchant(t, admin, { category: 'accredited_supplier', currency: 'COP', name: 'Insumos El Valle' });
    const grocery = await createMerchant(t, admin, { category: 'grocery', currency: 'COP', name: 'Tienda La 14' });
    expect((await t.http.get(`/v1/merchants/${supplier.id}`).set(admin.auth).expect(200)).body).toMatchObject({ category: 'accredited_supplier', currency: 'COP' });
    const redeem = (m: typeof supplier, v: typeof v1, value: string) =>
      t.http.post('/v1/redemptions').set(m.headers).set(idem()).send({ instrumentNumber: v.number, pin: v.pin, amount: value });
    const entriesOf = async (accountId: string) => (await t.db.query(`SELECT count(*)::int AS n FROM postings WHERE account_id = $1`, [accountId]))[0].n;

    // Refused at a merchant of another category: nothing posted, no redemption recorded.
    const before = await entriesOf(v2.accountId);
    const refused = await redeem(grocery, v2, '100000.00').expect(422);
    expect(refused.body).toMatchObject({ code: 'merchant_not_allowed', detail: 'The program does not allow the grocery category' });
    expect(await entriesOf(v2.accountId)).toBe(before);
    expect(await entriesOf(grocery.payableAccountId)).toBe(0);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM redemptions WHERE merchant_id = $1`, [grocery.id]))[0].n).toBe(0);

    // Captured at the accredited supplier.
    const captured = await redeem(supplier, v1, '1234567.89').expect(201);
    expect(captured.body).toMatchObject({ status: 'captured', amount: '1234567.89' });
    expect(await balanceOf(t.db, v1.accountId)).toBe('265432.11');
    expect(await balanceOf(t.db, v2.accountId)).toBe('1500000.00');

    // The daily settlement pays the supplier exactly what was redeemed, in COP.
    t.clock.set(new Date('2022-06-16T12:00:00Z'));
    const run = await t.app.get(SettlementService).settle('2022-06-15');
    // Colombian pesos are reported on their own, never added to pesos.
    expect(run.totals.COP).toBe('1234567.89');
    const settlements = await t.db.query(
      `SELECT currency, captures_count, captures_total::text AS captured, net_amount::text AS net, entry_id FROM settlements WHERE merchant_id = ANY ($1)`,
      [[supplier.id, grocery.id]],
    );
    expect(settlements).toEqual([{ currency: 'COP', captures_count: 1, captured: '1234567.89', net: '1234567.89', entry_id: expect.any(String) }]);
    await ledger.rollup(supplier.payableAccountId);
    expect(await balanceOf(t.db, supplier.payableAccountId)).toBe('0.00');
    const bank = await ledger.findAccountByCode('bank:settlement:COP');
    const moved = await t.db.query(
      `SELECT account_id, side, amount::text AS amount FROM postings WHERE entry_id = $1 ORDER BY side`,
      [settlements[0].entry_id],
    );
    expect(moved).toEqual([
      { account_id: bank!.id, side: 'credit', amount: '1234567.89' },
      { account_id: supplier.payableAccountId, side: 'debit', amount: '1234567.89' },
    ]);
    // Budget: 3,000,000.00 appropriated, all of it loaded.
    expect(await balanceOf(t.db, program.budgetAccountId)).toBe('0.00');

    // voucherExpiresOn 2022-12-31 (the end of the 2022 term): the next day in Bogotá the voucher is refused.
    t.clock.set(new Date('2023-01-01T05:00:01Z'));
    expect((await redeem(supplier, v2, '1.00').expect(422)).body.code).toBe('instrument_expired');
    expect(await balanceOf(t.db, v2.accountId)).toBe('1500000.00');
  });
});
