import request from 'supertest';
import { requestFingerprint } from '../../src/common/idempotency/idempotency.rules';
import { money, sumMoney } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram, FixtureMerchant, FixtureProgram, idem } from '../support/merchant-fixtures';

describe('merchant redemption', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['staff']>>;
  let ledger: LedgerService;
  let program: FixtureProgram;
  let shop: FixtureMerchant;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    admin = await t.staff('admin');
    ledger = t.app.get(LedgerService);
    program = await createProgram(t.db, ledger, { budget: '10000000.00' });
    shop = await createMerchant(t, admin);
  });
  afterAll(() => t.close());

  const available = async (accountId: string) => (await ledger.balance(accountId)).available.toFixed(2);
  const entriesOf = async (accountId: string) =>
    Number((await t.db.query(`SELECT count(*)::int AS n FROM postings WHERE account_id = $1`, [accountId]))[0].n);

  it('redeems: 201 with the masked number, instrument → merchant payable in one entry', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '500.00' });
    const res = await t.http
      .post('/v1/redemptions')
      .set(shop.headers)
      .set(idem())
      .send({ instrumentNumber: card.number, pin: card.pin, amount: '123.45', reference: 'ticket-1' })
      .expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      status: 'captured',
      amount: '123.45',
      instrumentNumber: `************${card.last4}`,
      reference: 'ticket-1',
      createdAt: t.clock.now().toISOString(),
    });
    expect(await available(card.accountId)).toBe('376.55');
    const entry = await t.db.query(
      `SELECT e.kind, p.account_id AS "accountId", p.side, p.amount::text FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE e.idempotency_key = $1 ORDER BY p.side`,
      [`redemption:${res.body.id}`],
    );
    expect(entry).toEqual([
      { kind: 'redemption', accountId: shop.payableAccountId, side: 'credit', amount: '123.45' },
      { kind: 'redemption', accountId: card.accountId, side: 'debit', amount: '123.45' },
    ]);
    // The hot payable was not row-updated: the credit waits in the deltas until a roll-up.
    const row = await t.db.query(`SELECT posted_credits::text FROM ledger_accounts WHERE id = $1`, [shop.payableAccountId]);
    expect(row[0].posted_credits).toBe('0.00');
    expect((await ledger.balance(shop.payableAccountId)).posted.toFixed(2)).toBe(
      (await t.db.query(`SELECT coalesce(sum(credits - debits), 0)::numeric(20,2)::text AS s FROM ledger_account_deltas WHERE account_id = $1`, [shop.payableAccountId]))[0].s,
    );
  });

  it('refuses with the API codes and writes nothing but an audit record', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '50.00' });
    const blocked = await createInstrument(t.db, ledger, program, { balance: '50.00', status: 'blocked' });
    const stationeryOnly = await createProgram(t.db, ledger, { rules: { benefit: { type: 'fixed', amount: '60.00' }, allowedMerchantCategories: ['stationery'] } });
    const school = await createInstrument(t.db, ledger, stationeryOnly, { balance: '50.00' });
    // A card of a program in another currency: the merchant takes pesos only.
    const dollars = await createInstrument(t.db, ledger, await createProgram(t.db, ledger, { currency: 'USD' }), { balance: '50.00' });
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ instrumentNumber: card.number, pin: card.pin, amount: '50.01' }, 422, 'insufficient_funds'],
      [{ instrumentNumber: '1111222233334444', pin: '1234', amount: '1.00' }, 404, 'unknown_instrument'],
      [{ instrumentNumber: blocked.number, pin: blocked.pin, amount: '1.00' }, 422, 'instrument_not_active'],
      [{ instrumentNumber: school.number, pin: school.pin, amount: '1.00' }, 422, 'merchant_not_allowed'],
      [{ instrumentNumber: dollars.number, pin: dollars.pin, amount: '1.00' }, 422, 'merchant_not_allowed'],
    ];
    // Other suites post concurrently in this database: look only at what these requests could touch.
    const touched = async () =>
      Number(
        (
          await t.db.query(
            `SELECT (SELECT count(*) FROM postings WHERE account_id = ANY ($1::uuid[])) + (SELECT count(*) FROM redemptions WHERE merchant_id = $2)
                    + (SELECT count(*) FROM ledger_holds WHERE account_id = ANY ($1::uuid[])) AS n`,
            [[card.accountId, blocked.accountId, school.accountId, dollars.accountId, shop.payableAccountId], shop.id],
          )
        )[0].n,
      );
    const before = await touched();
    for (const [body, status, code] of cases) {
      const res = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body).expect(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code });
    }
    expect(await touched()).toBe(before);
    const audit = await t.db.query(`SELECT code FROM redemption_attempts WHERE merchant_id = $1 ORDER BY id`, [shop.id]);
    expect(audit.map((a: { code: string }) => a.code)).toEqual(cases.map((c) => c[2]));
    expect(await available(card.accountId)).toBe('50.00');
    // The same program's stationery shop may redeem it.
    const stationer = await createMerchant(t, admin, { category: 'stationery' });
    await t.http.post('/v1/redemptions').set(stationer.headers).set(idem()).send({ instrumentNumber: school.number, pin: school.pin, amount: '1.00' }).expect(201);
  });

  it('validates the request: money as a string with two decimals, Idempotency-Key required, API key required', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '10.00' });
    const number = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: 5 }).expect(400);
    expect(number.body.code).toBe('invalid_amount');
    const third = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '1.001' }).expect(400);
    expect(third.body.code).toBe('invalid_amount');
    const noKey = await t.http.post('/v1/redemptions').set(shop.headers).send({ instrumentNumber: card.number, pin: card.pin, amount: '1.00' }).expect(400);
    expect(noKey.body.code).toBe('idempotency_key_required');
    const anon = await t.http.post('/v1/redemptions').set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '1.00' }).expect(401);
    expect(anon.body.code).toBe('unauthenticated');
    expect(await available(card.accountId)).toBe('10.00');
  });

  it('200 concurrent redemptions against one card: exactly the affordable number succeed', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '1000.00' });
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        request(base).post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '7.00' }),
      ),
    );
    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 422);
    expect(ok).toHaveLength(142); // floor(1000 / 7)
    expect(refused).toHaveLength(58);
    expect(refused.every((r) => r.body.code === 'insufficient_funds')).toBe(true);
    expect(await available(card.accountId)).toBe('6.00');
    expect(await entriesOf(card.accountId)).toBe(1 + 142);
  });

  it('200 concurrent redemptions at one merchant from different cards: all succeed, sums exact', async () => {
    const m = await createMerchant(t, admin);
    const cards = [];
    for (let i = 0; i < 200; i++) cards.push(await createInstrument(t.db, ledger, program, { balance: '100.00' }));
    const amounts = cards.map((_, i) => `${(i % 50) + 1}.${String(i % 100).padStart(2, '0')}`);
    const results = await Promise.all(
      cards.map((card, i) =>
        request(base).post('/v1/redemptions').set(m.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: amounts[i] }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(cards.map(() => 201));
    const expected = sumMoney(amounts).toFixed(2);
    expect((await ledger.balance(m.payableAccountId)).posted.toFixed(2)).toBe(expected);
    await ledger.rollup(m.payableAccountId);
    const row = await t.db.query(`SELECT posted_credits::text AS c FROM ledger_accounts WHERE id = $1`, [m.payableAccountId]);
    expect(row[0].c).toBe(expected);
    for (const [i, card] of cards.entries()) {
      expect(await available(card.accountId)).toBe(money('100.00').minus(amounts[i]).toFixed(2));
    }
  });

  describe('Idempotency-Key', () => {
    it('replays the same request with the original status and body, and posts once', async () => {
      const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
      const key = idem();
      const body = { instrumentNumber: card.number, pin: card.pin, amount: '30.00' };
      const first = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(201);
      const again = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(again.body).toEqual(first.body);
      expect(await available(card.accountId)).toBe('70.00');
      const reused = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send({ ...body, amount: '31.00' }).expect(422);
      expect(reused.body.code).toBe('idempotency_key_reused');
      // Another merchant's identical key is a different scope.
      const other = await createMerchant(t, admin);
      await t.http.post('/v1/redemptions').set(other.headers).set(key).send(body).expect(201);
      expect(await available(card.accountId)).toBe('40.00');
    });

    it('remembers a refusal too, and concurrent duplicates post once', async () => {
      const card = await createInstrument(t.db, ledger, program, { balance: '10.00' });
      const key = idem();
      const body = { instrumentNumber: card.number, pin: card.pin, amount: '20.00' };
      const refused = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(422);
      await ledger.post({
        kind: 'deposit',
        idempotencyKey: `top-up:${card.id}`,
        effectiveAt: new Date(),
        postings: [
          { accountId: program.budgetAccountId, side: 'debit', amount: money('90.00') },
          { accountId: card.accountId, side: 'credit', amount: money('90.00') },
        ],
      });
      const replay = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(422);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(refused.body);

      const key2 = idem();
      const burst = await Promise.all(
        Array.from({ length: 10 }, () => request(base).post('/v1/redemptions').set(shop.headers).set(key2).send({ ...body, amount: '15.00' })),
      );
      const statuses = burst.map((r) => r.status);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
      expect(burst.filter((r) => r.status === 409).every((r) => r.body.code === 'request_in_progress')).toBe(true);
      expect(new Set(burst.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
      expect(await available(card.accountId)).toBe('85.00');
    });

    it('answers 409 request_in_progress while the first request is still running', async () => {
      const card = await createInstrument(t.db, ledger, program, { balance: '10.00' });
      const key = idem();
      const body = { instrumentNumber: card.number, pin: card.pin, amount: '1.00' };
      const runner = t.db.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        // What an in-flight redemption holds: the transaction lock on its key.
        await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`idempotency:merchant:${shop.id}:${key['Idempotency-Key']}`]);
        const busy = await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(409);
        expect(busy.body.code).toBe('request_in_progress');
      } finally {
        await runner.commitTransaction();
        await runner.release();
      }
      // An in-flight record left by the interceptor path counts too, until its lease ends.
      const key2 = idem();
      await t.db.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_until) VALUES ($1, $2, $3, 'in_flight', $4)`,
        [`merchant:${shop.id}`, key2['Idempotency-Key'], requestFingerprint('POST', '/v1/redemptions', body), new Date(t.clock.now().getTime() + 60_000)],
      );
      const inFlight = await t.http.post('/v1/redemptions').set(shop.headers).set(key2).send(body).expect(409);
      expect(inFlight.body.code).toBe('request_in_progress');
      await t.http.post('/v1/redemptions').set(shop.headers).set(key).send(body).expect(201);
      expect(await available(card.accountId)).toBe('9.00');
      // Once its lease is over, the abandoned record is taken over by a retry of the same request.
      const saved = t.clock.now();
      t.clock.advance(61_000);
      try {
        await t.http.post('/v1/redemptions').set(shop.headers).set(key2).send(body).expect(201);
        const replay = await t.http.post('/v1/redemptions').set(shop.headers).set(key2).send(body).expect(201);
        expect(replay.headers['idempotent-replayed']).toBe('true');
      } finally {
        t.clock.set(saved);
      }
      expect(await available(card.accountId)).toBe('8.00');
    });
  });

  describe('PIN', () => {
    it('three wrong PINs lock the instrument; the count persists although each request is refused', async () => {
      const card = await createInstrument(t.db, ledger, program, { balance: '100.00', pin: '4321' });
      const body = (pin: string) => ({ instrumentNumber: card.number, pin, amount: '5.00' });
      for (let i = 1; i <= 3; i++) {
        const res = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body('0000')).expect(422);
        expect(res.body.code).toBe('invalid_pin');
        const row = await t.db.query(`SELECT failed_pin_attempts AS n, pin_locked AS locked FROM instruments WHERE id = $1`, [card.id]);
        expect(row[0]).toEqual({ n: i, locked: i === 3 });
      }
      const locked = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body('4321')).expect(422);
      expect(locked.body.code).toBe('pin_locked');
      expect(await available(card.accountId)).toBe('100.00');
      expect(await entriesOf(card.accountId)).toBe(1);
    });

    it('a right PIN resets the count of wrong ones', async () => {
      const card = await createInstrument(t.db, ledger, program, { balance: '100.00', pin: '987654' });
      const body = (pin: string) => ({ instrumentNumber: card.number, pin, amount: '5.00' });
      await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body('111111')).expect(422);
      await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body('111111')).expect(422);
      await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body('987654')).expect(201);
      const row = await t.db.query(`SELECT failed_pin_attempts AS n, pin_locked AS locked FROM instruments WHERE id = $1`, [card.id]);
      expect(row[0]).toEqual({ n: 0, locked: false });
    });
  });

  describe('expiry at midnight in the program time zone', () => {
    const endOf2026InMexicoCity = new Date('2027-01-01T06:00:00.000Z'); // 00:00 on 1 Jan 2027, UTC−6

    it('an instrument valid until 31 Dec works at 23:59:59 and fails at 00:00 on 1 Jan', async () => {
      const voucher = await createInstrument(t.db, ledger, program, { balance: '100.00', kind: 'voucher', expiresAt: endOf2026InMexicoCity });
      const body = { instrumentNumber: voucher.number, pin: voucher.pin, amount: '10.00' };
      const saved = t.clock.now();
      try {
        t.clock.set('2026-12-31T23:59:59.999-06:00');
        await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body).expect(201);
        t.clock.set('2027-01-01T00:00:00.000-06:00');
        const late = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body).expect(422);
        expect(late.body.code).toBe('instrument_expired');
      } finally {
        t.clock.set(saved);
      }
      expect(await available(voucher.accountId)).toBe('90.00');
    });

    it("applies the program's voucherExpiresOn at the business clock of the program's time zone", async () => {
      const vouchers = await createProgram(t.db, ledger, {
        instrumentType: 'voucher',
        rules: { benefit: { type: 'fixed', amount: '150.00' }, voucherExpiresOn: '2026-12-31' },
      });
      const voucher = await createInstrument(t.db, ledger, vouchers, { balance: '150.00', kind: 'voucher', expiresAt: null });
      const body = { instrumentNumber: voucher.number, pin: voucher.pin, amount: '10.00' };
      const saved = t.clock.now();
      try {
        // 05:59 UTC on 1 Jan is still 31 Dec in Mexico City.
        t.clock.set('2027-01-01T05:59:59.000Z');
        await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body).expect(201);
        t.clock.set('2027-01-01T06:00:00.000Z');
        const late = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send(body).expect(422);
        expect(late.body.code).toBe('instrument_expired');
      } finally {
        t.clock.set(saved);
      }
    });
  });
});
