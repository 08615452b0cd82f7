import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

export interface AuditTaggedRequest {
  auditHandler?: string;
}

/**
 * Tags each request that gets past authentication with the Controller.method that serves it, for
 * the staff action log. The event itself is written by the Fastify onSend hook that AuditModule
 * installs (audit-log.hook.ts), because a request the AuthGuard refuses (401/403) never reaches
 * Nest's later stages — exactly the attempts auditors look for.
 *
 * A guard (global guards run in module order, so after AuthGuard), not an interceptor: the only
 * global interceptor made every request pay for Nest's interceptor chain (an AsyncResource bind
 * and an rxjs pipeline, ~4% of the API's CPU on a redemption) just to set one field.
 */
@Injectable()
export class AuditHandlerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() === 'http') {
      context.switchToHttp().getRequest<AuditTaggedRequest>().auditHandler = `${context.getClass().name}.${context.getHandler().name}`;
    }
    return true;
  }
}
