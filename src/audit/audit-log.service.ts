import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { Principal } from '../common/auth/principal';
import { decodeCursor, encodeCursor } from './audit.rules';

export const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The public login route: its events are logins and failed logins. */
export const LOGIN_ROUTE = '/v1/auth/token';

/** What the HTTP layer knows about a finished state-changing request. */
export interface HttpOutcome {
  method: string;
  route: string | null;
  params: Record<string, unknown>;
  ip: string | null;
  requestId: string | null;
  principal: Principal | undefined;
  status: number;
  problemCode: string | null;
  /** Controller.method that served it (null when refused before reaching a handler). */
  handler: string | null;
  /** Login only: the username attempted (never the password) and, on success, the issued token. */
  loginUsername?: string | null;
  issuedToken?: string | null;
}

export interface EventFilter {
  actor?: string;
  action?: string;
  kind?: string;
  from?: string;
  to?: string;
  outcome?: 'success' | 'failure';
  status?: number;
}

const isIdCursor = (v: unknown): v is { id: string } => typeof v === 'object' && v !== null && /^\d+$/.test(String((v as { id: unknown }).id));

/** The append-only staff action log (audit_events). */
@Injectable()
export class AuditLogService {
  private readonly log = new Logger(AuditLogService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Writes one event; an audit write that fails is logged loudly but never changes the response. */
  async recordHttp(o: HttpOutcome): Promise<void> {
    try {
      const isLogin = o.route === LOGIN_ROUTE && o.method === 'POST';
      let actorType: 'staff' | 'merchant' | 'anonymous' = 'anonymous';
      let actorId: string | null = null;
      let actor: string | null = null;
      let role: string | null = null;
      if (o.principal?.kind === 'staff') {
        actorType = 'staff';
        actorId = o.principal.userId;
        actor = o.principal.username;
        role = o.principal.role;
      } else if (o.principal?.kind === 'merchant') {
        actorType = 'merchant';
        actorId = o.principal.merchantId;
        actor = `merchant:${o.principal.merchantId}`;
        role = 'merchant';
      } else if (isLogin && o.loginUsername) {
        actorType = 'staff';
        actor = o.loginUsername;
        const claims = o.issuedToken ? tokenClaims(o.issuedToken) : null;
        if (claims) {
          actorId = claims.sub;
          actor = claims.username;
          role = claims.role;
        }
      }
      const success = o.status < 400;
      const kind = isLogin ? (success ? 'login' : 'login_failed') : 'request';
      const route = o.route;
      await this.db.query(
        `INSERT INTO audit_events (at, kind, actor_type, actor_id, actor, role, method, route, action, handler, target, ip, request_id, status, outcome, problem_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $16, $10, $11, $12, $13, $14, $15)`,
        [
          this.clock.now(),
          kind,
          actorType,
          actorId,
          actor,
          role,
          o.method,
          route,
          `${o.method} ${route ?? '(no route)'}`,
          JSON.stringify(o.params ?? {}),
          o.ip,
          o.requestId,
          o.status,
          success ? 'success' : 'failure',
          o.problemCode,
          o.handler,
        ],
      );
    } catch (error) {
      this.log.error({ err: error, method: o.method, route: o.route, status: o.status, requestId: o.requestId }, 'could not write the audit event');
    }
  }

  async list(filter: EventFilter, limit: number, cursor: string | undefined) {
    const after = decodeCursor(cursor, isIdCursor);
    const rows = await this.db.query(
      `SELECT id::text, at, kind, actor_type AS "actorType", actor_id AS "actorId", actor, role, method, route, action, handler, target,
              ip, request_id AS "requestId", status, outcome, problem_code AS "problemCode"
         FROM audit_events
        WHERE ($1::bigint IS NULL OR id < $1)
          AND ($2::text IS NULL OR actor = $2 OR actor_id::text = $2)
          AND ($3::text IS NULL OR action = $3 OR route = $3 OR action LIKE $3 || '%')
          AND ($4::text IS NULL OR kind = $4)
          AND ($5::timestamptz IS NULL OR at >= $5)
          AND ($6::timestamptz IS NULL OR at < $6)
          AND ($7::text IS NULL OR outcome = $7)
          AND ($8::int IS NULL OR status = $8)
        ORDER BY id DESC
        LIMIT $9`,
      [after?.id ?? null, filter.actor ?? null, filter.action ?? null, filter.kind ?? null, filter.from ?? null, filter.to ?? null, filter.outcome ?? null, filter.status ?? null, limit + 1],
    );
    const data = rows.slice(0, limit).map((r: Record<string, unknown>) => ({ ...r, at: (r.at as Date).toISOString() }));
    return { data, nextCursor: rows.length > limit ? encodeCursor({ id: data[data.length - 1].id }) : null };
  }
}

/** Reads the claims of a token this service just issued (no verification needed: it is our own response). */
function tokenClaims(token: string): { sub: string; username: string; role: string } | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (typeof payload.sub === 'string' && typeof payload.username === 'string' && typeof payload.role === 'string') return payload;
  } catch {
    /* not a JWT */
  }
  return null;
}
