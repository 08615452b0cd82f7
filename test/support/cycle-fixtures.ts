import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { money } from '../../src/common/money';
import type { Queryable } from '../../src/database/queryable';
import { LedgerService } from '../../src/ledger/ledger.service';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';

/**
 * Fixtures of the cycles tests and benchmark, made directly with set-based SQL + LedgerService
 * (independent of the padrón module): programs with their ledger accounts, an appropriation,
 * beneficiaries and instruments with their `instrument:<id>` accounts.
 */

/** The rules of a seed program as shipped in fixtures/programs/. */
export function fixtureRules(base: string): ProgramRules {
  const fixture = readProgramFixtures().find((f) => f.base === base);
  if (!fixture) throw new Error(`no fixture ${base}`);
  return fixture.rules;
}

/** Rules of the cycle tests' programs (parsed with the shared schema); the seed programs' own rules are in fixtures/programs. */
export const RULES = {
  pension: {
    benefit: { type: 'unidades_de_cuenta', unitValue: '71.68', factor: '15' },
    schedule: { frequency: 'monthly', dayOfMonth: 1 },
  },
  uniformes: {
    benefit: { type: 'fixed', amount: '150.00' },
    schedule: { frequency: 'loads', count: 2 },
    voucherExpiresOn: '2016-12-31',
  },
  utiles: {
    benefit: { type: 'by_attribute', attribute: 'schoolLevel', amounts: { preescolar: '60.00', primaria: '110.00', secundaria: '150.00' } },
    schedule: { frequency: 'loads', count: 1 },
    voucherExpiresOn: '2016-12-31',
  },
  /** Bank-paid programs: their rules from the fixture files (the seguro premium needs its insurer, payouts need onBaja). */
  seguro: fixtureRules('SEGURO-VF'),
  desempleo: fixtureRules('DESEMPLEO'),
  /** A generic grant in three tranches (not a seed program: the seed grant programs are in fixtures/programs). */
  threeTranches: {
    benefit: { type: 'per_award' },
    schedule: { frequency: 'tranches' },
    tranchePlan: [
      { share: '0.5', proofDueBusinessDays: 20 },
      { share: '0.3', proofDueBusinessDays: 20 },
      { share: '0.2', proofDueBusinessDays: 20 },
    ],
  },
} as const;

export type RulesName = keyof typeof RULES;

export interface ProgramFixture {
  id: string;
  code: string;
  budgetAccountId: string;
  reintegroAccountId: string;
}

export async function treasury(ledger: LedgerService, q?: Queryable) {
  return ledger.ensureAccount({ code: 'treasury:MXN', name: 'Tesorería', category: 'treasury', normalSide: 'debit' }, q);
}

/** A program with its budget and reintegro accounts, and optionally a budget. */
export async function createProgram(
  db: DataSource,
  ledger: LedgerService,
  opts: { rules: RulesName | Record<string, unknown>; instrumentType?: string; fiscalYear?: number; budget?: string; code?: string },
): Promise<ProgramFixture> {
  const rules = ProgramRules.parse(typeof opts.rules === 'string' ? RULES[opts.rules] : opts.rules);
  const id = randomUUID();
  const code = opts.code ?? `${typeof opts.rules === 'string' ? opts.rules.toUpperCase() : 'TEST'}-${id.slice(0, 8)}`;
  const instrumentType =
    opts.instrumentType ??
    (rules.benefit.type === 'per_award' ? 'grant' : rules.schedule?.frequency === 'loads' ? 'voucher' : rules.split ? 'bank_account' : 'card');
  const budget = await ledger.ensureAccount({ code: `program:${id}:budget`, name: `${code} budget`, category: 'program_budget', programId: id, noNegativeBalance: true });
  const reintegro = await ledger.ensureAccount({ code: `program:${id}:reintegro`, name: `${code} reintegro`, category: 'reintegro_payable', programId: id });
  await db.query(
    `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, rules, budget_account_id, reintegro_account_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, code, `Test ${code}`, opts.fiscalYear ?? 2016, instrumentType, JSON.stringify(rules), budget.id, reintegro.id],
  );
  const program = { id, code, budgetAccountId: budget.id, reintegroAccountId: reintegro.id };
  if (opts.budget) await appropriate(ledger, program, opts.budget);
  return program;
}

/** Treasury → program budget (kind 'appropriation'). */
export async function appropriate(ledger: LedgerService, program: ProgramFixture, amount: string, q?: Queryable): Promise<void> {
  const t = await treasury(ledger, q);
  await ledger.post(
    {
      kind: 'appropriation',
      idempotencyKey: `test-appropriation:${randomUUID()}`,
      effectiveAt: new Date('2016-01-01T06:00:00Z'),
      postings: [
        { accountId: t.id, side: 'debit', amount: money(amount) },
        { accountId: program.budgetAccountId, side: 'credit', amount: money(amount) },
      ],
    },
    q,
  );
}

export interface BeneficiaryOptions {
  incorporatedOn?: string;
  /** attributes of every beneficiary, or SQL picking one by g (1..n), e.g. a school level. */
  attributes?: Record<string, unknown>;
  attributesSql?: string;
  instrument?: 'active' | 'blocked' | 'issued' | 'none';
  instrumentKind?: 'card' | 'voucher';
  expiresAt?: string | null;
  /** Bank details (a valid CLABE made from the folio) for bank-paid programs. */
  bankAccount?: boolean;
}

/**
 * n beneficiaries (active) with one instrument each and its `instrument:<id>` account, set-based
 * (generate_series), so a million takes seconds. Returns the ids in beneficiary id order.
 */
export async function addBeneficiaries(
  db: Queryable,
  programId: string,
  n: number,
  opts: BeneficiaryOptions = {},
): Promise<Array<{ beneficiaryId: string; instrumentId: string | null; accountId: string | null }>> {
  const attributes = opts.attributesSql ? `(${opts.attributesSql}) || $3::jsonb` : `$3::jsonb`;
  const batch = randomUUID().slice(0, 8);
  await db.query(
    `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on, attributes)
     SELECT $1, 'T-' || $4 || '-' || g, upper(substr(md5($4 || g::text), 1, 16)) || 'X' || (g % 10)::text, 'Nombre', 'Apellido',
            DATE '1940-01-01', '{"state":"DF"}', $2::date, $2::date, ${attributes}
       FROM generate_series(1, $5::int) g`,
    [programId, opts.incorporatedOn ?? '2016-01-01', JSON.stringify(opts.attributes ?? {}), batch, n],
  );
  const instrument = opts.instrument ?? 'active';
  if (instrument !== 'none') {
    await db.query(
      `WITH b AS MATERIALIZED (
         SELECT id AS beneficiary_id, gen_random_uuid() AS instrument_id, gen_random_uuid() AS account_id
           FROM beneficiaries WHERE program_id = $1 AND folio LIKE 'T-' || $2 || '-%'),
       acc AS (
         INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id, currency, no_negative_balance)
         SELECT account_id, 'instrument:' || instrument_id, 'instrument', 'instrument', 'credit', $1, 'instrument', instrument_id, 'MXN', true FROM b
         RETURNING id)
       INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, expires_at, account_id, delivered_at)
       SELECT b.instrument_id, b.beneficiary_id, $1, $3, 'test:' || b.instrument_id, '0000', $4, $5::timestamptz, b.account_id, now()
         FROM b WHERE (SELECT count(*) FROM acc) >= 0`,
      [programId, batch, opts.instrumentKind ?? 'card', instrument, opts.expiresAt ?? null],
    );
  }
  if (opts.bankAccount) await addBankAccounts(db, programId, `T-${batch}-%`);
  return db.query(
    `SELECT b.id AS "beneficiaryId", i.id AS "instrumentId", i.account_id AS "accountId"
       FROM beneficiaries b LEFT JOIN instruments i ON i.beneficiary_id = b.id
      WHERE b.program_id = $1 AND b.folio LIKE 'T-' || $2 || '-%' ORDER BY b.id`,
    [programId, batch],
  );
}

/**
 * Bank details for the beneficiaries of a program whose folio matches `folioLike`, set-based: a
 * CLABE of 17 digits from a hash of the folio and its check digit (weights 3, 7, 1).
 */
export async function addBankAccounts(db: Queryable, programId: string, folioLike: string): Promise<void> {
  await db.query(
    `WITH d AS (SELECT b.id, b.program_id, lpad((('x' || substr(md5(b.folio), 1, 15))::bit(60)::bigint % 100000000000000000)::text, 17, '0') AS d17
                  FROM beneficiaries b WHERE b.program_id = $1 AND b.folio LIKE $2)
     INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
     SELECT 'beneficiary', d.id, d.program_id,
            d.d17 || ((10 - (SELECT sum((substr(d.d17, i, 1)::int * (ARRAY[3, 7, 1])[(i - 1) % 3 + 1]) % 10) FROM generate_series(1, 17) i)::int % 10) % 10)::text,
            'NOMBRE APELLIDO', 1, 'test:fixtures', now()
       FROM d`,
    [programId, folioLike],
  );
  await db.query(
    `INSERT INTO payee_bank_account_history (owner_kind, owner_id, program_id, version, clabe, holder_name, source, changed_by, changed_at)
     SELECT a.owner_kind, a.owner_id, a.program_id, a.version, a.clabe, a.holder_name, 'staff', a.updated_by, a.updated_at
       FROM payee_bank_accounts a JOIN beneficiaries b ON b.id = a.owner_id
      WHERE a.owner_kind = 'beneficiary' AND b.program_id = $1 AND b.folio LIKE $2`,
    [programId, folioLike],
  );
}

/** Posted balance of an account (credit-normal: credits − debits). */
export async function balanceOf(db: Queryable, accountId: string): Promise<string> {
  const rows = await db.query(`SELECT posted::text AS posted FROM ledger_balances WHERE account_id = $1`, [accountId]);
  return money(rows[0].posted).toFixed(2);
}

/** Waits until the cycle reaches one of the statuses (polling the database). */
export async function waitForCycle(db: Queryable, cycleId: string, statuses: string[], timeoutMs = 30000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.query(`SELECT * FROM disbursement_cycles WHERE id = $1`, [cycleId]);
    if (rows[0] && statuses.includes(rows[0].status)) return rows[0];
    if (Date.now() > deadline) throw new Error(`cycle ${cycleId} is ${rows[0]?.status}, not ${statuses.join('/')}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every line posted exactly once, and control totals = posted totals + exceptions, from the ledger itself. */
export async function ledgerTotalsOfCycle(db: Queryable, cycleId: string) {
  const rows = await db.query(
    `SELECT (SELECT count(*)::int FROM journal_entries e WHERE e.idempotency_key LIKE 'cycle:' || $1::text || ':line:%') AS entries,
            (SELECT count(*)::int FROM (SELECT e.metadata ->> 'beneficiaryId' FROM journal_entries e
                                         WHERE e.idempotency_key LIKE 'cycle:' || $1::text || ':line:%' GROUP BY 1 HAVING count(*) > 1) d) AS duplicates,
            (SELECT coalesce(sum(p.amount), 0)::text FROM journal_entries e JOIN postings p ON p.entry_id = e.id AND p.side = 'debit'
              WHERE e.idempotency_key LIKE 'cycle:' || $1::text || ':line:%') AS debited,
            (SELECT count(*)::int FROM cycle_line_exceptions WHERE cycle_id = $1::uuid) AS exceptions`,
    [cycleId],
  );
  return rows[0] as { entries: number; duplicates: number; debited: string; exceptions: number };
}

/**
 * Every beneficiary of the program meets every monthly obligation of its rules (Seguro's
 * signature, Desempleo's cartilla: docs/conditional.md) from the month of the incorporation to
 * `through` (YYYY-MM), met on each period's first day, set-based: for tests about something else
 * that pay many months, so nobody is suspended by an obligation they did not mean to test.
 */
export async function meetObligations(db: Queryable, programId: string, through: string): Promise<void> {
  await db.query(
    `INSERT INTO beneficiary_obligations (id, program_id, beneficiary_id, kind, period, met_on, recorded_by, recorded_at)
     SELECT gen_random_uuid(), b.program_id, b.id, o ->> 'kind', to_char(m, 'YYYY-MM'), m::date, 'test:meetObligations', now()
       FROM beneficiaries b JOIN programs p ON p.id = b.program_id
       CROSS JOIN LATERAL jsonb_array_elements(COALESCE(p.rules -> 'obligations', '[]'::jsonb)) o
       CROSS JOIN LATERAL generate_series(date_trunc('month', b.incorporated_on), to_date($2, 'YYYY-MM'), interval '1 month') m
      WHERE b.program_id = $1
     ON CONFLICT (beneficiary_id, kind, period) DO NOTHING`,
    [programId, through],
  );
}
