import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { inputProblem } from './common/input-guard';
import { documentValidationBounds } from './common/openapi-bounds';
import { createValidationPipe } from './common/validation';
import { MetricsService } from './ops/metrics.service';
import { mountQueueDashboard } from './ops/queue-dashboard';

/** Largest request body accepted; larger ones get 413 payload_too_large. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The route of a bank's results file (docs/payouts.md): about 5 MB for a 100,000-line batch, JSON or CSV. */
const PAYOUT_RESULTS_ROUTE = '/v1/payout-batches/:id/results';

/** The route of a bank's loan repayment file (docs/loans.md): about 4 MB for 100,000 payments. */
const LOAN_REPAYMENTS_ROUTE = '/v1/programs/:id/loan-repayments/import';

/** Routes that take bigger bodies than BODY_LIMIT_BYTES. */
export const LARGE_BODY_ROUTES: Readonly<Record<string, number>> = { [PAYOUT_RESULTS_ROUTE]: 64 * 1024 * 1024, [LOAN_REPAYMENTS_ROUTE]: 16 * 1024 * 1024 };

/** Routes that take a text/csv body (as a string); every other route still answers 415. */
const CSV_ROUTES: ReadonlySet<string> = new Set([PAYOUT_RESULTS_ROUTE, LOAN_REPAYMENTS_ROUTE]);

export function createFastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: true,
    requestIdHeader: false,
    genReqId: requestId,
    // Errors Fastify's router raises before Nest sees the request (bad URL encoding, an
    // over-long path parameter) are problem documents too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 400;
      const code = status === 414 ? 'uri_too_long' : 'validation_failed';
      void reply
        .status(status)
        .header('content-type', 'application/problem+json; charset=utf-8')
        .send({ type: `https://monedero.example/problems/${code.replace(/_/g, '-')}`, title: 'Bad Request', status, detail: 'The request URL is not valid', code });
    },
  });
}

/** A well-formed incoming X-Request-Id is kept, otherwise a new one is made (Fastify's request.id). */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
}

/** Everything an HTTP app needs beyond its modules; used by main.ts and by the tests. */
export async function configureHttpApp(app: NestFastifyApplication): Promise<void> {
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  // Before Nest registers its routes (at init): the few routes allowed a larger body get it.
  fastify.addHook('onRoute', (route) => {
    const limit = LARGE_BODY_ROUTES[route.url];
    if (limit) route.bodyLimit = limit;
  });
  // CSV uploads (a bank's results file) arrive as a string; the route parses them.
  fastify.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) => {
    if (CSV_ROUTES.has(request.routeOptions.url ?? '')) return done(null, body);
    done(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), undefined);
  });
  // Request ids and one completion line per request from Fastify hooks, on the root logger (level,
  // redaction, serializers of the LoggerModule). No pino-http: it builds a child logger per request
  // even when its lines are below the level, and no AsyncLocalStorage context per request (see the
  // LoggerModule in app.module.ts).
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // Text PostgreSQL cannot store and bodies too deep to validate are refused here, once for every
  // route, before the validation pipe or any SQL sees them (src/common/input-guard.ts).
  fastify.addHook('preValidation', (request, _reply, done) => {
    done(inputProblem(request.params, 'path') ?? inputProblem(request.query, 'query') ?? inputProblem(request.body, 'body') ?? undefined);
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttp(request.method, request.routeOptions?.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    logCompletedRequest(request, reply);
    done();
  });
  await mountQueueDashboard(app);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Monedero API')
      .setDescription('Ledger for the money of public social programs. Errors are RFC 9457 problem documents.')
      .setVersion('1')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', name: 'X-Api-Key', in: 'header' }, 'merchant-key')
      .build(),
  );
  documentValidationBounds(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/** pino-http's line ("request completed", or "request errored" at error level for a 5xx); /health is not logged. */
function logCompletedRequest(request: FastifyRequest, reply: FastifyReply): void {
  const log = PinoLogger.root;
  const level = reply.statusCode >= 500 ? 'error' : 'info';
  if (!log.isLevelEnabled(level) || request.url.startsWith('/health')) return;
  log[level](
    // The root logger's serializers are pino-http's wrapped ones: res must be the real response.
    { req: { id: request.id, method: request.method, url: request.url }, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
    level === 'error' ? 'request errored' : 'request completed',
  );
}
