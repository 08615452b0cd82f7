import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { MerchantPrincipal } from '../common/auth/principal';
import { instrumentNumberHash, pinHash } from '../common/auth/secrets';
import { Clock } from '../common/clock';
import { formatMoney } from '../common/money';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../ops/metrics.service';
import type { CaptureRequest, RedeemRequest, RefundRequest } from './merchants.dto';
import { RedemptionBatcher } from './redemption-batcher';
import { Body, Facts, refundBody, refusal, renderRedemption, resolutionBody } from './redemption-outcomes';
import { decodeCursor, encodeCursor, maskInstrumentNumber, parseTimeRange } from './merchants.rules';

/** The Idempotency-Key of a request whose record is written by the SQL function itself. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  fingerprint: string;
}


/**
 * Redemptions, authorizations (holds), captures, voids and refunds of merchants. Each use case
 * is one SQL function call (one round trip, one transaction; redemptions and authorizations
 * share theirs with concurrent ones, see RedemptionBatcher); refusals come back as problem
 * documents, so their audit record (and a wrong-PIN count) persist while nothing is posted.
 */
@Injectable()
export class RedemptionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly batcher: RedemptionBatcher,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Absent in CLI contexts (no OpsModule): nothing is counted there.
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** Direct redemption (`redeem`) or authorization (`authorize`), posted by the group-commit batcher. */
  async redeem(op: 'redeem' | 'authorize', merchant: MerchantPrincipal, input: RedeemRequest, idem: IdempotencyClaim): Promise<Body> {
    const numberHash = instrumentNumberHash(input.instrumentNumber, this.config.INSTRUMENT_NUMBER_SECRET);
    const outcome = await this.batcher.submit({
      op,
      merchantId: merchant.merchantId,
      terminalId: merchant.terminalId,
      apiKeyId: merchant.keyId,
      numberHash,
      pinHash: pinHash(numberHash, input.pin, this.config.INSTRUMENT_NUMBER_SECRET),
      amount: input.amount,
      reference: input.reference ?? null,
      at: this.clock.now(),
      idemScope: idem.scope,
      idemKey: idem.key,
      idemHash: idem.fingerprint,
    });
    this.count(op, outcome);
    return renderRedemption(outcome);
  }

  async capture(merchant: MerchantPrincipal, id: string, input: CaptureRequest): Promise<Body> {
    return this.resolve('capture', merchant, id, input.amount ?? null);
  }

  async void(merchant: MerchantPrincipal, id: string): Promise<Body> {
    return this.resolve('void', merchant, id, null);
  }

  async refund(merchant: MerchantPrincipal, redemptionId: string, input: RefundRequest): Promise<Body> {
    const [row]: Array<{ outcome: string; facts: Facts }> = await this.db.query(
      `SELECT o_outcome AS outcome, o_facts AS facts FROM merchant_refund($1, $2, $3, $4::numeric, $5, $6)`,
      [merchant.merchantId, merchant.terminalId, redemptionId, input.amount, input.reference ?? null, this.clock.now()],
    );
    if (row.outcome !== 'refunded') throw refusal(row.outcome, row.facts);
    return refundBody(row.facts ?? {});
  }

  /** One redemption or authorization of this merchant (403 for another merchant's). */
  async get(merchant: MerchantPrincipal, id: string): Promise<Body> {
    const rows = await this.db.query(`${TRANSACTION_ROWS} SELECT * FROM tx`, [[id], [], this.clock.now()]);
    const row = rows[0];
    if (!row) throw refusal('not_found', null);
    if (row.merchantId !== merchant.merchantId) throw refusal('forbidden', null);
    return view(row);
  }

  /**
   * The merchant's redemptions, authorizations and refunds, oldest first, keyset-paginated. Each
   * table gives at most a page from its (merchant, created_at, id) index past the cursor, the two
   * are merged, and only the page's rows are then read in full: a page costs what a page costs,
   * however long the merchant's history (bench: `npm run bench -- lists`).
   */
  async transactions(merchantId: string, q: { from?: unknown; to?: unknown; limit: number; cursor?: unknown }) {
    const range = parseTimeRange(q.from, q.to, this.config.DEFAULT_TIME_ZONE);
    const cursor = decodeCursor(q.cursor);
    const keys: Array<{ id: string; refund: boolean; cursorAt: string }> = await this.db.query(
      `SELECT id, refund, at::text AS "cursorAt" FROM (
         (SELECT r.id, false AS refund, r.created_at AS at FROM redemptions r
           WHERE r.merchant_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND (r.created_at, r.id) > ($4::timestamptz, $5::uuid)
           ORDER BY r.created_at, r.id LIMIT $6)
         UNION ALL
         (SELECT f.id, true, f.created_at FROM redemption_refunds f
           WHERE f.merchant_id = $1 AND f.created_at >= $2 AND f.created_at < $3 AND (f.created_at, f.id) > ($4::timestamptz, $5::uuid)
           ORDER BY f.created_at, f.id LIMIT $6)) k
        ORDER BY at, id LIMIT $6`,
      [
        merchantId,
        range.from ?? '-infinity',
        range.to ?? 'infinity',
        cursor?.at ?? '-infinity',
        cursor?.id ?? '00000000-0000-0000-0000-000000000000',
        q.limit + 1,
      ],
    );
    const page = keys.slice(0, q.limit);
    const rows: Array<Record<string, any>> = await this.db.query(`${TRANSACTION_ROWS} SELECT * FROM tx ORDER BY "createdAt", id`, [
      page.filter((k) => !k.refund).map((k) => k.id),
      page.filter((k) => k.refund).map((k) => k.id),
      this.clock.now(),
    ]);
    const last = page[page.length - 1];
    return { data: rows.map(view), nextCursor: keys.length > q.limit ? encodeCursor({ at: last.cursorAt, id: last.id }) : null };
  }

  async settlements(merchantId: string, q: { limit: number; cursor?: unknown }) {
    const cursor = decodeCursor(q.cursor);
    const rows = await this.db.query(
      `SELECT id, statement_id AS "statementId", business_date::text AS "businessDate", currency,
              captures_count AS "capturesCount", captures_total::text AS "capturesTotal",
              refunds_count AS "refundsCount", refunds_total::text AS "refundsTotal", net_amount::text AS "netAmount",
              entry_id AS "entryId", created_at AS "createdAt", created_at::text AS "cursorAt"
         FROM settlements
        WHERE merchant_id = $1 AND (created_at, id) > ($2::timestamptz, $3::uuid)
        ORDER BY created_at, id LIMIT $4`,
      [merchantId, cursor?.at ?? '-infinity', cursor?.id ?? '00000000-0000-0000-0000-000000000000', q.limit + 1],
    );
    const data = rows.slice(0, q.limit).map(({ cursorAt, ...row }: Record<string, unknown>) => row);
    const last = rows[q.limit - 1];
    return { data, nextCursor: rows.length > q.limit ? encodeCursor({ at: last.cursorAt, id: last.id }) : null };
  }

  private async resolve(op: 'capture' | 'void', merchant: MerchantPrincipal, id: string, amount: string | null): Promise<Body> {
    const [row]: Array<{ outcome: string; facts: Facts }> = await this.db.query(
      `SELECT o_outcome AS outcome, o_facts AS facts FROM merchant_resolve_authorization($1, $2, $3, $4, $5::numeric, $6)`,
      [op, merchant.merchantId, merchant.terminalId, id, amount, this.clock.now()],
    );
    this.count(op, row);
    if (row.outcome !== 'captured' && row.outcome !== 'voided') throw refusal(row.outcome, row.facts, 'authorization');
    return resolutionBody(row.facts ?? {});
  }

  /** monedero_redemptions_total{operation, outcome}: captured, authorized, voided, the refusal code, or replayed. */
  private count(operation: string, row: { outcome: string; replayed?: boolean }): void {
    this.metrics?.redemptions.inc({ operation, outcome: row.replayed ? 'replayed' : row.outcome });
  }
}

/**
 * Redemptions ($1: ids) and refunds ($2: ids) as rows of one list, read by primary key. An
 * authorization's status comes from its hold: the expiry job releases holds in the ledger, and
 * one past its time ($3: now) is shown expired even before.
 */
const TRANSACTION_ROWS = `
WITH tx AS (
  SELECT r.id, CASE r.kind WHEN 'direct' THEN 'redemption' ELSE 'authorization' END AS type, r.merchant_id AS "merchantId",
         CASE WHEN r.status = 'authorized' AND h.status <> 'authorized' THEN h.status
              WHEN r.status = 'authorized' AND h.expires_at <= $3 THEN 'expired'
              ELSE r.status END AS status,
         r.amount::text AS "authorizedAmount", r.captured_amount::text AS "capturedAmount", r.refunded_amount::text AS "refundedAmount",
         r.instrument_last4 AS last4, r.reference, r.terminal_id AS "terminalId", NULL::uuid AS "redemptionId",
         r.created_at AS "createdAt", r.captured_at AS "capturedAt", r.expires_at AS "expiresAt", r.settlement_id AS "settlementId"
    FROM redemptions r LEFT JOIN ledger_holds h ON h.id = r.hold_id
   WHERE r.id = ANY ($1::uuid[])
  UNION ALL
  SELECT f.id, 'refund', f.merchant_id, 'refunded', NULL, f.amount::text, NULL, r.instrument_last4, f.reference, NULL, f.redemption_id,
         f.created_at, NULL, NULL, f.settlement_id
    FROM redemption_refunds f JOIN redemptions r ON r.id = f.redemption_id
   WHERE f.id = ANY ($2::uuid[]))`;

function view(row: Record<string, any>): Body {
  const amount = row.type === 'authorization' && !row.capturedAmount ? row.authorizedAmount : row.capturedAmount;
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    amount: formatMoney(amount),
    ...(row.type === 'authorization' ? { authorizedAmount: formatMoney(row.authorizedAmount) } : {}),
    ...(row.type !== 'refund' ? { refundedAmount: formatMoney(row.refundedAmount) } : { redemptionId: row.redemptionId }),
    instrumentNumber: maskInstrumentNumber(row.last4),
    reference: row.reference,
    terminalId: row.terminalId,
    createdAt: new Date(row.createdAt).toISOString(),
    capturedAt: row.capturedAt ? new Date(row.capturedAt).toISOString() : null,
    expiresAt: row.expiresAt ? new Date(row.expiresAt).toISOString() : null,
    settlementId: row.settlementId,
  };
}
