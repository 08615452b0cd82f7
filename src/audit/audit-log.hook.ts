import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../common/auth/principal';
import { storableText } from '../common/input-guard';
import { AuditLogService, LOGIN_ROUTE, MUTATING_METHODS } from './audit-log.service';

type AuditedRequest = FastifyRequest & { principal?: Principal; auditHandler?: string };

/**
 * Records every state-changing staff request (POST/PUT/PATCH/DELETE on a known route) once its answer
 * is known, before it is sent: who, role, what (method + route pattern), target (route params),
 * when, from where (ip), outcome (status, problem code). Logins are the public POST /v1/auth/token:
 * the username attempted is kept, never the password.
 */
export function installAuditHook(fastify: FastifyInstance, audit: AuditLogService): void {
  fastify.addHook('onSend', async (request: AuditedRequest, reply: FastifyReply, payload: unknown) => {
    if (!MUTATING_METHODS.has(request.method)) return payload;
    // A merchant's point-of-sale traffic is recorded where it belongs (redemptions, refunds and
    // redemption_attempts, written in the same transaction); keeping it out of the staff action
    // log spares every redemption a second commit. Refused keys (no principal) are still logged.
    if (request.principal?.kind === 'merchant') return payload;
    const route = request.routeOptions?.url ?? null;
    if (!route) return payload;
    const status = reply.statusCode;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
    let problemCode: string | null = null;
    let issuedToken: string | null = null;
    if (body && status >= 400 && /problem\+json/.test(String(reply.getHeader('content-type') ?? ''))) {
      problemCode = safeJson(body)?.code ?? null;
    }
    let loginUsername: string | null = null;
    if (route === LOGIN_ROUTE) {
      const attempted = (request.body as { username?: unknown } | undefined)?.username;
      loginUsername = typeof attempted === 'string' ? storableText(attempted.slice(0, 100)) : null;
      if (status === 200 && body) issuedToken = safeJson(body)?.accessToken ?? null;
    }
    await audit.recordHttp({
      method: request.method,
      route,
      // A refused request may carry text PostgreSQL cannot store (input-guard.ts): recorded as U+FFFD.
      params: Object.fromEntries(Object.entries(request.params ?? {}).map(([k, v]) => [k, typeof v === 'string' ? storableText(v) : v])),
      ip: request.ip ?? null,
      requestId: (reply.getHeader('x-request-id') as string | undefined) ?? String(request.id ?? '') ?? null,
      principal: request.principal,
      status,
      problemCode,
      handler: request.auditHandler ?? null,
      loginUsername,
      issuedToken,
    });
    return payload;
  });
}

function safeJson(body: string): Record<string, string> | null {
  try {
    const v = JSON.parse(body);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}
