import { Module } from '@nestjs/common';
import { AuditModule } from './audit.module';
import { SealsProcessor } from './seals.processor';

/** Background jobs of the audit module (queue `seals`); loaded only where the process runs the worker role. */
@Module({ imports: [AuditModule], providers: [SealsProcessor] })
export class AuditWorkerModule {}
