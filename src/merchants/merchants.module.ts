import { Module } from '@nestjs/common';
import { MerchantsController } from './merchants.controller';
import { MerchantsService } from './merchants.service';
import { RedemptionBatcher } from './redemption-batcher';
import { RedemptionsController } from './redemptions.controller';
import { RedemptionsService } from './redemptions.service';
import { SettlementsController } from './settlements.controller';
import { SettlementService } from './settlement.service';

/** Merchants: affiliation, API keys, redemptions, holds, refunds and settlements (issue 5). */
@Module({
  controllers: [MerchantsController, RedemptionsController, SettlementsController],
  providers: [MerchantsService, RedemptionBatcher, RedemptionsService, SettlementService],
  exports: [MerchantsService, RedemptionsService, SettlementService],
})
export class MerchantsModule {}
