import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { catchError, from, Observable, switchMap } from 'rxjs';
import type { FastifyRequest } from 'fastify';
import { ApiProblem, ReplayedResponse } from '../problem';
import { toProblem } from '../problem.filter';
import { principalScope, Principal } from '../auth/principal';
import { IdempotencyService } from './idempotency.service';
import { isRememberedStatus, isValidIdempotencyKey, requestFingerprint } from './idempotency.rules';

const IDEMPOTENT = 'monedero:idempotent';

/**
 * Marks a POST that moves money: it requires an Idempotency-Key (API.md "Conventions"). The
 * interceptor runs on these routes only: as a global one it cost every other request Nest's
 * interceptor plumbing (async-resource binding, rxjs) for nothing.
 * `{ optional: true }`: a POST that moves no money and whose contract names no key (a complaint's
 * intake) honours a key when the client sends one, and runs plainly without.
 */
export const Idempotent = (options: { optional?: boolean } = {}) =>
  applyDecorators(SetMetadata(IDEMPOTENT, options.optional ? 'optional' : 'required'), UseInterceptors(IdempotencyInterceptor));

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: IdempotencyService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const mode = this.reflector.get<'required' | 'optional' | undefined>(IDEMPOTENT, context.getHandler());
    if (!mode) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const key = request.headers['idempotency-key'];
    if (key === undefined && mode === 'optional') return next.handle();
    if (key === undefined) throw new ApiProblem(400, 'idempotency_key_required', 'This request needs an Idempotency-Key header');
    if (!isValidIdempotencyKey(key)) {
      throw new ApiProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
    }
    const scope = request.principal ? principalScope(request.principal) : 'anonymous';
    const path = request.url.split('?')[0];
    const fingerprint = requestFingerprint(request.method, path, request.body);
    const successStatus = this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? (request.method === 'POST' ? 201 : 200);

    return from(this.keys.start(scope, key, fingerprint)).pipe(
      switchMap((start) => {
        switch (start.kind) {
          case 'replay':
            throw new ReplayedResponse(start.status, start.body);
          case 'reused':
            throw new ApiProblem(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
          case 'in_flight':
            throw new ApiProblem(409, 'request_in_progress', 'A request with this Idempotency-Key is still being processed');
        }
        return next.handle().pipe(
          switchMap(async (body) => {
            await this.keys.complete(scope, key, successStatus, body);
            return body;
          }),
          catchError(async (error: unknown) => {
            const problem = toProblem(error);
            if (isRememberedStatus(problem.status)) await this.keys.complete(scope, key, problem.status, problem.toBody());
            else await this.keys.forget(scope, key);
            throw error;
          }),
        );
      }),
    );
  }
}
