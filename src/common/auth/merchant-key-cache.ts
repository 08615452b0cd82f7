import { Injectable } from '@nestjs/common';
import type { MerchantPrincipal } from './principal';

/**
 * Valid merchant keys are remembered for a few seconds, so a till's request costs one database
 * round trip (the redemption itself) instead of two. Revoking a key forgets it here at once; other
 * API processes stop accepting it within `ttlMs`. Unknown keys are never cached.
 */
@Injectable()
export class MerchantKeyCache {
  static readonly ttlMs = 2000;
  private static readonly maxEntries = 50_000;
  private readonly entries = new Map<string, { principal: MerchantPrincipal; until: number }>();

  get(keyHash: string): MerchantPrincipal | undefined {
    const hit = this.entries.get(keyHash);
    if (hit && hit.until > Date.now()) return hit.principal;
    if (hit) this.entries.delete(keyHash);
    return undefined;
  }

  remember(keyHash: string, principal: MerchantPrincipal): void {
    if (this.entries.size >= MerchantKeyCache.maxEntries) this.entries.clear();
    this.entries.set(keyHash, { principal, until: Date.now() + MerchantKeyCache.ttlMs });
  }

  /** Forgets every cached key of these merchants or key ids (revocation, suspension). */
  forget(match: { merchantId?: string; keyId?: string }): void {
    for (const [hash, { principal }] of this.entries) {
      if (principal.merchantId === match.merchantId || principal.keyId === match.keyId) this.entries.delete(hash);
    }
  }
}
