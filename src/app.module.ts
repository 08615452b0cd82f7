import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { hostname } from 'node:os';
import { LoggerModule } from 'nestjs-pino';
import { AuditWorkerModule } from './audit/audit-worker.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { serializeErrorSafely } from './common/log-safety';
import { APP_CONFIG, AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DisbursementsWorkerModule } from './disbursements/disbursements-worker.module';
import { DisbursementsModule } from './disbursements/disbursements.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LedgerWorkerModule } from './ledger/ledger-worker.module';
import { LedgerModule } from './ledger/ledger.module';
import { ProgramsModule } from './programs/programs.module';
import { BeneficiariesModule } from './beneficiaries/beneficiaries.module';
import { InstrumentsModule } from './instruments/instruments.module';
import { OpsModule } from './ops/ops.module';
import { MerchantsWorkerModule } from './merchants/merchants-worker.module';
import { MerchantsModule } from './merchants/merchants.module';
import { ConsoleModule } from './console/console.module';
import { TreasuryModule } from './treasury/treasury.module';
import { TreasuryWorkerModule } from './treasury/treasury-worker.module';
import { PayoutsModule } from './payouts/payouts.module';
import { ComplaintsModule } from './complaints/complaints.module';
import { ComplianceModule } from './compliance/compliance.module';
import { TrainingModule } from './training/training.module';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { LoansModule } from './loans/loans.module';
import { LoansWorkerModule } from './loans/loans-worker.module';

export type ProcessRole = 'all' | 'api' | 'worker';

/** Feature modules (HTTP + services) and their background-job parts. */
const FEATURES: NonNullable<ModuleMetadata['imports']> = [LedgerModule, AuthModule, HealthModule, ProgramsModule, BeneficiariesModule, InstrumentsModule, MerchantsModule, DisbursementsModule, AuditModule, ConsoleModule, TreasuryModule, PayoutsModule, ComplaintsModule, TrainingModule, DeliveriesModule, LoansModule, ComplianceModule];
const WORKERS: NonNullable<ModuleMetadata['imports']> = [LedgerWorkerModule, MerchantsWorkerModule, DisbursementsWorkerModule, AuditWorkerModule, TreasuryWorkerModule, LoansWorkerModule];

/**
 * Never log credentials or personal data (CURPs, RFCs, card numbers, PINs, CLABEs). Errors go
 * through serializeErrorSafely (log-safety.ts); these paths are the second line, for objects a log
 * call might pass as they are.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.pin',
  '*.curp',
  '*.members[*].curp',
  '*.rfc',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.instrumentNumber',
  '*.apiKey',
  '*.accessToken',
  '*.token',
  '*.clabe',
  '*.bankAccount',
  '*.address',
  '*.givenNames',
  '*.surnames',
  '*.birthDate',
  '*.parameters',
];

@Module({})
export class AppModule {
  static forRole(role: ProcessRole): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule,
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            // No middleware from this module: request logs and ids come from pino-http in a Fastify
            // hook (app.setup.ts). Its middleware keeps each request in an AsyncLocalStorage context,
            // and on Node 20 the promise hooks that needs cost about half of the API's CPU per request.
            forRoutes: [],
            pinoHttp: {
              level: config.LOG_LEVEL,
              base: { pid: process.pid, hostname: hostname(), role },
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              // The path only: query strings may carry filters we would rather not keep.
              serializers: {
                req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
                err: serializeErrorSafely,
              },
            },
          }),
        }),
        DatabaseModule,
        CommonModule,
        JobsModule,
        OpsModule,
        ...FEATURES,
        ...(role === 'api' ? [] : WORKERS),
      ],
    };
  }
}
