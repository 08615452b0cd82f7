import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiHeader, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { MerchantOnly, MerchantPrincipal, principalScope } from '../common/auth/principal';
import { CurrentMerchant } from '../common/auth/current-principal';
import { Idempotent } from '../common/idempotency/idempotency.interceptor';
import { isValidIdempotencyKey, requestFingerprint } from '../common/idempotency/idempotency.rules';
import { ApiProblem } from '../common/problem';
import { CaptureRequest, RedeemRequest, RefundRequest } from './merchants.dto';
import { ListQuery } from '../common/pagination';
import { MerchantTransactionsQuery } from './merchants.dto';
import { IdempotencyClaim, RedemptionsService } from './redemptions.service';

const IDEMPOTENCY_HEADER = { name: 'Idempotency-Key', required: true, description: '1–255 printable ASCII characters' };

/**
 * The Idempotency-Key of the two hot routes is recorded by the redemption's own SQL function
 * (same table and contract as @Idempotent(), one commit instead of three); here it is only
 * checked and fingerprinted exactly as the interceptor does.
 */
function claimOf(request: FastifyRequest, merchant: MerchantPrincipal): IdempotencyClaim {
  const key = request.headers['idempotency-key'];
  if (key === undefined) throw new ApiProblem(400, 'idempotency_key_required', 'This request needs an Idempotency-Key header');
  if (!isValidIdempotencyKey(key)) throw new ApiProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
  return { scope: principalScope(merchant), key, fingerprint: requestFingerprint(request.method, request.url.split('?')[0], request.body) };
}

/** What a merchant's point of sale calls, authenticated by X-Api-Key. */
@ApiTags('redemptions')
@ApiSecurity('merchant-key')
@MerchantOnly()
@Controller('v1')
export class RedemptionsController {
  constructor(private readonly redemptions: RedemptionsService) {}

  /** 201 `{ id, status: "captured", amount, instrumentNumber (masked), createdAt }`. */
  @Post('redemptions')
  @ApiHeader(IDEMPOTENCY_HEADER)
  redeem(@CurrentMerchant() merchant: MerchantPrincipal, @Body() body: RedeemRequest, @Req() request: FastifyRequest) {
    return this.redemptions.redeem('redeem', merchant, body, claimOf(request, merchant));
  }

  /** 201 hold `{ id, status: "authorized", amount, expiresAt }`. */
  @Post('authorizations')
  @ApiHeader(IDEMPOTENCY_HEADER)
  authorize(@CurrentMerchant() merchant: MerchantPrincipal, @Body() body: RedeemRequest, @Req() request: FastifyRequest) {
    return this.redemptions.redeem('authorize', merchant, body, claimOf(request, merchant));
  }

  @Post('authorizations/:id/capture')
  @HttpCode(200)
  @Idempotent()
  @ApiHeader(IDEMPOTENCY_HEADER)
  capture(@CurrentMerchant() merchant: MerchantPrincipal, @Param('id', new ParseUUIDPipe()) id: string, @Body() body: CaptureRequest) {
    return this.redemptions.capture(merchant, id, body ?? {});
  }

  @Post('authorizations/:id/void')
  @HttpCode(200)
  @Idempotent()
  @ApiHeader(IDEMPOTENCY_HEADER)
  void(@CurrentMerchant() merchant: MerchantPrincipal, @Param('id', new ParseUUIDPipe()) id: string) {
    return this.redemptions.void(merchant, id);
  }

  @Post('redemptions/:id/refunds')
  @Idempotent()
  @ApiHeader(IDEMPOTENCY_HEADER)
  refund(@CurrentMerchant() merchant: MerchantPrincipal, @Param('id', new ParseUUIDPipe()) id: string, @Body() body: RefundRequest) {
    return this.redemptions.refund(merchant, id, body);
  }

  @Get('redemptions/:id')
  get(@CurrentMerchant() merchant: MerchantPrincipal, @Param('id', new ParseUUIDPipe()) id: string) {
    return this.redemptions.get(merchant, id);
  }

  @Get('authorizations/:id')
  getAuthorization(@CurrentMerchant() merchant: MerchantPrincipal, @Param('id', new ParseUUIDPipe()) id: string) {
    return this.redemptions.get(merchant, id);
  }

  /** `?from&to` (dates in the business time zone, or ISO instants), `limit`, `cursor`. */
  @Get('merchant/transactions')
  transactions(@CurrentMerchant() merchant: MerchantPrincipal, @Query() query: MerchantTransactionsQuery) {
    return this.redemptions.transactions(merchant.merchantId, query);
  }

  @Get('merchant/settlements')
  settlements(@CurrentMerchant() merchant: MerchantPrincipal, @Query() query: ListQuery) {
    return this.redemptions.settlements(merchant.merchantId, query);
  }
}
