import { Body, Controller, Module, Post } from '@nestjs/common';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { Roles, actorOf } from '../../src/common/auth/principal';
import { CurrentStaff } from '../../src/common/auth/current-principal';
import type { StaffPrincipal } from '../../src/common/auth/principal';
import { Clock } from '../../src/common/clock';
import { Idempotent } from '../../src/common/idempotency/idempotency.interceptor';
import { formatMoney, money } from '../../src/common/money';
import { IsMoneyAmount } from '../../src/common/validation';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { fund, testAccount } from '../support/ledger-fixtures';

/** A minimal money-moving route, to test the cross-cutting contract every real route relies on. */
class TransferBody {
  @IsUUID() from!: string;
  @IsUUID() to!: string;
  @IsMoneyAmount() amount!: string;
  @IsOptional() @IsString() @Length(1, 100) reference?: string;
}

let delayMs = 0;

@Controller('test-only')
class TransferController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
  ) {}

  @Post('transfers')
  @Roles('finance_operator')
  @Idempotent()
  async transfer(@Body() body: TransferBody, @CurrentStaff() staff: StaffPrincipal) {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const amount = money(body.amount);
    const { entryId } = await this.ledger.post({
      kind: 'transfer',
      effectiveAt: this.clock.now(),
      createdBy: actorOf(staff),
      postings: [
        { accountId: body.from, side: 'debit', amount },
        { accountId: body.to, side: 'credit', amount },
      ],
    });
    return { entryId, amount: formatMoney(amount) };
  }
}

@Module({ controllers: [TransferController] })
class TransferTestModule {}

describe('Idempotency-Key contract and request validation', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let from: string;
  let to: string;
  const entriesFrom = async () =>
    (await t.db.query(`SELECT count(*)::int AS n FROM postings WHERE account_id = $1 AND side = 'debit'`, [from]))[0].n as number;

  beforeAll(async () => {
    t = await createTestApp({ imports: [TransferTestModule] });
    ledger = t.app.get(LedgerService);
    operator = await t.staff('finance_operator');
    from = (await testAccount(ledger)).id;
    to = (await testAccount(ledger)).id;
    await fund(ledger, from, '100.00');
  });
  afterAll(() => t.close());

  const transfer = (key: string | null, body: object) => {
    const req = t.http.post('/test-only/transfers').set(operator.auth);
    return key === null ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };

  it('replays the original status and body for the same key and body, moving money once', async () => {
    const key = randomUUID();
    const first = await transfer(key, { from, to, amount: '10.00' }).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await transfer(key, { amount: '10.00', to, from }).expect(201); // same body, keys reordered
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await entriesFrom()).toBe(1);
    expect((await ledger.balance(from)).posted.toFixed(2)).toBe('90.00');
  });

  it('refuses the same key with a different body: 422 idempotency_key_reused', async () => {
    const key = randomUUID();
    await transfer(key, { from, to, amount: '1.00' }).expect(201);
    const reused = await transfer(key, { from, to, amount: '2.00' }).expect(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    expect((await ledger.balance(from)).posted.toFixed(2)).toBe('89.00');
  });

  it('answers 409 request_in_progress while the first request with the key is running', async () => {
    const key = randomUUID();
    delayMs = 400;
    try {
      const firstPromise = transfer(key, { from, to, amount: '1.00' }).then((r) => r);
      await new Promise((r) => setTimeout(r, 150));
      const second = await transfer(key, { from, to, amount: '1.00' });
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('request_in_progress');
      expect((await firstPromise).status).toBe(201);
    } finally {
      delayMs = 0;
    }
    expect((await ledger.balance(from)).posted.toFixed(2)).toBe('88.00');
  });

  it('requires the header (400 idempotency_key_required) and checks its form', async () => {
    const missing = await transfer(null, { from, to, amount: '1.00' }).expect(400);
    expect(missing.body.code).toBe('idempotency_key_required');
    const tooLong = await transfer('k'.repeat(256), { from, to, amount: '1.00' }).expect(400);
    expect(tooLong.body.code).toBe('invalid_idempotency_key');
  });

  it('remembers a business refusal under its key, but forgets a validation error', async () => {
    const key = randomUUID();
    const refused = await transfer(key, { from, to, amount: '5000.00' }).expect(422);
    expect(refused.body.code).toBe('insufficient_funds');
    const replay = await transfer(key, { from, to, amount: '5000.00' }).expect(422);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['content-type']).toMatch(/^application\/problem\+json/);

    const key2 = randomUUID();
    await transfer(key2, { from, to, amount: 1 }).expect(400);
    await transfer(key2, { from, to, amount: '1.00' }).expect(201);
  });

  it('keeps keys of different callers apart', async () => {
    const other = await t.staff('finance_operator');
    const key = randomUUID();
    await transfer(key, { from, to, amount: '1.00' }).expect(201);
    const res = await t.http.post('/test-only/transfers').set(other.auth).set('Idempotency-Key', key).send({ from, to, amount: '1.00' });
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  describe('bad input → 400 problem+json, nothing written', () => {
    const cases: Array<[string, unknown, string]> = [
      ['a JSON number', 10.5, 'invalid_amount'],
      ['an integer number', 10, 'invalid_amount'],
      ['three decimals', '10.005', 'invalid_amount'],
      ['negative', '-5.00', 'invalid_amount'],
      ['zero', '0.00', 'invalid_amount'],
      ['an exponent', '1e3', 'invalid_amount'],
      ['huge', '99999999999999999.00', 'invalid_amount'],
      ['leading zeros', '007.00', 'invalid_amount'],
      ['spaces', ' 5.00', 'invalid_amount'],
      ['null', null, 'invalid_amount'],
      ['an object', { value: '5.00' }, 'invalid_amount'],
    ];
    it.each(cases)('amount as %s', async (_label, amount, code) => {
      const before = await entriesFrom();
      const res = await transfer(randomUUID(), { from, to, amount }).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, code, title: 'Bad Request' });
      expect(typeof res.body.detail).toBe('string');
      expect(await entriesFrom()).toBe(before);
    });

    it.each<[string, object]>([
      ['a missing field', { from, amount: '1.00' }],
      ['an unknown field', { from, to, amount: '1.00', currency: 'USD' }],
      ['a wrong type', { from: 42, to, amount: '1.00' }],
      ['a bad uuid', { from: 'abc', to, amount: '1.00' }],
    ])('%s → validation_failed', async (_label, body) => {
      const before = await entriesFrom();
      const res = await transfer(randomUUID(), body).expect(400);
      expect(res.body.code).toBe('validation_failed');
      expect(await entriesFrom()).toBe(before);
    });

    it('a body that is not JSON, or not an object', async () => {
      const broken = await t.http
        .post('/test-only/transfers')
        .set(operator.auth)
        .set('Idempotency-Key', randomUUID())
        .set('content-type', 'application/json')
        .send('{"from":');
      expect(broken.status).toBe(400);
      expect(broken.body.code).toBe('validation_failed');
      const array = await transfer(randomUUID(), [1, 2, 3] as unknown as object);
      expect(array.status).toBe(400);
    });
  });
});
