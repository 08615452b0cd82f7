import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { Principal } from '../common/auth/principal';
import { decodeCursor, pageOf } from '../common/pagination';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Queryable } from '../database/queryable';
import type { AuditEventsQuery } from './audit.dto';
import { boundInstantText } from './audit.rules';

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

/** The append-only staff action log (audit_events). */
@Injectable()
export class AuditLogService {
  private readonly log = new Logger(AuditLogService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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

  /**
   * Newest first, keyset-paged on the numeric id (the cursor carries the last id). `to` includes
   * its date or instant (audit.rules boundInstantText).
   */
  async list(q: AuditEventsQuery, db: Queryable = this.db) {
    const after = decodeCursor(q.cursor, ['int'] as const);
    const tz = this.config.DEFAULT_TIME_ZONE;
    const outcome = q.outcome === 'success' || q.outcome === 'failure' ? q.outcome : null;
    const status = q.outcome && /^\d+$/.test(q.outcome) ? Number(q.outcome) : null;
    // ORDER BY names the table's column: the output column `id` is text, and ordering by it
    // ("10" < "9") broke the keyset (issue 22 item 0).
    const rows = await db.query(
      `SELECT e.id::text AS id, e.at, e.kind, e.actor_type AS "actorType", e.actor_id AS "actorId", e.actor, e.role, e.method, e.route, e.action,
              e.handler, e.target, e.ip, e.request_id AS "requestId", e.status, e.outcome, e.problem_code AS "problemCode"
         FROM audit_events e
        WHERE ($1::bigint IS NULL OR e.id < $1::bigint)
          AND ($2::text IS NULL OR e.actor = $2 OR e.actor_id::text = $2)
          AND ($3::text IS NULL OR e.action = $3 OR e.route = $3 OR e.action LIKE $3 || '%')
          AND ($4::text IS NULL OR e.kind = $4)
          AND ($5::timestamptz IS NULL OR e.at >= $5)
          AND ($6::timestamptz IS NULL OR e.at < $6)
          AND ($7::text IS NULL OR e.outcome = $7)
          AND ($8::int IS NULL OR e.status = $8)
        ORDER BY e.id DESC
        LIMIT $9`,
      [
        after?.[0] ?? null,
        q.actor ?? null,
        q.action ?? null,
        q.kind ?? null,
        q.from ? boundInstantText(q.from, 'start', tz) : null,
        q.to ? boundInstantText(q.to, 'end', tz) : null,
        outcome,
        status,
        q.limit + 1,
      ],
    );
    return pageOf(
      rows as Array<Record<string, unknown> & { id: string; at: Date }>,
      q.limit,
      (r) => [r.id],
      (r) => ({ ...r, at: r.at.toISOString() }),
    );
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
