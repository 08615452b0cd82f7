import { Module } from '@nestjs/common';
import { AuditModule } from './audit.module';
import { IntegrityProcessor } from './integrity.processor';
import { SealsProcessor } from './seals.processor';

/** Background jobs of the audit module (queues `seals` and `integrity`); loaded only where the process runs the worker role. */
@Module({ imports: [AuditModule], providers: [SealsProcessor, IntegrityProcessor] })
export class AuditWorkerModule {}
