import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConditionalModule } from '../conditional/conditional.module';
import { PayoutsModule } from '../payouts/payouts.module';
import { ProgramsModule } from '../programs/programs.module';
import { CyclesController } from './cycles.controller';
import { CYCLES_FLOW, CyclesService } from './cycles.service';
import { GrantsService } from './grants.service';

/** Disbursement cycles (deposits, voucher loads, grant tranches), approval and grants (issue 4). */
@Module({
  imports: [BullModule.registerFlowProducer({ name: CYCLES_FLOW }), ProgramsModule, PayoutsModule, ConditionalModule],
  controllers: [CyclesController],
  providers: [CyclesService, GrantsService],
  exports: [CyclesService, GrantsService],
})
export class DisbursementsModule {}
