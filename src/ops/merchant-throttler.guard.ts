import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { ACCESS_RULE, AccessRule } from '../common/auth/principal';
import { ApiProblem } from '../common/problem';

/**
 * Rate limit of merchant routes, per API key, in the memory of each API process (a merchant
 * never waits on Redis). Staff routes are limited by the login lockout instead.
 */
@Injectable()
export class MerchantThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]);
    return !rule?.merchant;
  }

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    // The AuthGuard (a global guard registered earlier, so it ran first) has already hashed the key.
    if (req.principal?.kind === 'merchant') return `key:${req.principal.keyId}`;
    const key = req.headers?.['x-api-key'];
    return typeof key === 'string' ? createHash('sha256').update(key).digest('hex').slice(0, 32) : `ip:${req.ip}`;
  }

  /** One budget per API key across the merchant routes, as MERCHANT_RATE_LIMIT_PER_SECOND says (no hashing: the tracker is already an id). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    context.switchToHttp().getResponse<{ header(name: string, value: string): unknown }>().header('Retry-After', String(seconds));
    throw new ApiProblem(429, 'rate_limited', `Too many requests for this API key; retry in ${seconds} s`);
  }
}
