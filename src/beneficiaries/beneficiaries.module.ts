import { Module } from '@nestjs/common';
import { PayoutsModule } from '../payouts/payouts.module';
import { InstrumentsModule } from '../instruments/instruments.module';
import { ProgramsModule } from '../programs/programs.module';
import { BeneficiariesController } from './beneficiaries.controller';
import { BeneficiariesService } from './beneficiaries.service';
import { PadronImportService } from './padron-import.service';
import { WaitingListService } from './waiting-list.service';

@Module({
  imports: [ProgramsModule, InstrumentsModule, PayoutsModule],
  controllers: [BeneficiariesController],
  providers: [BeneficiariesService, PadronImportService, WaitingListService],
  exports: [BeneficiariesService, PadronImportService],
})
export class BeneficiariesModule {}
