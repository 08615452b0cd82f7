import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../common/auth/principal';
import { ApiProblem, problems } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from './metrics.service';

/**
 * Prometheus scrape endpoint, behind a scrape token: `Authorization: Bearer <METRICS_TOKEN>`
 * (Prometheus's `authorization: { credentials: … }`). Without METRICS_TOKEN it is not served (404):
 * the counters tell an outsider the traffic and refusals of every merchant route.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly tokenDigest: Buffer | null;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokenDigest = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null;
  }

  @Public()
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (!this.tokenDigest) throw new ApiProblem(404, 'not_found', 'No such resource');
    const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
    // Compared as digests: constant time whatever the length sent.
    if (!match || !timingSafeEqual(digest(match[1]), this.tokenDigest)) throw problems.unauthenticated('Send Authorization: Bearer <METRICS_TOKEN>');
    return this.metrics.registry.metrics();
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
