import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import Decimal from 'decimal.js';
import { money } from '../common/money';
import { ApiProblem } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { entryProblem } from './ledger.rules';
import type { Account, AccountSpec, Balance, EntryInput, Hold, PostResult } from './ledger.types';

const ACCOUNT_COLUMNS = `id, code, name, category, normal_side AS "normalSide", program_id AS "programId",
  owner_type AS "ownerType", owner_id AS "ownerId", currency, no_negative_balance AS "noNegativeBalance",
  deferred_totals AS "deferredTotals"`;

/**
 * The TypeScript face of the ledger, the only code that writes ledger tables (its SQL functions,
 * src/ledger/sql/, are the rest). Every method takes an optional Queryable so callers
 * can include ledger writes in their own transaction; each write is one SQL function call.
 */
@Injectable()
export class LedgerService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Creates the account, or returns the existing one with the same code (idempotent). */
  async ensureAccount(spec: AccountSpec, q: Queryable = this.db): Promise<Account> {
    const rows = await q.query(
      `WITH ins AS (
         INSERT INTO ledger_accounts (code, name, category, normal_side, program_id, owner_type, owner_id, currency, no_negative_balance, deferred_totals)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (code) DO NOTHING
         RETURNING ${ACCOUNT_COLUMNS})
       SELECT * FROM ins
       UNION ALL
       SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE code = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [
        spec.code,
        spec.name,
        spec.category,
        spec.normalSide ?? 'credit',
        spec.programId ?? null,
        spec.ownerType ?? null,
        spec.ownerId ?? null,
        spec.currency ?? 'MXN',
        spec.noNegativeBalance ?? false,
        spec.deferredTotals ?? false,
      ],
    );
    return rows[0];
  }

  /**
   * Set-based ensureAccount for many accounts that share everything but code, name and owner
   * (e.g. one instrument account per card in a bulk issuance): one INSERT … SELECT FROM unnest,
   * idempotent on code. Returns the account ids in the order of `items`.
   */
  async ensureAccountsBulk(
    common: Omit<AccountSpec, 'code' | 'name' | 'ownerId'>,
    items: Array<{ id?: string; code: string; name: string; ownerId?: string | null }>,
    q: Queryable = this.db,
  ): Promise<string[]> {
    if (!items.length) return [];
    const codes = items.map((i) => i.code);
    await q.query(
      `INSERT INTO ledger_accounts (id, code, name, category, normal_side, program_id, owner_type, owner_id, currency, no_negative_balance, deferred_totals)
       SELECT coalesce(t.id, gen_random_uuid()), t.code, t.name, $4, $5, $6, $7, t.owner_id, $8, $9, $10
         FROM unnest($1::text[], $2::text[], $3::uuid[], $11::uuid[]) AS t(code, name, owner_id, id)
       ON CONFLICT (code) DO NOTHING`,
      [
        codes,
        items.map((i) => i.name),
        items.map((i) => i.ownerId ?? null),
        common.category,
        common.normalSide ?? 'credit',
        common.programId ?? null,
        common.ownerType ?? null,
        common.currency ?? 'MXN',
        common.noNegativeBalance ?? false,
        common.deferredTotals ?? false,
        items.map((i) => i.id ?? null),
      ],
    );
    const rows: Array<{ id: string }> = await q.query(
      `SELECT a.id FROM unnest($1::text[]) WITH ORDINALITY AS t(code, n) JOIN ledger_accounts a ON a.code = t.code ORDER BY t.n`,
      [codes],
    );
    if (rows.length !== items.length) throw new Error('ensureAccountsBulk: some accounts are missing after insert');
    return rows.map((r) => r.id);
  }

  async findAccount(id: string, q: Queryable = this.db): Promise<Account | null> {
    const rows = await q.query(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findAccountByCode(code: string, q: Queryable = this.db): Promise<Account | null> {
    const rows = await q.query(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE code = $1`, [code]);
    return rows[0] ?? null;
  }

  /** Posts one balanced entry (one round trip). Same idempotency key → the first entry, replayed. */
  async post(entry: EntryInput, q: Queryable = this.db): Promise<PostResult> {
    const problem = entryProblem(entry.postings);
    if (problem) throw new Error(`invalid journal entry: ${problem}`);
    const rows = await q.query(
      `SELECT entry_id AS "entryId", replayed FROM ledger_post($1, $2, $3, $4::uuid[], $5::text[], $6::numeric[], $7, $8, $9)`,
      [
        entry.kind,
        entry.idempotencyKey ?? null,
        entry.effectiveAt,
        entry.postings.map((p) => p.accountId),
        entry.postings.map((p) => p.side),
        entry.postings.map((p) => p.amount.toFixed()),
        entry.description ?? null,
        entry.metadata ?? {},
        entry.createdBy ?? null,
      ],
    );
    return rows[0];
  }

  /** Posts the mirror image of an entry. An entry can be reversed once; the ledger never edits. */
  async reverse(
    entryId: string,
    opts: { effectiveAt: Date; createdBy?: string | null; reason?: string; idempotencyKey?: string | null },
    q: Queryable = this.db,
  ): Promise<PostResult> {
    const rows = await q.query(
      `SELECT r.entry_id AS "entryId", r.replayed
         FROM (SELECT array_agg(account_id ORDER BY id) AS accounts,
                      array_agg(CASE side WHEN 'debit' THEN 'credit' ELSE 'debit' END ORDER BY id) AS sides,
                      array_agg(amount ORDER BY id) AS amounts
                 FROM postings WHERE entry_id = $1) p,
              LATERAL ledger_post('reversal', $2, $3, p.accounts, p.sides, p.amounts, $4,
                                  jsonb_build_object('reverses', $1::text), $5, $1::uuid) r
        WHERE p.accounts IS NOT NULL`,
      [entryId, opts.idempotencyKey ?? `reversal:${entryId}`, opts.effectiveAt, opts.reason ?? null, opts.createdBy ?? null],
    );
    if (!rows[0]) throw new ApiProblem(404, 'not_found', 'journal entry not found');
    return rows[0];
  }

  async authorizeHold(
    input: { accountId: string; amount: Decimal; expiresAt: Date; now: Date; idempotencyKey?: string | null; metadata?: Record<string, unknown> },
    q: Queryable = this.db,
  ): Promise<{ holdId: string; replayed: boolean }> {
    const rows = await q.query(
      `SELECT hold_id AS "holdId", replayed FROM ledger_hold_authorize($1, $2::numeric, $3, $4, $5, $6)`,
      [input.accountId, input.amount.toFixed(), input.expiresAt, input.now, input.idempotencyKey ?? null, input.metadata ?? {}],
    );
    return rows[0];
  }

  /** Captures part (or all, when amount is omitted) of an authorized, unexpired hold. */
  async captureHold(
    input: {
      holdId: string;
      amount?: Decimal | null;
      destinationAccountId: string;
      now: Date;
      kind?: string;
      idempotencyKey?: string | null;
      metadata?: Record<string, unknown>;
      createdBy?: string | null;
    },
    q: Queryable = this.db,
  ): Promise<string> {
    const rows = await q.query(`SELECT ledger_hold_capture($1, $2::numeric, $3, $4, $5, $6, $7, $8) AS "entryId"`, [
      input.holdId,
      input.amount ? input.amount.toFixed() : null,
      input.destinationAccountId,
      input.now,
      input.kind ?? 'capture',
      input.idempotencyKey ?? null,
      input.metadata ?? {},
      input.createdBy ?? null,
    ]);
    return rows[0].entryId;
  }

  /** Voids or expires an authorized hold; false when it was already resolved. */
  async releaseHold(holdId: string, status: 'voided' | 'expired', now: Date, q: Queryable = this.db): Promise<boolean> {
    const rows = await q.query(`SELECT ledger_hold_release($1, $2, $3) AS released`, [holdId, status, now]);
    return rows[0].released;
  }

  /** Releases holds whose time is up; returns how many. */
  /** Creates the monthly partitions of postings from this month to `months` ahead (ledger_postings_months_ahead). */
  async ensurePostingsMonths(months = 3, q: Queryable = this.db): Promise<number> {
    const rows = await q.query(`SELECT ledger_postings_months_ahead($1) AS n`, [months]);
    return rows[0].n;
  }

  async expireHolds(now: Date, limit = 10000, q: Queryable = this.db): Promise<number> {
    const rows = await q.query(`SELECT ledger_expire_holds($1, $2) AS n`, [now, limit]);
    return rows[0].n;
  }

  async findHold(holdId: string, q: Queryable = this.db): Promise<Hold | null> {
    const rows = await q.query(
      `SELECT id, account_id AS "accountId", amount, status, captured_amount AS "capturedAmount",
              expires_at AS "expiresAt", capture_entry_id AS "captureEntryId"
         FROM ledger_holds WHERE id = $1`,
      [holdId],
    );
    const r = rows[0];
    return r ? { ...r, amount: money(r.amount), capturedAmount: r.capturedAmount ? money(r.capturedAmount) : null } : null;
  }

  /** Folds appended deltas of hot accounts into their rows; returns how many deltas. */
  async rollup(accountId: string | null = null, q: Queryable = this.db): Promise<number> {
    const rows = await q.query(`SELECT ledger_rollup($1) AS n`, [accountId]);
    return rows[0].n;
  }

  async balance(accountId: string, q: Queryable = this.db): Promise<Balance> {
    const rows = await q.query(
      `SELECT posted, pending, posted_debits AS "postedDebits", posted_credits AS "postedCredits"
         FROM ledger_balances WHERE account_id = $1`,
      [accountId],
    );
    if (!rows[0]) throw new ApiProblem(404, 'not_found', 'account not found');
    const posted = money(rows[0].posted);
    const pending = money(rows[0].pending);
    return {
      posted,
      pending,
      available: posted.minus(pending),
      postedDebits: money(rows[0].postedDebits),
      postedCredits: money(rows[0].postedCredits),
    };
  }

  /** Posted balance from the postings effective at or before `at` (index-only range scan). */
  async balanceAsOf(accountId: string, at: Date, q: Queryable = this.db): Promise<Decimal> {
    const rows = await q.query(
      `SELECT coalesce(sum(CASE p.side WHEN a.normal_side THEN p.amount ELSE -p.amount END), 0) AS balance
         FROM ledger_accounts a LEFT JOIN postings p ON p.account_id = a.id AND p.effective_at <= $2
        WHERE a.id = $1`,
      [accountId, at],
    );
    return money(rows[0].balance);
  }

  async findEntry(entryId: string, q: Queryable = this.db) {
    const rows = await q.query(
      `SELECT e.id, e.kind, e.effective_at AS "effectiveAt", e.description, e.metadata, e.created_by AS "createdBy",
              e.reverses_entry_id AS "reversesEntryId",
              json_agg(json_build_object('accountId', p.account_id, 'side', p.side, 'amount', p.amount::text) ORDER BY p.id) AS postings
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE e.id = $1 GROUP BY e.id`,
      [entryId],
    );
    return rows[0] ?? null;
  }
}
