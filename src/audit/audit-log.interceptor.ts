import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

export interface AuditTaggedRequest {
  auditHandler?: string;
}

/**
 * Global interceptor of the staff action log: tags each request that reaches a handler with the
 * handler's name. The event itself is written by the Fastify onSend hook that AuditModule installs
 * (audit-log.hook.ts), because guards run before interceptors: an interceptor alone would never
 * see the requests the AuthGuard refuses (401/403) — exactly the attempts auditors look for.
 */
@Injectable()
export class AuditLogInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<AuditTaggedRequest>();
      request.auditHandler = `${context.getClass().name}.${context.getHandler().name}`;
    }
    return next.handle();
  }
}
