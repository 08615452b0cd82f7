import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type IORedis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../config/config';
import { createProbeClient } from '../jobs/redis';

@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly client: IORedis;
  private connecting?: Promise<void>;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.client = createProbeClient(config.REDIS_URL);
    this.client.on('error', () => undefined); // reported through the check, not as a crash
  }

  async isHealthy(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await this.connected();
      const pong = await Promise.race([
        this.client.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
      ]);
      return pong === 'PONG' ? indicator.up() : indicator.down({ message: String(pong) });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : 'unreachable' });
    }
  }

  /** Connects if the last connection was lost; concurrent probes share one attempt. */
  private connected(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    this.connecting ??= this.client.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
