import { Module } from '@nestjs/common';
import { LoansModule } from './loans.module';
import { LoansProcessor } from './loans.processor';

/** The daily delinquency job; only where the worker role runs. */
@Module({ imports: [LoansModule], providers: [LoansProcessor] })
export class LoansWorkerModule {}
