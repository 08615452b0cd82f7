import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUES } from '../jobs/queues';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Prometheus metrics of this process (GET /metrics). A registry per application instance, so
 * several apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'monedero_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly redemptions = new Counter({
    name: 'monedero_redemptions_total',
    help: 'Merchant redemptions, authorizations and captures by outcome (captured, or the refusal code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly redemptionBatchSize = new Histogram({
    name: 'monedero_redemption_batch_size',
    help: 'Redemptions and authorizations posted together by one group-commit transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly cycleLinesPosted = new Counter({
    name: 'monedero_cycle_lines_posted_total',
    help: 'Disbursement cycle lines posted to the ledger by this process',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'monedero_' });
    const queues = Object.values(QUEUES)
      .map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }))
      .filter(Boolean);
    new Gauge({
      name: 'monedero_queue_jobs',
      help: 'BullMQ jobs by queue and state (absent while Redis is unreachable)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.map(async (queue) => {
            const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES), 500).catch(() => null);
            if (!counts) return;
            for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
