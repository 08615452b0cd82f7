import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { problems } from '../problem';
import { hashApiKey } from './secrets';
import { MerchantKeyCache } from './merchant-key-cache';
import { ACCESS_RULE, AccessRule, MerchantPrincipal, Principal, ROLES, Role, StaffPrincipal } from './principal';

export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

interface TokenClaims {
  sub: string;
  username: string;
  role: Role;
  /** The user's token version when the token was issued (tokens from before versions count as 0). */
  ver?: number;
}

/** Global guard: staff by JWT with a role check, merchants by API key, or public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly merchantKeys: MerchantKeyCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]) ?? {};
    if (rule.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (rule.merchant) {
      // A valid staff token on a merchant route is authenticated but not allowed: 403, not 401.
      if (request.headers['x-api-key'] === undefined && request.headers['authorization'] !== undefined) {
        request.principal = await this.staffFromToken(request);
        throw problems.forbidden('This route is for merchants (X-Api-Key)');
      }
      request.principal = await this.merchantFromApiKey(request);
      return true;
    }
    const staff = await this.staffFromToken(request);
    request.principal = staff;
    if (staff.role === 'admin') return true;
    if (!rule.roles?.includes(staff.role)) throw problems.forbidden(`The ${staff.role} role may not do this`);
    return true;
  }

  private async staffFromToken(request: AuthenticatedRequest): Promise<StaffPrincipal> {
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header) : null;
    if (!match) throw problems.unauthenticated('Send Authorization: Bearer <token> from POST /v1/auth/token');
    let claims: TokenClaims;
    try {
      claims = await this.jwt.verifyAsync<TokenClaims>(match[1]);
    } catch {
      throw problems.unauthenticated('The token is invalid or has expired');
    }
    // Checked on every request so that deactivation and password changes end sessions at once, in
    // every API process (one primary-key read; merchants' requests never come here).
    const rows: Array<{ username: string; role: Role; active: boolean; tokenVersion: number }> = await this.db.query(
      `SELECT username, role, active, token_version AS "tokenVersion" FROM staff_users WHERE id = $1`,
      [claims.sub],
    );
    const user = rows[0];
    if (!user || !user.active || user.tokenVersion !== (claims.ver ?? 0) || !ROLES.includes(user.role)) {
      throw problems.unauthenticated('The session has ended; log in again');
    }
    return { kind: 'staff', userId: claims.sub, username: user.username, role: user.role };
  }

  private async merchantFromApiKey(request: AuthenticatedRequest): Promise<Principal> {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
      throw problems.unauthenticated('Send X-Api-Key with the merchant key');
    }
    const hash = hashApiKey(key);
    const cached = this.merchantKeys.get(hash);
    if (cached) return cached;
    const rows = await this.db.query(
      `SELECT id, merchant_id AS "merchantId", terminal_id AS "terminalId"
         FROM merchant_api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    if (!rows[0]) throw problems.unauthenticated('The API key is not valid');
    const principal: MerchantPrincipal = { kind: 'merchant', merchantId: rows[0].merchantId, keyId: rows[0].id, terminalId: rows[0].terminalId };
    this.merchantKeys.remember(hash, principal);
    return principal;
  }
}
