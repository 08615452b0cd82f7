import { withTransaction } from '../database/transaction';
import { isTimeZone } from '../common/calendar';
import { decodeCursor, pageOf } from '../common/pagination';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { sqlState, SQLSTATE } from '../common/db-errors';
import { formatMoney, money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import { INSTRUMENT_TYPES, InstrumentType, fixtureCode, readProgramFixtures, rulesForFiscalYear } from './program-fixtures';
import { ProgramRules } from './program-rules';
import { envelopeAccountCode, envelopeTarget, envelopeTopUps } from './envelopes.rules';

export interface Program {
  id: string;
  code: string;
  name: string;
  fiscalYear: number;
  instrumentType: InstrumentType;
  currency: string;
  timeZone: string;
  confidential: boolean;
  rules: ProgramRules;
  budgetAccountId: string;
  reintegroAccountId: string;
  createdBy: string | null;
  createdAt: Date;
}

export interface CreateProgramInput {
  code: string;
  name: string;
  fiscalYear: number;
  instrumentType: string;
  currency?: string;
  timeZone?: string;
  confidential?: boolean;
  rules: unknown;
}

export interface BudgetFigures {
  appropriated: Decimal;
  committed: Decimal;
  disbursed: Decimal;
  available: Decimal;
  reintegrated: Decimal;
}

const PROGRAM_COLUMNS = `id, code, name, fiscal_year AS "fiscalYear", instrument_type AS "instrumentType", currency,
  time_zone AS "timeZone", confidential, rules, budget_account_id AS "budgetAccountId",
  reintegro_account_id AS "reintegroAccountId", created_by AS "createdBy", created_at AS "createdAt"`;

export const TREASURY_ACCOUNT_CODE = (currency: string) => `treasury:${currency}`;

/** Programs: rules as validated data, their two ledger accounts, appropriations and budget figures. */
@Injectable()
export class ProgramsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
  ) {}

  /** Validates rules against the schema; 400 validation_failed listing every problem. */
  parseRules(rules: unknown, instrumentType: string): ProgramRules {
    const parsed = ProgramRules.safeParse(rules);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ field: ['rules', ...i.path].join('.'), messages: [i.message] }));
      throw problems.validation(errors.map((e) => `${e.field}: ${e.messages[0]}`).join('; '), errors);
    }
    const r = parsed.data;
    if (instrumentType === 'voucher' && !r.voucherExpiresOn) {
      throw problems.validation('rules.voucherExpiresOn: a voucher program needs an expiry date', [
        { field: 'rules.voucherExpiresOn', messages: ['required for voucher programs'] },
      ]);
    }
    if ((instrumentType === 'loan') !== (r.loan !== undefined)) {
      throw problems.validation('rules.loan: a loan program (instrumentType loan) has a loan product, and only a loan program has one', [
        { field: 'rules.loan', messages: ['required for loan programs, refused for the others'] },
      ]);
    }
    return r;
  }

  /** Creates the program and its ledger accounts (program:<id>:budget, program:<id>:reintegro) in one transaction, or in `within`. */
  async create(input: CreateProgramInput, actor: string | null, within?: Queryable): Promise<Program> {
    if (!(INSTRUMENT_TYPES as readonly string[]).includes(input.instrumentType)) {
      throw problems.validation(`instrumentType must be one of ${INSTRUMENT_TYPES.join(', ')}`);
    }
    const rules = this.parseRules(input.rules, input.instrumentType);
    const currency = input.currency ?? 'MXN';
    const timeZone = input.timeZone ?? 'America/Mexico_City';
    if (!isTimeZone(timeZone)) throw problems.validation(`timeZone ${timeZone} is not an IANA time zone`);
    const insert = async (m: Queryable) => {
      const id = randomUUID();
      const budget = await this.ledger.ensureAccount(
        { code: `program:${id}:budget`, name: `${input.code} budget`, category: 'program_budget', programId: id, currency, noNegativeBalance: true, ownerType: 'program', ownerId: id },
        m,
      );
      const reintegro = await this.ledger.ensureAccount(
        { code: `program:${id}:reintegro`, name: `${input.code} reintegro payable`, category: 'reintegro_payable', programId: id, currency, ownerType: 'program', ownerId: id },
        m,
      );
      await this.envelopeAccounts({ id, code: input.code, currency, rules }, m);
      const rows = await m.query(
        `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, currency, time_zone, rules, confidential, budget_account_id, reintegro_account_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${PROGRAM_COLUMNS}`,
        [id, input.code, input.name, input.fiscalYear, input.instrumentType, currency, timeZone, rules, input.confidential ?? false, budget.id, reintegro.id, actor],
      );
      return rows[0] as Program;
    };
    if (within) return insert(within);
    try {
      return await withTransaction(this.db, insert);
    } catch (error) {
      if (sqlState(error) === SQLSTATE.uniqueViolation) throw problems.conflict('duplicate_program', `a program with code ${input.code} exists`);
      throw error;
    }
  }

  async findById(id: string, q: Queryable = this.db): Promise<Program | null> {
    const rows = await q.query(`SELECT ${PROGRAM_COLUMNS} FROM programs WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async getById(id: string, q: Queryable = this.db): Promise<Program> {
    const program = await this.findById(id, q);
    if (!program) throw problems.notFound('program');
    return program;
  }

  async findByCode(code: string, q: Queryable = this.db): Promise<Program | null> {
    const rows = await q.query(`SELECT ${PROGRAM_COLUMNS} FROM programs WHERE code = $1`, [code]);
    return rows[0] ?? null;
  }

  /** Programs in code order, keyset-paged on the code. */
  async list(limit: number, cursor: string | undefined): Promise<{ data: Program[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, ['text'] as const);
    const rows: Program[] = await this.db.query(
      `SELECT ${PROGRAM_COLUMNS} FROM programs WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2`,
      [after?.[0] ?? null, limit + 1],
    );
    return pageOf(rows, limit, (p) => [p.code]);
  }

  /**
   * Budget figures from the ledger (docs/programs.md):
   *  appropriated = credits to the budget account by 'appropriation' entries, minus their reversals;
   *  available    = the available balance of the budget account and its envelopes (program_budget accounts);
   *  committed    = what approved cycles, grant awards and loans have reserved and not posted yet
   *                 (their cycle_commitment, grant_award and loan_commitment accounts);
   *  disbursed    = appropriated − available − committed (what left the budget: deposits, loads, tranches);
   *  reintegrated = everything ever credited to the program's reintegro account (bajas, expiries …).
   */
  async budget(program: Program, q: Queryable = this.db): Promise<BudgetFigures> {
    const appropriated = await this.appropriatedTotal(program, q);
    const reintegro = await this.ledger.balance(program.reintegroAccountId, q);
    const [sums] = await q.query(
      `SELECT coalesce(sum(posted - pending) FILTER (WHERE category = 'program_budget'), 0)::text AS available,
              coalesce(sum(posted) FILTER (WHERE category IN ('cycle_commitment', 'grant_award', 'loan_commitment')), 0)::text AS committed
         FROM ledger_balances WHERE program_id = $1 AND category IN ('program_budget', 'cycle_commitment', 'grant_award', 'loan_commitment')`,
      [program.id],
    );
    const available = money(sums.available);
    const committed = money(sums.committed);
    return {
      appropriated,
      committed,
      available,
      disbursed: appropriated.minus(available).minus(committed),
      reintegrated: reintegro.postedCredits,
    };
  }

  /** Credits to the budget account by 'appropriation' entries, minus their reversals. */
  private async appropriatedTotal(program: Program, q: Queryable): Promise<Decimal> {
    const rows = await q.query(
      `SELECT
         coalesce((SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                    WHERE p.account_id = $1 AND p.side = 'credit' AND e.kind = 'appropriation'), 0)
       - coalesce((SELECT sum(p.amount) FROM postings p
                     JOIN journal_entries e ON e.id = p.entry_id
                     JOIN journal_entries o ON o.id = e.reverses_entry_id AND o.kind = 'appropriation'
                    WHERE p.account_id = $1 AND p.side = 'debit'), 0) AS appropriated`,
      [program.budgetAccountId],
    );
    return money(String(rows[0].appropriated));
  }

  /**
   * Treasury → program budget, one journal entry, idempotent on the ledger key derived from the
   * request; then, in the same transaction, the program's envelopes are topped up from it.
   */
  async appropriate(
    programId: string,
    input: { amount: string; reference: string; ledgerKey: string },
    actor: string | null,
  ): Promise<{ id: string; programId: string; amount: string; reference: string; journalEntryId: string; createdAt: string; budget: Record<string, string> }> {
    const program = await this.getById(programId);
    const amount = money(input.amount);
    if (amount.lte(0)) throw problems.invalidAmount('amount must be greater than zero');
    const treasury = await this.ledger.ensureAccount({
      code: TREASURY_ACCOUNT_CODE(program.currency),
      name: `Tesorería ${program.currency}`,
      category: 'treasury',
      normalSide: 'debit',
      currency: program.currency,
    });
    const now = this.clock.now();
    const posted = await withTransaction(this.db, async (m) => {
      const entry = await this.ledger.post(
        {
          kind: 'appropriation',
          idempotencyKey: input.ledgerKey,
          effectiveAt: now,
          description: `Appropriation to ${program.code}: ${input.reference}`,
          metadata: { programId, reference: input.reference },
          createdBy: actor,
          postings: [
            { accountId: treasury.id, side: 'debit', amount },
            { accountId: program.budgetAccountId, side: 'credit', amount },
          ],
        },
        m,
      );
      await this.allocateEnvelopes(program, entry.entryId, actor, m);
      return entry;
    });
    return {
      id: posted.entryId,
      programId,
      amount: formatMoney(amount),
      reference: input.reference,
      journalEntryId: posted.entryId,
      createdAt: now.toISOString(),
      budget: formatBudget(await this.budget(program)),
    };
  }

  /**
   * Tops the program's envelopes up from its budget account after an appropriation (rules.envelopes;
   * docs/grants.md "Envelopes"): one entry 'envelope_allocation' per envelope, keyed by the
   * appropriation and the envelope, so a replayed appropriation allocates nothing twice. Concurrent
   * appropriations of one program allocate one after the other.
   */
  private async allocateEnvelopes(program: Program, appropriationEntryId: string, actor: string | null, m: Queryable): Promise<void> {
    const envelopes = program.rules.envelopes ?? [];
    if (!envelopes.length) return;
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('envelope-allocation'), hashtext($1::text))`, [program.id]);
    const accounts = await this.envelopeAccounts(program, m);
    const allocated: Array<{ accountId: string; amount: string }> = await m.query(
      `SELECT p.account_id AS "accountId", sum(p.amount)::text AS amount
         FROM postings p JOIN journal_entries e ON e.id = p.entry_id
        WHERE p.account_id = ANY ($1::uuid[]) AND p.side = 'credit' AND e.kind = 'envelope_allocation'
        GROUP BY p.account_id`,
      [[...accounts.values()].map((a) => a.id)],
    );
    const byAccount = new Map(allocated.map((r) => [r.accountId, money(r.amount)]));
    const topUps = envelopeTopUps(
      envelopes,
      await this.appropriatedTotal(program, m),
      new Map(envelopes.map((e) => [e.key, byAccount.get(accounts.get(e.key)!.id) ?? money('0')])),
      (await this.ledger.balance(program.budgetAccountId, m)).available,
    );
    for (const t of topUps) {
      await this.ledger.post(
        {
          kind: 'envelope_allocation',
          idempotencyKey: `envelope-allocation:${appropriationEntryId}:${t.key}`,
          effectiveAt: this.clock.now(),
          description: `${program.code}: budget to envelope ${t.key}`,
          metadata: { programId: program.id, envelope: t.key, component: t.key, appropriationEntryId },
          createdBy: actor,
          postings: [
            { accountId: program.budgetAccountId, side: 'debit', amount: t.amount },
            { accountId: accounts.get(t.key)!.id, side: 'credit', amount: t.amount },
          ],
        },
        m,
      );
    }
  }

  /** The envelope sub-accounts of the program (created on first use), by key. */
  async envelopeAccounts(program: Pick<Program, 'id' | 'code' | 'currency' | 'rules'>, q: Queryable = this.db): Promise<Map<string, { id: string; code: string }>> {
    const out = new Map<string, { id: string; code: string }>();
    for (const e of program.rules.envelopes ?? []) {
      const a = await this.ledger.ensureAccount(
        {
          code: envelopeAccountCode(program.id, e.key),
          name: `${program.code} envelope ${e.key}`,
          category: 'program_budget',
          programId: program.id,
          ownerType: 'program',
          ownerId: program.id,
          currency: program.currency,
          noNegativeBalance: true,
        },
        q,
      );
      out.set(e.key, { id: a.id, code: a.code });
    }
    return out;
  }

  /**
   * GET /v1/programs/{id}/envelopes: each envelope's target, what it received, what awards drew
   * from it (reserved in grant:<id>:award accounts or released) and what is available; plus the
   * budget account's own available money (awards of programs without award envelopes draw there).
   */
  async envelopes(program: Program) {
    const accounts = await this.envelopeAccounts(program);
    const appropriated = await this.appropriatedTotal(program, this.db);
    const ids = [...accounts.values()].map((a) => a.id);
    const rows: Array<{ accountId: string; available: string; allocated: string; drawn: string; returned: string }> = await this.db.query(
      `SELECT b.account_id AS "accountId", (b.posted - b.pending)::text AS available,
              coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit' AND e.kind = 'envelope_allocation'), 0)::text AS allocated,
              coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit' AND e.kind = 'grant_award'), 0)::text AS drawn,
              coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit' AND e.kind = 'grant_award_release'), 0)::text AS returned
         FROM ledger_balances b
         LEFT JOIN postings p ON p.account_id = b.account_id
         LEFT JOIN journal_entries e ON e.id = p.entry_id
        WHERE b.account_id = ANY ($1::uuid[])
        GROUP BY b.account_id, b.posted, b.pending`,
      [ids],
    );
    const byAccount = new Map(rows.map((r) => [r.accountId, r]));
    const budget = await this.ledger.balance(program.budgetAccountId);
    return {
      programId: program.id,
      appropriated: formatMoney(appropriated),
      unallocated: { accountId: program.budgetAccountId, available: formatMoney(budget.available) },
      envelopes: (program.rules.envelopes ?? []).map((e) => {
        const a = accounts.get(e.key)!;
        const r = byAccount.get(a.id);
        return {
          key: e.key,
          label: e.label,
          purpose: e.purpose,
          component: e.key,
          accountId: a.id,
          code: a.code,
          target: formatMoney(envelopeTarget(e, appropriated)),
          allocated: formatMoney(r?.allocated ?? '0'),
          awarded: formatMoney(money(r?.drawn ?? '0').minus(money(r?.returned ?? '0'))),
          available: formatMoney(r?.available ?? '0'),
        };
      }),
    };
  }

  /**
   * Loads every seed program of fixtures/programs/ (idempotent: a code that exists is left as it
   * is). With `fiscalYear` every code is <BASE>-<year> and every date moves to that year.
   * `appropriate` also appropriates each program's authorizedBudget once.
   */
  async loadFixtures(
    options: { fiscalYear?: number; appropriate?: boolean },
    actor: string | null,
  ): Promise<Array<{ code: string; id: string; created: boolean; appropriated: string | null }>> {
    const out: Array<{ code: string; id: string; created: boolean; appropriated: string | null }> = [];
    for (const fixture of readProgramFixtures()) {
      const year = options.fiscalYear ?? fixture.seedYear;
      const code = fixtureCode(fixture, year);
      let program = await this.findByCode(code);
      let created = false;
      if (!program) {
        try {
          program = await this.create(
            {
              code,
              name: `${fixture.name} ${year}`,
              fiscalYear: year,
              instrumentType: fixture.instrumentType,
              currency: fixture.currency,
              timeZone: fixture.timeZone,
              confidential: fixture.confidential,
              rules: rulesForFiscalYear(fixture.rules, fixture.seedYear, year),
            },
            actor,
          );
          created = true;
        } catch (error) {
          // Another loader won the race: the program exists now, which is what we wanted.
          if (!(error instanceof ApiProblem && error.code === 'duplicate_program')) throw error;
          program = (await this.findByCode(code))!;
        }
      }
      let appropriated: string | null = null;
      if (options.appropriate && program.rules.authorizedBudget && money(program.rules.authorizedBudget).gt(0)) {
        await this.appropriate(
          program.id,
          { amount: program.rules.authorizedBudget, reference: 'authorized budget (fixture)', ledgerKey: `appropriation:${program.id}:fixture-authorized-budget` },
          actor,
        );
        appropriated = formatMoney(program.rules.authorizedBudget);
      }
      out.push({ code, id: program.id, created, appropriated });
    }
    return out;
  }
}

export function formatBudget(b: BudgetFigures): Record<string, string> {
  return {
    appropriated: formatMoney(b.appropriated),
    committed: formatMoney(b.committed),
    disbursed: formatMoney(b.disbursed),
    available: formatMoney(b.available),
    reintegrated: formatMoney(b.reintegrated),
  };
}
