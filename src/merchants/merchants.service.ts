import { withTransaction } from '../database/transaction';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { generateApiKey } from '../common/auth/secrets';
import { MerchantKeyCache } from '../common/auth/merchant-key-cache';
import { Clock } from '../common/clock';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import type { CreateMerchantRequest } from './merchants.dto';
import { decodeCursor, pageOf } from '../common/pagination';

const MERCHANT_COLUMNS = `m.id, m.name, m.category, m.address, m.bank_account AS "bankAccount", m.status,
  m.payable_account_id AS "payableAccountId", m.created_at AS "createdAt", m.status_changed_at AS "statusChangedAt",
  (SELECT a.currency FROM ledger_accounts a WHERE a.id = m.payable_account_id) AS currency`;

export interface MerchantView {
  id: string;
  name: string;
  category: string;
  address: Record<string, unknown>;
  bankAccount: string | null;
  status: 'active' | 'suspended';
  payableAccountId: string;
  createdAt: Date;
  statusChangedAt: Date | null;
  /** The currency the merchant takes: its payable's (a card of another currency is refused). */
  currency: string;
}

/** Affiliation of merchants and their API keys and terminals (admin use cases). */
@Injectable()
export class MerchantsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    private readonly keyCache: MerchantKeyCache,
  ) {}

  /** Affiliates a merchant: its payable account (hot, deferred totals) and a first API key, shown once. */
  async create(input: CreateMerchantRequest, actor: string): Promise<MerchantView & { apiKey: string; apiKeyId: string }> {
    const id = randomUUID();
    return withTransaction(this.db, async (tx) => {
      const payable = await this.ledger.ensureAccount(
        {
          code: `merchant:${id}:payable`,
          name: `Merchant payable ${input.name}`,
          category: 'merchant_payable',
          ownerType: 'merchant',
          ownerId: id,
          deferredTotals: true,
          currency: input.currency ?? 'MXN',
        },
        tx,
      );
      await tx.query(
        `INSERT INTO merchants (id, name, category, address, bank_account, payable_account_id, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, input.name, input.category, JSON.stringify(input.address), input.bankAccount ?? null, payable.id, actor, this.clock.now()],
      );
      const key = await this.insertKey(tx, id, null);
      const merchant = (await this.find(id, tx))!;
      return { ...merchant, apiKey: key.apiKey, apiKeyId: key.id };
    });
  }

  async find(id: string, q: Queryable = this.db): Promise<MerchantView | null> {
    const rows = await q.query(`SELECT ${MERCHANT_COLUMNS} FROM merchants m WHERE m.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async get(id: string): Promise<MerchantView & { apiKeys: unknown[]; terminals: unknown[] }> {
    const merchant = await this.find(id);
    if (!merchant) throw problems.notFound('merchant');
    const apiKeys = await this.db.query(
      `SELECT id, key_prefix AS "prefix", terminal_id AS "terminalId", created_at AS "createdAt", revoked_at AS "revokedAt"
         FROM merchant_api_keys WHERE merchant_id = $1 ORDER BY created_at, id`,
      [id],
    );
    const terminals = await this.db.query(
      `SELECT id, label, created_at AS "createdAt" FROM merchant_terminals WHERE merchant_id = $1 ORDER BY created_at, id`,
      [id],
    );
    return { ...merchant, apiKeys, terminals };
  }

  /** Oldest first, keyset-paged on (created_at, id). */
  async list(limit: number, cursor: string | undefined): Promise<{ data: MerchantView[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, ['timestamp', 'uuid'] as const);
    const rows: Array<MerchantView & { cursorAt: string }> = await this.db.query(
      `SELECT ${MERCHANT_COLUMNS}, m.created_at::text AS "cursorAt" FROM merchants m
        WHERE ($1::timestamptz IS NULL OR (m.created_at, m.id) > ($1::timestamptz, $2::uuid))
        ORDER BY m.created_at, m.id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return pageOf(rows, limit, (m) => [m.cursorAt, m.id], ({ cursorAt: _key, ...m }) => m);
  }

  /** A new key (rotation = create a new one, then revoke the old). The key is returned only here. */
  async createApiKey(merchantId: string, terminalId: string | null): Promise<{ id: string; apiKey: string; prefix: string; terminalId: string | null }> {
    return withTransaction(this.db, async (tx) => {
      const merchant = await tx.query(`SELECT 1 FROM merchants WHERE id = $1`, [merchantId]);
      if (!merchant[0]) throw problems.notFound('merchant');
      if (terminalId) {
        const t = await tx.query(`SELECT 1 FROM merchant_terminals WHERE id = $1 AND merchant_id = $2`, [terminalId, merchantId]);
        if (!t[0]) throw problems.notFound('terminal');
      }
      return this.insertKey(tx, merchantId, terminalId);
    });
  }

  async revokeApiKey(merchantId: string, keyId: string): Promise<{ id: string; revokedAt: Date }> {
    const rows = await this.db.query(
      `WITH u AS (UPDATE merchant_api_keys SET revoked_at = coalesce(revoked_at, $3)
                   WHERE id = $1 AND merchant_id = $2 RETURNING id, revoked_at AS "revokedAt")
       SELECT * FROM u`,
      [keyId, merchantId, this.clock.now()],
    );
    if (!rows[0]) throw problems.notFound('API key');
    this.keyCache.forget({ keyId });
    return rows[0];
  }

  async setStatus(merchantId: string, status: 'active' | 'suspended'): Promise<MerchantView> {
    const rows = await this.db.query(
      `WITH u AS (UPDATE merchants SET status = $2, status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE $3 END
                   WHERE id = $1 RETURNING id)
       SELECT * FROM u`,
      [merchantId, status, this.clock.now()],
    );
    if (!rows[0]) throw problems.notFound('merchant');
    return (await this.find(merchantId))!;
  }

  async createTerminal(merchantId: string, label: string): Promise<{ id: string; merchantId: string; label: string; createdAt: Date }> {
    const merchant = await this.find(merchantId);
    if (!merchant) throw problems.notFound('merchant');
    const rows = await this.db.query(
      `INSERT INTO merchant_terminals (merchant_id, label, created_at) VALUES ($1, $2, $3)
       RETURNING id, merchant_id AS "merchantId", label, created_at AS "createdAt"`,
      [merchantId, label, this.clock.now()],
    );
    return rows[0];
  }

  private async insertKey(q: Queryable, merchantId: string, terminalId: string | null) {
    const key = generateApiKey();
    const rows = await q.query(
      `INSERT INTO merchant_api_keys (merchant_id, terminal_id, key_prefix, key_hash, created_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [merchantId, terminalId, key.prefix, key.hash, this.clock.now()],
    );
    if (!rows[0]) throw new ApiProblem(500, 'internal_error', 'API key not stored');
    return { id: rows[0].id as string, apiKey: key.key, prefix: key.prefix, terminalId };
  }
}
