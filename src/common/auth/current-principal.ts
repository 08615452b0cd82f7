import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { problems } from '../problem';
import type { AuthenticatedRequest } from './auth.guard';
import type { MerchantPrincipal, Principal, StaffPrincipal } from './principal';

function principalOf(ctx: ExecutionContext): Principal {
  const p = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!p) throw problems.unauthenticated();
  return p;
}

/** The authenticated staff user of the request. */
export const CurrentStaff = createParamDecorator((_: unknown, ctx: ExecutionContext): StaffPrincipal => {
  const p = principalOf(ctx);
  if (p.kind !== 'staff') throw problems.forbidden();
  return p;
});

/** The merchant whose API key signed the request. */
export const CurrentMerchant = createParamDecorator((_: unknown, ctx: ExecutionContext): MerchantPrincipal => {
  const p = principalOf(ctx);
  if (p.kind !== 'merchant') throw problems.forbidden();
  return p;
});
