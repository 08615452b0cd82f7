import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram, FixtureProgram, idem } from '../support/merchant-fixtures';

describe('merchants: affiliation, API keys, suspension', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['staff']>>;
  let ledger: LedgerService;
  let program: FixtureProgram;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin');
    ledger = t.app.get(LedgerService);
    program = await createProgram(t.db, ledger);
  });
  afterAll(() => t.close());

  it('affiliates a merchant with a hot payable account and shows its key once, stored hashed', async () => {
    const res = await t.http
      .post('/v1/merchants')
      .set(admin.auth)
      .send({ name: 'Farmacia San Juan', category: 'pharmacy', address: { state: 'DF' } })
      .expect(201);
    expect(res.body).toMatchObject({ status: 'active', category: 'pharmacy' });
    expect(res.body.apiKey).toMatch(/^mk_/);
    const acct = await t.db.query(`SELECT code, category, deferred_totals, no_negative_balance FROM ledger_accounts WHERE id = $1`, [
      res.body.payableAccountId,
    ]);
    expect(acct[0]).toEqual({ code: `merchant:${res.body.id}:payable`, category: 'merchant_payable', deferred_totals: true, no_negative_balance: false });
    const keys = await t.db.query(`SELECT key_hash FROM merchant_api_keys WHERE merchant_id = $1`, [res.body.id]);
    expect(keys).toHaveLength(1);
    expect(keys[0].key_hash).not.toContain(res.body.apiKey);
    const shown = await t.http.get(`/v1/merchants/${res.body.id}`).set(admin.auth).expect(200);
    expect(JSON.stringify(shown.body)).not.toContain(res.body.apiKey);
    expect(shown.body.apiKeys).toHaveLength(1);
  });

  it('refuses a bad category and non-admin callers', async () => {
    const bad = await t.http.post('/v1/merchants').set(admin.auth).send({ name: 'x', category: 'casino', address: {} }).expect(400);
    expect(bad.body.code).toBe('validation_failed');
    const officer = await t.staff('program_officer');
    const forbidden = await t.http.post('/v1/merchants').set(officer.auth).send({ name: 'x', category: 'grocery', address: {} }).expect(403);
    expect(forbidden.body.code).toBe('forbidden');
  });

  it('rotates keys: a new key works, a revoked key is refused with 401', async () => {
    const m = await createMerchant(t, admin);
    await t.http.get('/v1/merchant/transactions').set(m.headers).expect(200);
    const terminal = await t.http.post(`/v1/merchants/${m.id}/terminals`).set(admin.auth).send({ label: 'Caja 1' }).expect(201);
    const second = await t.http.post(`/v1/merchants/${m.id}/api-keys`).set(admin.auth).send({ terminalId: terminal.body.id }).expect(201);
    expect(second.body.apiKey).toMatch(/^mk_/);
    expect(second.body.terminalId).toBe(terminal.body.id);
    await t.http.delete(`/v1/merchants/${m.id}/api-keys/${m.apiKeyId}`).set(admin.auth).expect(200);
    const revoked = await t.http.get('/v1/merchant/transactions').set(m.headers).expect(401);
    expect(revoked.body.code).toBe('unauthenticated');
    await t.http.get('/v1/merchant/transactions').set({ 'X-Api-Key': second.body.apiKey }).expect(200);
    // A key of another merchant cannot be revoked through this merchant.
    const other = await createMerchant(t, admin);
    await t.http.delete(`/v1/merchants/${m.id}/api-keys/${other.apiKeyId}`).set(admin.auth).expect(404);
  });

  it('a suspended merchant is refused with merchant_not_allowed, and works again once reactivated', async () => {
    const m = await createMerchant(t, admin);
    const card = await createInstrument(t.db, ledger, program, { balance: '100.00' });
    const body = { instrumentNumber: card.number, pin: card.pin, amount: '10.00' };
    const suspended = await t.http.post(`/v1/merchants/${m.id}/suspend`).set(admin.auth).expect(200);
    expect(suspended.body.status).toBe('suspended');
    const refused = await t.http.post('/v1/redemptions').set(m.headers).set(idem()).send(body).expect(422);
    expect(refused.body.code).toBe('merchant_not_allowed');
    const audit = await t.db.query(`SELECT code FROM redemption_attempts WHERE merchant_id = $1`, [m.id]);
    expect(audit).toEqual([{ code: 'merchant_not_allowed' }]);
    await t.http.post(`/v1/merchants/${m.id}/reactivate`).set(admin.auth).expect(200);
    await t.http.post('/v1/redemptions').set(m.headers).set(idem()).send(body).expect(201);
  });
});
