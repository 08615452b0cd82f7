import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem, problems, ReplayedResponse } from './problem';
import { problemFromDatabaseError } from './db-errors';

/** Turns anything thrown while serving a request into an RFC 9457 problem document. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly log = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof ReplayedResponse) {
      const type = error.status >= 400 ? 'application/problem+json' : 'application/json';
      void reply.status(error.status).header('idempotent-replayed', 'true').header('content-type', `${type}; charset=utf-8`).send(error.body);
      return;
    }
    const problem = toProblem(error);
    // The request (its id, method and path) is named here: logs carry no request context of their own.
    if (problem.status >= 500) {
      const request = host.switchToHttp().getRequest<FastifyRequest>();
      this.log.error({ err: error, req: { id: request.id, method: request.method, url: request.url } }, problem.detail);
    }
    void reply.status(problem.status).header('content-type', 'application/problem+json; charset=utf-8').send(problem.toBody());
  }
}

export function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const fromDb = problemFromDatabaseError(error);
  if (fromDb) return fromDb;
  if (error instanceof HttpException) return fromHttpException(error);
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    return fromStatus(fastifyError.statusCode, fastifyError.message ?? 'Bad request');
  }
  return new ApiProblem(500, 'internal_error', 'An unexpected error occurred');
}

function fromHttpException(error: HttpException): ApiProblem {
  const status = error.getStatus();
  const response = error.getResponse();
  const message =
    typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? error.message);
  return fromStatus(status, message);
}

function fromStatus(status: number, message: string): ApiProblem {
  switch (status) {
    case 400:
      return problems.validation(/json/i.test(message) ? 'The request body is not valid JSON' : message);
    case 401:
      return problems.unauthenticated();
    case 403:
      return problems.forbidden();
    case 404:
      return new ApiProblem(404, 'not_found', 'No such resource');
    case 405:
      return new ApiProblem(405, 'method_not_allowed', message);
    case 413:
      return new ApiProblem(413, 'payload_too_large', 'The request body is too large');
    case 415:
      return new ApiProblem(415, 'unsupported_media_type', 'Send application/json');
    case 503:
      return problems.unavailable(message);
    case 429:
      return new ApiProblem(429, 'rate_limited', 'Too many requests; slow down');
    default:
      return status >= 500
        ? new ApiProblem(500, 'internal_error', 'An unexpected error occurred')
        : new ApiProblem(status, 'bad_request', message);
  }
}
