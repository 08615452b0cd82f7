import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { QueueConnectionErrors } from './connection-errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { bullConnectionOptions } from './redis';
import { QUEUES } from './queues';

/** The BullMQ connection and queues; processors live in the feature modules' worker parts. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: bullConnectionOptions(config.REDIS_URL),
        prefix: config.QUEUE_PREFIX,
        defaultJobOptions: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: 7 * 24 * 3600, count: 10000 },
          removeOnFail: { age: 30 * 24 * 3600 },
        },
      }),
    }),
    BullModule.registerQueue(...Object.values(QUEUES).map((name) => ({ name }))),
    DiscoveryModule,
  ],
  providers: [QueueConnectionErrors],
  exports: [BullModule],
})
export class JobsModule {}
