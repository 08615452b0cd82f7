import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MerchantThrottlerGuard } from './merchant-throttler.guard';
import { RateLimitStorage } from './rate-limit-storage';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Running the service: Prometheus metrics and merchant rate limits (the queue dashboard is mounted in app.setup.ts). */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ name: 'merchant-key', ttl: 1000, limit: config.MERCHANT_RATE_LIMIT_PER_SECOND }],
        storage: new RateLimitStorage(),
      }),
    }),
  ],
  controllers: [MetricsController],
  providers: [MetricsService, { provide: APP_GUARD, useClass: MerchantThrottlerGuard }],
  exports: [MetricsService],
})
export class OpsModule {}
