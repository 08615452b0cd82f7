import { LedgerService } from '../../src/ledger/ledger.service';
import { HoldsProcessor } from '../../src/ledger/holds.processor';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram, FixtureMerchant, FixtureProgram, idem } from '../support/merchant-fixtures';

describe('authorizations, captures, voids, refunds and ownership', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['staff']>>;
  let ledger: LedgerService;
  let program: FixtureProgram;
  let shop: FixtureMerchant;
  let rival: FixtureMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin');
    ledger = t.app.get(LedgerService);
    program = await createProgram(t.db, ledger);
    shop = await createMerchant(t, admin);
    rival = await createMerchant(t, admin);
  });
  afterAll(() => t.close());

  const balance = async (accountId: string) => {
    const b = await ledger.balance(accountId);
    return { posted: b.posted.toFixed(2), available: b.available.toFixed(2) };
  };
  const authorize = (m: FixtureMerchant, card: { number: string; pin: string }, amount: string) =>
    t.http.post('/v1/authorizations').set(m.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount });

  it('a hold counts against the available balance; a partial capture releases the rest', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const hold = await authorize(shop, card, '80.00').expect(201);
    expect(hold.body).toMatchObject({ status: 'authorized', amount: '80.00', instrumentNumber: `************${card.last4}` });
    expect(Date.parse(hold.body.expiresAt)).toBeGreaterThan(t.clock.now().getTime());
    expect(await balance(card.accountId)).toEqual({ posted: '100.00', available: '20.00' });
    const over = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '20.01' }).expect(422);
    expect(over.body.code).toBe('insufficient_funds');

    const tooMuch = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(idem()).send({ amount: '80.01' }).expect(422);
    expect(tooMuch.body.code).toBe('amount_exceeds_hold');
    const key = idem();
    const captured = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(key).send({ amount: '55.50' }).expect(200);
    expect(captured.body).toMatchObject({ id: hold.body.id, status: 'captured', amount: '55.50', authorizedAmount: '80.00' });
    expect(await balance(card.accountId)).toEqual({ posted: '44.50', available: '44.50' });
    const replay = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(key).send({ amount: '55.50' }).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(captured.body);
    const twice = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(idem()).send({}).expect(422);
    expect(twice.body.code).toBe('hold_not_capturable');
    const voidCaptured = await t.http.post(`/v1/authorizations/${hold.body.id}/void`).set(shop.headers).set(idem()).expect(422);
    expect(voidCaptured.body.code).toBe('hold_not_voidable');
    expect(await balance(card.accountId)).toEqual({ posted: '44.50', available: '44.50' });
    expect((await ledger.balance(shop.payableAccountId)).posted.gte('55.50')).toBe(true);
  });

  it('capture without an amount takes the whole hold; void releases it', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const a = await authorize(shop, card, '30.00').expect(201);
    const b = await authorize(shop, card, '40.00').expect(201);
    await t.http.post(`/v1/authorizations/${a.body.id}/capture`).set(shop.headers).set(idem()).send({}).expect(200);
    const voided = await t.http.post(`/v1/authorizations/${b.body.id}/void`).set(shop.headers).set(idem()).expect(200);
    expect(voided.body.status).toBe('voided');
    expect(await balance(card.accountId)).toEqual({ posted: '70.00', available: '70.00' });
    const shown = await t.http.get(`/v1/authorizations/${b.body.id}`).set(shop.headers).expect(200);
    expect(shown.body).toMatchObject({ status: 'voided', type: 'authorization' });
  });

  it('an expired hold can never be captured, even before the expiry job runs; the job releases it', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const hold = await authorize(shop, card, '60.00').expect(201);
    const saved = t.clock.now();
    try {
      t.clock.set(hold.body.expiresAt); // expiresAt is exclusive
      const late = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(idem()).send({}).expect(422);
      expect(late.body.code).toBe('hold_not_capturable');
      expect(await balance(card.accountId)).toEqual({ posted: '100.00', available: '40.00' }); // job not run yet
      const shown = await t.http.get(`/v1/authorizations/${hold.body.id}`).set(shop.headers).expect(200);
      expect(shown.body.status).toBe('expired');
      // The foundation's expiry job (queue 'holds') releases it.
      const processor = new HoldsProcessor(ledger, t.clock, { upsertJobScheduler: async () => undefined } as never);
      expect((await processor.process()).expired).toBeGreaterThanOrEqual(1);
      expect(await balance(card.accountId)).toEqual({ posted: '100.00', available: '100.00' });
      const after = await t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(shop.headers).set(idem()).send({}).expect(422);
      expect(after.body.code).toBe('hold_not_capturable');
    } finally {
      t.clock.set(saved);
    }
  });

  it('a hold never outlives its instrument', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + 3600_000);
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00', expiresAt });
    const hold = await authorize(shop, card, '10.00').expect(201);
    expect(hold.body.expiresAt).toBe(expiresAt.toISOString());
  });

  it('refunds up to the captured amount, back to the instrument', async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const r = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '100.00' }).expect(201);
    const key = idem();
    const first = await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(key).send({ amount: '60.00' }).expect(201);
    expect(first.body).toMatchObject({ redemptionId: r.body.id, amount: '60.00', refundedTotal: '60.00', refundable: '40.00' });
    const replay = await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(key).send({ amount: '60.00' }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    const tooMuch = await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '40.01' }).expect(422);
    expect(tooMuch.body.code).toBe('refund_exceeds_captured');
    await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '40.00' }).expect(201);
    const none = await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '0.01' }).expect(422);
    expect(none.body.code).toBe('refund_exceeds_captured');
    expect(await balance(card.accountId)).toEqual({ posted: '100.00', available: '100.00' });
    const zero = await t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '0.00' }).expect(400);
    expect(zero.body.code).toBe('invalid_amount');

    // Concurrent refunds never exceed the captured amount.
    const card2 = await createInstrument(t.db, ledger, program, { balance: '50.00' });
    const r2 = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card2.number, pin: card2.pin, amount: '50.00' }).expect(201);
    const results = [];
    for (let i = 0; i < 8; i++) results.push(t.http.post(`/v1/redemptions/${r2.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '10.00' }));
    const statuses = (await Promise.all(results)).map((x) => x.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 201, 422, 422, 422]);
    expect(await balance(card2.accountId)).toEqual({ posted: '50.00', available: '50.00' });

    // An authorization not captured cannot be refunded.
    const hold = await authorize(shop, card, '5.00').expect(201);
    const notCaptured = await t.http.post(`/v1/redemptions/${hold.body.id}/refunds`).set(shop.headers).set(idem()).send({ amount: '1.00' }).expect(422);
    expect(notCaptured.body.code).toBe('redemption_not_refundable');
  });

  it("a merchant cannot touch another merchant's redemption (403)", async () => {
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const r = await t.http.post('/v1/redemptions').set(shop.headers).set(idem()).send({ instrumentNumber: card.number, pin: card.pin, amount: '10.00' }).expect(201);
    const hold = await authorize(shop, card, '10.00').expect(201);
    const attempts = [
      t.http.post(`/v1/redemptions/${r.body.id}/refunds`).set(rival.headers).set(idem()).send({ amount: '1.00' }),
      t.http.post(`/v1/authorizations/${hold.body.id}/capture`).set(rival.headers).set(idem()).send({}),
      t.http.post(`/v1/authorizations/${hold.body.id}/void`).set(rival.headers).set(idem()),
      t.http.get(`/v1/redemptions/${r.body.id}`).set(rival.headers),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect(await balance(card.accountId)).toEqual({ posted: '90.00', available: '80.00' });
    const list = await t.http.get('/v1/merchant/transactions').set(rival.headers).expect(200);
    expect(list.body.data.map((x: { id: string }) => x.id)).not.toContain(r.body.id);
    const missing = await t.http.post(`/v1/redemptions/00000000-0000-4000-8000-000000000000/refunds`).set(rival.headers).set(idem()).send({ amount: '1.00' }).expect(404);
    expect(missing.body.code).toBe('not_found');
    // Staff tokens are not merchant keys (authenticated, but not allowed).
    expect((await t.http.get('/v1/merchant/transactions').set(admin.auth).expect(403)).body.code).toBe('forbidden');
  });
});
