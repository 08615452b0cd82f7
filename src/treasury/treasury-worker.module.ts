import { Module } from '@nestjs/common';
import { SweepsProcessor } from './sweeps.processor';
import { TreasuryModule } from './treasury.module';

/** The sweeps processor and its schedules; only where the worker role runs. */
@Module({ imports: [TreasuryModule], providers: [SweepsProcessor] })
export class TreasuryWorkerModule {}
