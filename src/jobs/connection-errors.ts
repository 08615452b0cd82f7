import { getQueueToken, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { QUEUES } from './queues';

const QUIET_MS = 30_000;

/**
 * BullMQ queues and workers emit `error` on every failed reconnection while Redis is away; with
 * no listener each one is printed as a stack. Log them as one warning per source every 30 s.
 */
@Injectable()
export class QueueConnectionErrors implements OnApplicationBootstrap {
  private readonly log = new Logger('Queues');
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
  ) {}

  onApplicationBootstrap(): void {
    for (const name of Object.values(QUEUES)) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      queue?.on('error', (error) => this.report(`queue ${name}`, error));
    }
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (instance instanceof WorkerHost) {
        try {
          instance.worker.on('error', (error: Error) => this.report(`worker ${instance.worker.name}`, error));
        } catch {
          // not started in this process role
        }
      }
    }
  }

  private report(source: string, error: Error): void {
    const now = Date.now();
    if ((this.lastLogged.get(source) ?? 0) + QUIET_MS > now) return;
    this.lastLogged.set(source, now);
    this.log.warn({ source, err: { message: error.message, code: (error as { code?: string }).code } }, 'Redis connection problem; retrying');
  }
}
