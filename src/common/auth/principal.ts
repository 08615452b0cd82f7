import { SetMetadata } from '@nestjs/common';

export const ROLES = ['admin', 'program_officer', 'finance_operator', 'finance_approver', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface StaffPrincipal {
  kind: 'staff';
  userId: string;
  username: string;
  role: Role;
}

export interface MerchantPrincipal {
  kind: 'merchant';
  merchantId: string;
  keyId: string;
  terminalId: string | null;
}

export type Principal = StaffPrincipal | MerchantPrincipal;

/** Who may call a route. Routes without this metadata are admin-only (deny by default). */
export interface AccessRule {
  public?: boolean;
  merchant?: boolean;
  roles?: Role[];
}

export const ACCESS_RULE = 'monedero:access';

/** No credentials needed (health, login, docs). */
export const Public = () => SetMetadata(ACCESS_RULE, { public: true } satisfies AccessRule);
/** Staff with one of these roles; `admin` always passes. */
export const Roles = (...roles: Role[]) => SetMetadata(ACCESS_RULE, { roles } satisfies AccessRule);
/** A merchant's point of sale, authenticated by X-Api-Key. */
export const MerchantOnly = () => SetMetadata(ACCESS_RULE, { merchant: true } satisfies AccessRule);

/** The caller's idempotency scope: keys of different callers never collide. */
export function principalScope(p: Principal): string {
  return p.kind === 'staff' ? `user:${p.userId}` : `merchant:${p.merchantId}`;
}

/** What the audit trail and journal entries record as the actor. */
export function actorOf(p: Principal): string {
  return p.kind === 'staff' ? `user:${p.username}` : `merchant:${p.merchantId}`;
}
