import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConditionalModule } from '../conditional/conditional.module';
import { PayoutsModule } from '../payouts/payouts.module';
import { ProgramsModule } from '../programs/programs.module';
import { CyclesController } from './cycles.controller';
import { CYCLES_FLOW, CyclesService } from './cycles.service';
import { GrantsService } from './grants.service';
import { ArrearsService } from './arrears.service';
import { PaymentOrdersController } from './payment-orders.controller';
import { PaymentOrdersService } from './payment-orders.service';

/** Disbursement cycles (deposits, voucher loads, grant tranches, arrears), approval, grants and payment orders. */
@Module({
  imports: [BullModule.registerFlowProducer({ name: CYCLES_FLOW }), ProgramsModule, PayoutsModule, ConditionalModule],
  controllers: [CyclesController, PaymentOrdersController],
  providers: [CyclesService, GrantsService, ArrearsService, PaymentOrdersService],
  exports: [CyclesService, GrantsService, ArrearsService],
})
export class DisbursementsModule {}
