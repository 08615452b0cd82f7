import { Module } from '@nestjs/common';
import { CyclesProcessor } from './cycles.processor';
import { DisbursementsModule } from './disbursements.module';

/** Background jobs of cycles (start, chunks, finish, scheduled drafts); only where the worker role runs. */
@Module({ imports: [DisbursementsModule], providers: [CyclesProcessor] })
export class DisbursementsWorkerModule {}
