// Own BullMQ prefix (under the run's prefix, so global setup clears it).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:late-refunds`;

import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { balanceOf, RULES } from '../support/cycle-fixtures';
import { sealAndCheckIntegrity, siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { createInstrument, createMerchant, createProgram, FixtureInstrument, FixtureMerchant, idem } from '../support/merchant-fixtures';

// Vouchers of Uniformes (voucherExpiresOn 2016-12-31, America/Mexico_City) are usable strictly
// before the end of that day; unspent balances go to reintegro (the default).
const EXPIRY = new Date('2017-01-01T06:00:00Z');
const BEFORE_EXPIRY = new Date('2016-12-31T12:00:00Z');
const AFTER_EXPIRY = new Date('2017-01-02T18:00:00Z');

type Staff = Awaited<ReturnType<TestApp['staff']>>;

/**
 * Refunds to an instrument that can no longer spend (docs/treasury.md "Late refunds"): forwarded
 * to the replacement card, or to the reintegro payable as a pending reintegro with the cause of
 * the original return, in the refund's own transaction.
 */
describe('merchants: late refunds', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let sweeps: SweepsService;
  let officer: Staff;
  let operator: Staff;
  let auditor: Staff;
  let shop: FixtureMerchant;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    // The integrity check reads the whole ledger: a database of its own keeps other files out.
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('laterefunds'));
    // Sweep chunks of 4 vouchers, 3 id ranges at once: the race test below crosses chunks and ranges.
    t = await createTestApp({ now: BEFORE_EXPIRY, config: { SWEEP_CHUNK_SIZE: 4, SWEEP_CONCURRENCY: 3 } });
    ledger = t.app.get(LedgerService);
    sweeps = t.app.get(SweepsService);
    officer = await t.staff('program_officer');
    operator = await t.staff('finance_operator');
    auditor = await t.staff('auditor');
    shop = await createMerchant(t, await t.staff('admin'), { category: 'clothing' });
  });
  afterAll(async () => {
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  /** One minute later: reintegros list in created_at order, so each step gets its own instant. */
  const tick = () => t.clock.set(new Date(t.clock.now().getTime() + 60_000));
  const redeem = async (i: FixtureInstrument, amount: string): Promise<string> =>
    (await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: i.number, pin: i.pin, amount }).expect(201)).body.id;

  /** A refund; its body is the one of API.md, whatever happens to the money afterwards. */
  const refund = async (redemptionId: string, amount: string, refundedTotal: string, refundable: string) => {
    const res = await t.http.post(`/v1/redemptions/${redemptionId}/refunds`).set(shop.headers).set(idem()).send({ amount }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      redemptionId,
      status: 'refunded',
      amount,
      refundedTotal,
      refundable,
      reference: null,
      createdAt: t.clock.now().toISOString(),
    });
    return res.body.id as string;
  };

  const reintegroAccountOf = async (programId: string) => (await ledger.findAccountByCode(`program:${programId}:reintegro`))!.id;
  const reintegrosOf = async (programId: string) =>
    (await t.http.get(`/v1/reintegros?programId=${programId}`).set(operator.auth).expect(200)).body.data as Array<Record<string, any>>;
  const beneficiaryOf = async (instrumentId: string): Promise<string> =>
    (await t.db.query(`SELECT beneficiary_id AS id FROM instruments WHERE id = $1`, [instrumentId]))[0].id;
  /** The postings of the entry with this ledger key, as `side:account:amount`, sorted. */
  const postingsOf = async (key: string) =>
    (
      await t.db.query(
        `SELECT e.kind, p.side || ':' || p.account_id || ':' || p.amount::text AS line FROM journal_entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.idempotency_key = $1 ORDER BY line`,
        [key],
      )
    ).map((r: { kind: string; line: string }) => `${r.kind} ${r.line}`);

  /** Baja of the instrument's beneficiary, effective today (padrón API); returns the amount reintegrated. */
  const baja = async (instrumentId: string, cause: string): Promise<string> => {
    const effectiveDate = t.clock.now().toISOString().slice(0, 10);
    const res = await t.http.post(`/v1/beneficiaries/${await beneficiaryOf(instrumentId)}/deactivate`).set(officer.auth).send({ cause, effectiveDate }).expect(200);
    return res.body.reintegro.amount;
  };

  /** Both equations of the program's reconciliation hold to the centavo, nothing unexplained. */
  const reconciliation = async (programId: string) => {
    const res = await t.http.get(`/v1/audit/programs/${programId}/reconciliation`).set(auditor.auth).expect(200);
    expect(res.body.equations.map((e: { ok: boolean; difference: string }) => [e.ok, e.difference])).toEqual([
      [true, '0.00'],
      [true, '0.00'],
    ]);
    expect(res.body).toMatchObject({ ok: true, differences: [], accountMismatches: [] });
    return res.body;
  };

  /** A voucher of a Uniformes program, a purchase with it before expiry, and the clock after expiry. */
  const voucherRedeemed = async (balance: string, amount: string) => {
    const program = await createProgram(t.db, ledger, { rules: RULES.uniformes, instrumentType: 'voucher', budget: '1000.00' });
    const voucher = await createInstrument(t.db, ledger, program, { kind: 'voucher', balance, expiresAt: EXPIRY });
    t.clock.set(BEFORE_EXPIRY);
    const redemption = await redeem(voucher, amount);
    t.clock.set(AFTER_EXPIRY);
    return { program, voucher, redemption, reintegroAccount: await reintegroAccountOf(program.id) };
  };

  it('a refund to a voucher already swept becomes a pending voucher_expiry reintegro; the voucher stays at zero', async () => {
    const { program, voucher, redemption, reintegroAccount } = await voucherRedeemed('150.00', '120.35');
    expect(await sweeps.voucherExpiry({ programId: program.id })).toMatchObject({ vouchers: 1, total: '29.65', entries: 1 });
    expect(await balanceOf(t.db, voucher.accountId)).toBe('0.00');

    tick();
    const refundId = await refund(redemption, '20.10', '20.10', '100.25');
    expect(await balanceOf(t.db, voucher.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, reintegroAccount)).toBe('49.75');
    expect((await ledger.balance(shop.payableAccountId)).posted.toFixed(2)).toBe('100.25');

    // The refund is the usual merchant → voucher entry; a second entry moves it on to the reintegro payable.
    expect(await postingsOf(`refund:${refundId}`)).toEqual(
      [`refund credit:${voucher.accountId}:20.10`, `refund debit:${shop.payableAccountId}:20.10`].sort(),
    );
    expect(await postingsOf(`late-refund:${refundId}`)).toEqual(
      [`late_refund_reintegro credit:${reintegroAccount}:20.10`, `late_refund_reintegro debit:${voucher.accountId}:20.10`].sort(),
    );

    const list = await reintegrosOf(program.id);
    expect(list.map((r) => [r.cause, r.amount, r.source, r.status])).toEqual([
      ['voucher_expiry', '29.65', 'voucher', 'pending'],
      ['voucher_expiry', '20.10', 'voucher', 'pending'],
    ]);
    const late = list[1];
    expect(late).toMatchObject({
      bajaCause: null,
      sourceAccountIds: [voucher.accountId],
      instrumentIds: [voucher.id],
      beneficiaryId: await beneficiaryOf(voucher.id),
      details: { lateRefund: true, refundId, redemptionId: redemption, merchantId: shop.id },
    });
    const entry = await ledger.findEntry(late.journalEntryId);
    expect(entry).toMatchObject({ kind: 'late_refund_reintegro', metadata: expect.objectContaining({ cause: 'voucher_expiry', refundId }) });

    // The sweep does not take the voucher again: the late refund was the only way out.
    expect(await sweeps.voucherExpiry({ programId: program.id })).toMatchObject({ vouchers: 0, total: '0.00', entries: 0 });
    expect(await balanceOf(t.db, reintegroAccount)).toBe('49.75');

    // The next remittance takes it: one line for the swept voucher, one for the late refund.
    const draft = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: program.id }).expect(201);
    expect(draft.body).toMatchObject({ itemCount: 2, total: '49.75' });
    const csv = (await t.http.get(`/v1/remittances/${draft.body.id}/document.csv`).set(operator.auth).expect(200)).text.trim().split('\r\n');
    const lines = csv.slice(1).map((l) => l.split(','));
    expect(lines.map((l) => [l[4], l[7], l[8], l[10], l[11]]).sort()).toEqual(
      [
        ['voucher_expiry', 'voucher', voucher.id, voucher.last4, '29.65'],
        ['voucher_expiry', 'voucher', `refund:${refundId}`, voucher.last4, '20.10'],
      ].sort(),
    );

    expect(await reconciliation(program.id)).toMatchObject({
      disbursed: '150.00',
      redeemed: '100.25',
      reintegrated: '49.75',
      instrumentBalances: '0.00',
      reintegroPending: '49.75',
    });
    const indicators = await t.http.get(`/v1/audit/programs/${program.id}/indicators`).set(auditor.auth).expect(200);
    expect(indicators.body.reintegrosByCause).toEqual([{ cause: 'voucher_expiry', source: 'reintegros', count: 2, amount: '49.75' }]);
    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
    expect(integrity.checkedEntries).toBeGreaterThan(0);
  });

  it('a refund to a voucher expired but not swept yet stays on it, and the sweep takes it', async () => {
    const { program, voucher, redemption, reintegroAccount } = await voucherRedeemed('80.00', '50.00');
    await refund(redemption, '12.34', '12.34', '37.66');
    expect(await balanceOf(t.db, voucher.accountId)).toBe('42.34');
    expect(await balanceOf(t.db, reintegroAccount)).toBe('0.00');
    expect(await reintegrosOf(program.id)).toEqual([]);

    tick();
    expect(await sweeps.voucherExpiry({ programId: program.id })).toMatchObject({ vouchers: 1, total: '42.34', entries: 1 });
    expect(await balanceOf(t.db, voucher.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, reintegroAccount)).toBe('42.34');
    const list = await reintegrosOf(program.id);
    expect(list.map((r) => [r.cause, r.amount, r.source, r.details.lateRefund ?? false])).toEqual([['voucher_expiry', '42.34', 'voucher', false]]);
    expect(await reconciliation(program.id)).toMatchObject({ disbursed: '80.00', redeemed: '37.66', reintegrated: '42.34', instrumentBalances: '0.00' });
  });

  it('refunds racing a parallel voucher sweep: each lands before its chunk reads the voucher or after it, as a late reintegro; nothing stranded', async () => {
    // 24 vouchers over the whole id space (3 ranges swept at once, chunks of 4), half spent to zero.
    const program = await createProgram(t.db, ledger, { rules: RULES.uniformes, instrumentType: 'voucher', budget: '10000.00' });
    t.clock.set(BEFORE_EXPIRY);
    const items: Array<{ voucher: FixtureInstrument; redemption: string }> = [];
    for (let k = 0; k < 24; k++) {
      const voucher = await createInstrument(t.db, ledger, program, { kind: 'voucher', balance: '100.00', expiresAt: EXPIRY });
      items.push({ voucher, redemption: await redeem(voucher, k % 2 ? '100.00' : '60.00') });
    }
    t.clock.set(AFTER_EXPIRY);
    const reintegroAccount = await reintegroAccountOf(program.id);

    const refunds = items.map(({ redemption }) =>
      t.http.post(`/v1/redemptions/${redemption}/refunds`).set(shop.headers).set(idem()).send({ amount: '15.00' }).expect(201),
    );
    const [sweep] = await Promise.all([sweeps.voucherExpiry({ programId: program.id }), ...refunds]);
    expect(sweep.entries).toBeGreaterThanOrEqual(3);
    // A refund that came after its voucher's chunk stays on the reintegro payable; one before it was swept with it.
    const late = (await reintegrosOf(program.id)).filter((r) => r.details.lateRefund);
    expect(money(sweep.total).plus(money('15.00').times(late.length)).toFixed(2)).toBe('840.00');
    expect(await sweeps.voucherExpiry({ programId: program.id })).toMatchObject({ vouchers: 0, entries: 0 });

    const [left] = await t.db.query(
      `SELECT count(*)::int AS n FROM instruments i JOIN ledger_accounts a ON a.id = i.account_id WHERE i.program_id = $1 AND a.posted_credits <> a.posted_debits`,
      [program.id],
    );
    expect(left.n).toBe(0);
    expect(await balanceOf(t.db, reintegroAccount)).toBe('840.00');
    expect(await reconciliation(program.id)).toMatchObject({ disbursed: '2400.00', redeemed: '1560.00', reintegrated: '840.00', instrumentBalances: '0.00' });
  });

  it('a refund to a replaced card lands on the newest card of the chain; a card blocked by hand keeps it', async () => {
    const program = await createProgram(t.db, ledger, { budget: '1000.00' });
    const card = await createInstrument(t.db, ledger, program, { balance: '500.00' });
    t.clock.set(AFTER_EXPIRY);
    const redemption = await redeem(card, '200.00');

    const second = (await t.http.post(`/v1/instruments/${card.id}/replace`).set(officer.auth).expect(201)).body;
    expect(second).toMatchObject({ replacesId: card.id, balanceMoved: '300.00' });
    const refund1 = await refund(redemption, '50.00', '50.00', '150.00');
    expect(await balanceOf(t.db, card.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, second.accountId)).toBe('350.00');
    expect(await postingsOf(`refund:${refund1}`)).toEqual([`refund credit:${second.accountId}:50.00`, `refund debit:${shop.payableAccountId}:50.00`].sort());

    // Lost again (the replacement was never delivered): two hops.
    const third = (await t.http.post(`/v1/instruments/${second.id}/replace`).set(officer.auth).expect(201)).body;
    expect(third).toMatchObject({ replacesId: second.id, balanceMoved: '350.00' });
    await refund(redemption, '25.00', '75.00', '125.00');
    expect(await balanceOf(t.db, card.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, second.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, third.accountId)).toBe('375.00');

    // Blocked by an officer (not by a baja): the card can be unblocked, so it keeps the refund.
    await t.http.post(`/v1/instruments/${third.id}/block`).set(officer.auth).expect(200);
    await refund(redemption, '0.99', '75.99', '124.01');
    expect(await balanceOf(t.db, third.accountId)).toBe('375.99');

    expect(await reintegrosOf(program.id)).toEqual([]);
    expect(await reconciliation(program.id)).toMatchObject({ disbursed: '500.00', redeemed: '124.01', reintegrated: '0.00', instrumentBalances: '375.99' });
  });

  it('a refund to a card cancelled or blocked by a baja becomes a pending reintegro with the cause of that baja', async () => {
    const program = await createProgram(t.db, ledger, { budget: '2000.00' });
    const reintegroAccount = await reintegroAccountOf(program.id);
    t.clock.set(AFTER_EXPIRY);

    // Uncollected replacement (P22): the baja cancels it and reintegrates its balance.
    const lost = await createInstrument(t.db, ledger, program, { balance: '400.00' });
    const lostRedemption = await redeem(lost, '100.00');
    const replacement = (await t.http.post(`/v1/instruments/${lost.id}/replace`).set(officer.auth).expect(201)).body;
    expect(await baja(lost.id, 'card_not_collected')).toBe('300.00');
    const [status] = await t.db.query(`SELECT status FROM instruments WHERE id = $1`, [replacement.id]);
    expect(status.status).toBe('cancelled');
    tick();
    const refund1 = await refund(lostRedemption, '40.00', '40.00', '60.00');
    expect(await balanceOf(t.db, lost.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, replacement.accountId)).toBe('0.00');

    // Death: the card is blocked by the baja and its balance reintegrated.
    tick();
    const dead = await createInstrument(t.db, ledger, program, { balance: '600.00' });
    const deadRedemption = await redeem(dead, '250.50');
    expect(await baja(dead.id, 'death')).toBe('349.50');
    tick();
    const refund2 = await refund(deadRedemption, '250.50', '250.50', '0.00');
    expect(await balanceOf(t.db, dead.accountId)).toBe('0.00');

    expect(await balanceOf(t.db, reintegroAccount)).toBe('940.00');
    const list = await reintegrosOf(program.id);
    expect(list.map((r) => [r.cause, r.bajaCause, r.amount, r.source, r.status, r.details.lateRefund ?? false])).toEqual([
      ['card_not_collected', 'card_not_collected', '300.00', 'instrument', 'pending', false],
      ['card_not_collected', 'card_not_collected', '40.00', 'instrument', 'pending', true],
      ['baja', 'death', '349.50', 'instrument', 'pending', false],
      ['baja', 'death', '250.50', 'instrument', 'pending', true],
    ]);
    expect(list[1]).toMatchObject({
      sourceAccountIds: [replacement.accountId],
      instrumentIds: [replacement.id],
      details: { refundId: refund1, redemptionId: lostRedemption, redemptionInstrumentId: lost.id },
    });
    expect(list[3]).toMatchObject({ sourceAccountIds: [dead.accountId], instrumentIds: [dead.id], details: { refundId: refund2, redemptionId: deadRedemption } });
    expect(list[3].details.redemptionInstrumentId).toBeUndefined();
    expect((await ledger.findEntry(list[3].journalEntryId)).metadata).toMatchObject({ cause: 'death', instrumentId: dead.id });

    expect(await reconciliation(program.id)).toMatchObject({
      disbursed: '1000.00',
      redeemed: '60.00',
      reintegrated: '940.00',
      instrumentBalances: '0.00',
      reintegroPending: '940.00',
    });
    const sum = list.reduce((s, r) => s.plus(money(r.amount)), money('0'));
    expect(sum.toFixed(2)).toBe('940.00');
    const integrity = await sealAndCheckIntegrity(t.app);
    expect(integrity).toMatchObject({ ok: true, problems: [] });
  });
});
