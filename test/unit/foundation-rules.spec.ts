import { ConfigError, loadConfig } from '../../src/config/config';
import { formatMoney, isMoneyString, isPositiveMoneyString, money, sumMoney } from '../../src/common/money';
import { businessDate } from '../../src/common/clock';
import { canonicalJson, isRememberedStatus, isValidIdempotencyKey, requestFingerprint } from '../../src/common/idempotency/idempotency.rules';
import { entryProblem } from '../../src/ledger/ledger.rules';
import { hashSecret, instrumentNumberHash, pinHash, verifySecret } from '../../src/common/auth/secrets';

describe('money', () => {
  it('accepts API money strings and refuses everything else', () => {
    for (const ok of ['0', '0.5', '1075.20', '9999999999999999.99']) expect(isMoneyString(ok)).toBe(true);
    for (const bad of ['', '1.005', '-1', '+1', '1e3', '01', '1.', '.5', ' 1', '1,000.00', '10000000000000000', 1, null]) {
      expect(isMoneyString(bad)).toBe(false);
    }
    expect(isPositiveMoneyString('0.00')).toBe(false);
    expect(isPositiveMoneyString('0.01')).toBe(true);
  });

  it('adds exactly and always writes two decimals', () => {
    expect(formatMoney(sumMoney(['0.10', '0.20']))).toBe('0.30');
    expect(formatMoney(money('1075.2').times(12))).toBe('12902.40');
    expect(formatMoney('5')).toBe('5.00');
    expect(() => money('1.005')).toThrow(TypeError);
    expect(() => money('abc')).toThrow(TypeError);
  });
});

describe('ledger entry rules', () => {
  const p = (side: 'debit' | 'credit', amount: string) => ({ accountId: 'a', side, amount: money(amount) });
  it('accepts a balanced entry and explains what is wrong with others', () => {
    expect(entryProblem([p('debit', '1537.00'), p('credit', '1500.00'), p('credit', '37.00')])).toBeNull();
    expect(entryProblem([p('debit', '1.00')])).toMatch(/two postings/);
    expect(entryProblem([p('debit', '1.00'), p('credit', '0.99')])).toMatch(/does not balance/);
    expect(entryProblem([p('debit', '1.00'), p('debit', '1.00')])).toMatch(/a debit and a credit/);
    expect(entryProblem([p('debit', '0'), p('credit', '0')])).toMatch(/positive/);
  });
});

describe('idempotency rules', () => {
  it('validates keys as 1–255 printable ASCII', () => {
    expect(isValidIdempotencyKey('a')).toBe(true);
    expect(isValidIdempotencyKey('x'.repeat(255))).toBe(true);
    expect(isValidIdempotencyKey('')).toBe(false);
    expect(isValidIdempotencyKey('x'.repeat(256))).toBe(false);
    expect(isValidIdempotencyKey('ñ')).toBe(false);
    expect(isValidIdempotencyKey('a\nb')).toBe(false);
  });

  it('fingerprints bodies independently of key order, but not of values or path', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const f = requestFingerprint('POST', '/v1/x', { a: '1.00', b: 2 });
    expect(requestFingerprint('POST', '/v1/x', { b: 2, a: '1.00' })).toBe(f);
    expect(requestFingerprint('POST', '/v1/x', { a: '1.01', b: 2 })).not.toBe(f);
    expect(requestFingerprint('POST', '/v1/y', { a: '1.00', b: 2 })).not.toBe(f);
  });

  it('remembers outcomes but not validation errors, conflicts or faults', () => {
    expect([201, 200, 403, 404, 422].every(isRememberedStatus)).toBe(true);
    expect([400, 409, 429, 500, 503].some(isRememberedStatus)).toBe(false);
  });
});

describe('secrets', () => {
  it('hashes passwords with a salt and verifies them', async () => {
    const a = await hashSecret('secret one', { N: 1024 });
    const b = await hashSecret('secret one', { N: 1024 });
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret one');
    expect(await verifySecret('secret one', a)).toBe(true);
    expect(await verifySecret('secret two', a)).toBe(false);
    expect(await verifySecret('secret one', 'garbage')).toBe(false);
  });

  it('keys instrument numbers and PINs with the server secret', () => {
    const h = instrumentNumberHash('4000001234567899', 'secret-a-16chars');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(instrumentNumberHash('4000001234567899', 'secret-b-16chars')).not.toBe(h);
    expect(pinHash(h, '1234', 'secret-a-16chars')).not.toBe(pinHash(h, '1235', 'secret-a-16chars'));
  });
});

describe('configuration', () => {
  it('has safe local defaults and names the variable that is wrong', () => {
    expect(loadConfig({}).PORT).toBe(3000);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ CYCLE_CHUNK_SIZE: 'lots' })).toThrow(/CYCLE_CHUNK_SIZE/);
    expect(loadConfig({ CYCLES_CONCURRENCY: '4' }).CYCLES_CONCURRENCY).toBe(4);
    expect(loadConfig({}).CYCLES_LOCK_MS).toBe(30000);
    expect(() => loadConfig({ SWEEPS_LOCK_MS: '10' })).toThrow(/SWEEPS_LOCK_MS/);
    expect(() => loadConfig({ CYCLE_DRAFT_LEAD_DAYS: '-1' })).toThrow(/CYCLE_DRAFT_LEAD_DAYS/);
    expect(loadConfig({ REDEMPTION_BATCH_CONCURRENCY: '3' }).REDEMPTION_BATCH_CONCURRENCY).toBe(3);
    expect(() => loadConfig({ REDEMPTION_BATCH_SIZE: '0' })).toThrow(/REDEMPTION_BATCH_SIZE/);
  });
});

describe('business dates', () => {
  it('are calendar dates in the program time zone', () => {
    // 05:59 UTC on 1 Jan 2017 is still 31 Dec 2016 in Mexico City (UTC−6).
    expect(businessDate(new Date('2017-01-01T05:59:59Z'), 'America/Mexico_City')).toBe('2016-12-31');
    expect(businessDate(new Date('2017-01-01T06:00:00Z'), 'America/Mexico_City')).toBe('2017-01-01');
  });
});

describe('database errors that are not server faults', () => {
  const { problemFromDatabaseError } = require('../../src/common/db-errors');
  it('maps a statement timeout to 503 database_timeout and a lost connection to 503 service_unavailable', () => {
    expect(problemFromDatabaseError({ code: '57014' })).toMatchObject({ status: 503, code: 'database_timeout' });
    expect(problemFromDatabaseError({ code: 'ECONNREFUSED' })).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(problemFromDatabaseError({ driverError: { code: '57P01' } })).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(problemFromDatabaseError({ code: 'MN001' })).toMatchObject({ status: 422, code: 'insufficient_funds' });
    expect(problemFromDatabaseError({ code: '23514', constraint: 'ledger_accounts_no_negative' })).toMatchObject({ status: 422, code: 'insufficient_funds' });
    expect(problemFromDatabaseError(new Error('syntax error'))).toBeUndefined();
  });
});
