import { randomInt, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { instrumentNumberHash, pinHash } from '../../src/common/auth/secrets';
import { money } from '../../src/common/money';
import { loadConfig } from '../../src/config/config';
import { LedgerService } from '../../src/ledger/ledger.service';
import type { TestApp } from './app';

/**
 * Programs, beneficiaries and funded, active instruments for the merchants tests, made directly
 * with SQL on the shared tables (migration 1763700100000) and the LedgerService, so these tests
 * do not depend on the padrón and instruments modules.
 */
export interface FixtureProgram {
  id: string;
  budgetAccountId: string;
  currency?: string;
}

export interface FixtureInstrument {
  id: string;
  number: string;
  pin: string;
  accountId: string;
  programId: string;
  last4: string;
}

const secret = () => loadConfig().INSTRUMENT_NUMBER_SECRET;

export async function createProgram(
  db: DataSource,
  ledger: LedgerService,
  opts: { rules?: Record<string, unknown>; timeZone?: string; instrumentType?: 'card' | 'voucher'; budget?: string; currency?: string } = {},
): Promise<FixtureProgram> {
  const id = randomUUID();
  const currency = opts.currency ?? 'MXN';
  const budget = await ledger.ensureAccount({
    code: `program:${id}:budget`,
    name: 'Program budget',
    category: 'program_budget',
    programId: id,
    noNegativeBalance: true,
    currency,
  });
  const reintegro = await ledger.ensureAccount({
    code: `program:${id}:reintegro`,
    name: 'Program reintegro payable',
    category: 'reintegro_payable',
    programId: id,
    currency,
  });
  await db.query(
    `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, time_zone, rules, budget_account_id, reintegro_account_id, currency)
     VALUES ($1, $2, $3, 2026, $4, $5, $6, $7, $8, $9)`,
    [
      id,
      `MT-${id.slice(0, 8)}`,
      'Merchants test program',
      opts.instrumentType ?? 'card',
      opts.timeZone ?? 'America/Mexico_City',
      JSON.stringify(opts.rules ?? { benefit: { type: 'fixed', amount: '100.00' } }),
      budget.id,
      reintegro.id,
      currency,
    ],
  );
  const treasury = await ledger.ensureAccount({ code: `treasury:${currency}`, name: 'Tesorería', category: 'treasury', normalSide: 'debit', currency });
  const amount = money(opts.budget ?? '1000000.00');
  await ledger.post({
    kind: 'appropriation',
    idempotencyKey: `test-appropriation:${id}`,
    effectiveAt: new Date(),
    postings: [
      { accountId: treasury.id, side: 'debit', amount },
      { accountId: budget.id, side: 'credit', amount },
    ],
  });
  return { id, budgetAccountId: budget.id, currency };
}

function randomDigits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

/** An active instrument with a PIN and a balance deposited from the program budget. */
export async function createInstrument(
  db: DataSource,
  ledger: LedgerService,
  program: FixtureProgram,
  opts: { balance?: string; pin?: string; kind?: 'card' | 'voucher'; expiresAt?: Date | null; status?: string } = {},
): Promise<FixtureInstrument> {
  const beneficiaryId = randomUUID();
  await db.query(
    `INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on)
     VALUES ($1, $2, $3, $4, 'Prueba', 'Comercio', '1950-01-01', '{"state":"DF"}', '2026-01-01', '2026-01-01')`,
    [beneficiaryId, program.id, `MT-${beneficiaryId}`, `TEST${randomDigits(14)}`],
  );
  const id = randomUUID();
  const number = `9${randomDigits(15)}`;
  const pin = opts.pin ?? '1234';
  const numberHash = instrumentNumberHash(number, secret());
  const account = await ledger.ensureAccount({
    code: `instrument:${id}`,
    name: `Instrument ${number.slice(-4)}`,
    category: 'instrument',
    programId: program.id,
    ownerType: 'instrument',
    ownerId: id,
    noNegativeBalance: true,
    currency: program.currency ?? 'MXN',
  });
  await db.query(
    `INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, pin_hash, expires_at, account_id, delivered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())`,
    [
      id,
      beneficiaryId,
      program.id,
      opts.kind ?? 'card',
      numberHash,
      number.slice(-4),
      opts.status ?? 'active',
      pinHash(numberHash, pin, secret()),
      opts.expiresAt ?? null,
      account.id,
    ],
  );
  const balance = money(opts.balance ?? '1000.00');
  if (balance.gt(0)) {
    await ledger.post({
      kind: 'deposit',
      idempotencyKey: `test-deposit:${id}`,
      effectiveAt: new Date(),
      postings: [
        { accountId: program.budgetAccountId, side: 'debit', amount: balance },
        { accountId: account.id, side: 'credit', amount: balance },
      ],
    });
  }
  return { id, number, pin, accountId: account.id, programId: program.id, last4: number.slice(-4) };
}

export interface FixtureMerchant {
  id: string;
  apiKey: string;
  apiKeyId: string;
  payableAccountId: string;
  headers: { 'X-Api-Key': string };
}

/** A merchant affiliated through the admin API (its first key comes back once). */
export async function createMerchant(
  t: TestApp,
  admin: { auth: { Authorization: string } },
  opts: { category?: string; name?: string; bankAccount?: string; currency?: string } = {},
): Promise<FixtureMerchant> {
  const res = await t.http
    .post('/v1/merchants')
    .set(admin.auth)
    .send({
      name: opts.name ?? `Tienda ${randomUUID().slice(0, 6)}`,
      category: opts.category ?? 'grocery',
      address: { street: 'Av. Juárez 10', state: 'DF', postalCode: '06000' },
      ...(opts.bankAccount ? { bankAccount: opts.bankAccount } : {}),
      ...(opts.currency ? { currency: opts.currency } : {}),
    })
    .expect(201);
  return {
    id: res.body.id,
    apiKey: res.body.apiKey,
    apiKeyId: res.body.apiKeyId,
    payableAccountId: res.body.payableAccountId,
    headers: { 'X-Api-Key': res.body.apiKey },
  };
}

let keySeq = 0;
/** A fresh Idempotency-Key header. */
export function idem(): { 'Idempotency-Key': string } {
  return { 'Idempotency-Key': `k-${Date.now()}-${++keySeq}-${randomUUID().slice(0, 8)}` };
}
