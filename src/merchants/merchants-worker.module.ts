import { Module } from '@nestjs/common';
import { MerchantsModule } from './merchants.module';
import { SettlementProcessor } from './settlement.processor';

/** Background jobs of merchants (daily settlement); loaded only where the worker role runs. Hold expiry is the ledger's HoldsProcessor. */
@Module({ imports: [MerchantsModule], providers: [SettlementProcessor] })
export class MerchantsWorkerModule {}
