import { Module } from '@nestjs/common';
import { HoldsProcessor } from './holds.processor';

/** Background jobs of the ledger; loaded only where the process runs the worker role. */
@Module({ providers: [HoldsProcessor] })
export class LedgerWorkerModule {}
