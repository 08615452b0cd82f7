import { randomUUID } from 'node:crypto';
import { instrumentNumberHash, pinHash } from '../../src/common/auth/secrets';
import { APP_CONFIG, AppConfig } from '../../src/config/config';
import { LedgerService } from '../../src/ledger/ledger.service';
import { RedeemItem, RedeemOutcome, RedemptionBatcher } from '../../src/merchants/redemption-batcher';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram, FixtureInstrument, FixtureMerchant, FixtureProgram } from '../support/merchant-fixtures';

/**
 * Group commit (migration 1763700700000, src/merchants/redemption-batcher.ts): many purchases in
 * one merchant_redeem_batch transaction, each with its own outcome, exactly as if alone.
 */
describe('merchant redemptions: group commit', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let secret: string;
  let program: FixtureProgram;
  let shop: FixtureMerchant;
  let batcher: RedemptionBatcher;

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await t.staff('admin');
    ledger = t.app.get(LedgerService);
    secret = t.app.get<AppConfig>(APP_CONFIG).INSTRUMENT_NUMBER_SECRET;
    batcher = t.app.get(RedemptionBatcher);
    program = await createProgram(t.db, ledger, { budget: '1000000.00' });
    shop = await createMerchant(t, admin);
  });
  afterAll(() => t.close());

  const available = async (accountId: string) => (await ledger.balance(accountId)).available.toFixed(2);

  function item(card: Pick<FixtureInstrument, 'number' | 'pin'>, amount: string, extra: Partial<RedeemItem> = {}): RedeemItem {
    const numberHash = instrumentNumberHash(card.number, secret);
    return {
      op: 'redeem',
      merchantId: shop.id,
      terminalId: null,
      apiKeyId: shop.apiKeyId,
      numberHash,
      pinHash: pinHash(numberHash, card.pin, secret),
      amount,
      reference: null,
      at: t.clock.now(),
      idemScope: `merchant:${shop.id}`,
      idemKey: `gc-${randomUUID()}`,
      idemHash: randomUUID(),
      ...extra,
    };
  }

  /** Calls the SQL function itself with one batch, in array position order. */
  async function batch(items: RedeemItem[]) {
    const col = <K extends keyof RedeemItem>(k: K) => items.map((i) => i[k]);
    return t.db.query(
      `SELECT o_ord AS ord, o_outcome AS outcome, o_facts AS facts, o_replayed AS replayed
         FROM merchant_redeem_batch($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::numeric[], $8::text[],
                                    $9::timestamptz[], '15 minutes', $10::text[], $11::text[], $12::text[])`,
      [col('op'), col('merchantId'), col('terminalId'), col('apiKeyId'), col('numberHash'), col('pinHash'), col('amount'), col('reference'),
       col('at'), col('idemScope'), col('idemKey'), col('idemHash')],
    );
  }

  const txidsOf = async (redemptionIds: string[]) =>
    (
      await t.db.query(
        `SELECT DISTINCT e.txid::text FROM redemptions r JOIN journal_entries e ON e.id = r.entry_id WHERE r.id = ANY ($1::uuid[])`,
        [redemptionIds],
      )
    ).map((r: { txid: string }) => r.txid);

  it('decides every request of one batch on its own: posts, holds, refusals, wrong PIN and replay', async () => {
    const rich = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const poor = await createInstrument(t.db, ledger, program, { balance: '5.00' });
    const forgetful = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const holder = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const replayed = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const earlier = item(replayed, '10.00');
    const [first] = await batch([earlier]);
    expect(first.outcome).toBe('captured');

    const rows = await batch([
      item(rich, '40.00', { reference: 'ticket-9' }),
      item(poor, '5.01'),
      item({ number: forgetful.number, pin: '0000' }, '1.00'),
      item({ number: '9000000000000000', pin: '1234' }, '1.00'),
      item(holder, '30.00', { op: 'authorize' }),
      { ...earlier, at: t.clock.now() },
    ]);

    // Domain outcomes: the HTTP status and body are chosen in TypeScript (redemption-outcomes.ts).
    expect(rows.map((r: { ord: number; outcome: string }) => [r.ord, r.outcome])).toEqual([
      [1, 'captured'], [2, 'insufficient_funds'], [3, 'invalid_pin'], [4, 'unknown_instrument'], [5, 'authorized'], [6, 'replay'],
    ]);
    expect(rows[0].facts).toMatchObject({ amount: '40.00', reference: 'ticket-9', last4: rich.last4 });
    expect(rows[1].facts).toBeNull();
    expect(rows[2].facts).toEqual({ pinLockedNow: false });
    expect(rows[3].facts).toBeNull();
    expect(rows[4].facts).toMatchObject({ amount: '30.00', expiresAt: expect.any(String) });
    expect(rows[5]).toMatchObject({ replayed: true, facts: { outcome: 'captured', facts: first.facts } });

    expect(await available(rich.accountId)).toBe('60.00');
    expect(await available(poor.accountId)).toBe('5.00');
    expect(await available(holder.accountId)).toBe('70.00');
    expect(await available(replayed.accountId)).toBe('90.00');
    const pin = await t.db.query(`SELECT failed_pin_attempts FROM instruments WHERE id = $1`, [forgetful.id]);
    expect(pin[0].failed_pin_attempts).toBe(1);
    const audit = await t.db.query(
      `SELECT code FROM redemption_attempts WHERE merchant_id = $1 AND instrument_id IS DISTINCT FROM $2 ORDER BY id`,
      [shop.id, rich.id],
    );
    expect(audit.map((a: { code: string }) => a.code)).toEqual(['insufficient_funds', 'invalid_pin', 'unknown_instrument']);
    // The purchase and the authorization of this batch are in one transaction; the replay posted nothing.
    const entries = await t.db.query(`SELECT count(*)::int AS n FROM redemptions WHERE instrument_id = $1`, [replayed.id]);
    expect(entries[0].n).toBe(1);
  });

  it('refuses a batch that holds one card twice, or an amount with three decimals, and writes nothing', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    await expect(batch([item(card, '1.00'), item(card, '2.00')])).rejects.toMatchObject({ code: 'MN006' });
    await expect(batch([item(card, '1.001')])).rejects.toMatchObject({ code: 'MN006' });
    expect(await available(card.accountId)).toBe('100.00');
  });

  it('the batcher posts concurrent purchases in one transaction, and one card twice in two', async () => {
    const cards: FixtureInstrument[] = [];
    for (let i = 0; i < 8; i++) cards.push(await createInstrument(t.db, ledger, program, { balance: '50.00' }));
    // Submitted in one tick: they leave together (at most REDEMPTION_BATCH_SIZE per batch).
    const outcomes = await Promise.all([...cards.map((c) => batcher.submit(item(c, '20.00'))), batcher.submit(item(cards[0], '20.00'))]);
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(9).fill('captured'));
    const ids = outcomes.map((o) => String(o.facts!.id));
    expect(await txidsOf(ids.slice(0, 8))).toHaveLength(1);
    // The second purchase on cards[0] waited for the next batch, so it saw the first one's debit.
    expect(await txidsOf([ids[0], ids[8]])).toHaveLength(2);
    expect(await available(cards[0].accountId)).toBe('10.00');
    for (const c of cards.slice(1)) expect(await available(c.accountId)).toBe('30.00');
  });

  it('when a batch fails, each of its requests is retried alone: one bad request fails, the others post', async () => {
    const cards: FixtureInstrument[] = [];
    for (let i = 0; i < 5; i++) cards.push(await createInstrument(t.db, ledger, program, { balance: '50.00' }));
    // The API never sends a third decimal (400 invalid_amount); here it stands for any request the database refuses.
    const results = await Promise.allSettled(cards.map((c, i) => batcher.submit(item(c, i === 2 ? '1.001' : '1.00'))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'MN006' });
    const posted = results.filter((r): r is PromiseFulfilledResult<RedeemOutcome> => r.status === 'fulfilled');
    expect(posted.every((r) => r.value.outcome === 'captured')).toBe(true);
    expect(await available(cards[2].accountId)).toBe('50.00');
    for (const i of [0, 1, 3, 4]) expect(await available(cards[i].accountId)).toBe('49.00');
  });

  it('a card another transaction holds locked does not hold up the rest of its batch: it waits alone', async () => {
    const [busy, free] = [await createInstrument(t.db, ledger, program, { balance: '50.00' }), await createInstrument(t.db, ledger, program, { balance: '50.00' })];
    const locker = t.db.createQueryRunner();
    await locker.connect();
    await locker.startTransaction();
    try {
      // As a cycle chunk does while it credits thousands of cards.
      await locker.query(`SELECT 1 FROM ledger_accounts WHERE id = $1 FOR UPDATE`, [busy.accountId]);
      // Even alone, a request in a batch slot does not wait: it comes back unanswered, nothing written.
      expect(await batch([item(busy, '5.00')])).toEqual([{ ord: 1, outcome: null, facts: null, replayed: false }]);
      let busySettled = false;
      const busyOutcome = batcher.submit(item(busy, '5.00')).finally(() => (busySettled = true));
      const freeOutcome = await batcher.submit(item(free, '5.00'));
      expect(freeOutcome.outcome).toBe('captured');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(busySettled).toBe(false);
      await locker.commitTransaction();
      expect((await busyOutcome).outcome).toBe('captured');
    } finally {
      if (locker.isTransactionActive) await locker.rollbackTransaction();
      await locker.release();
    }
    expect(await available(busy.accountId)).toBe('45.00');
    expect(await available(free.accountId)).toBe('45.00');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM redemptions WHERE instrument_id = $1`, [busy.id])).toEqual([{ n: 1 }]);
  });
});
