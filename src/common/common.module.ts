import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig } from '../config/config';
import { AuthGuard } from './auth/auth.guard';
import { MerchantKeyCache } from './auth/merchant-key-cache';
import { ClockModule } from './clock.module';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ProblemFilter } from './problem.filter';

/** Cross-cutting pieces every endpoint uses: errors, auth, idempotency, the clock. */
@Global()
@Module({
  imports: [
    ClockModule,
    JwtModule.registerAsync({
      global: true,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        secret: config.JWT_SECRET,
        signOptions: { expiresIn: config.JWT_TTL_SECONDS, issuer: 'monedero' },
        verifyOptions: { issuer: 'monedero' },
      }),
    }),
  ],
  providers: [
    IdempotencyService,
    MerchantKeyCache,
    { provide: APP_FILTER, useClass: ProblemFilter },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [IdempotencyService, MerchantKeyCache, ClockModule],
})
export class CommonModule {}
