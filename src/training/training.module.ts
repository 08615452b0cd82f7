import { Module } from '@nestjs/common';
import { PayoutsModule } from '../payouts/payouts.module';
import { ProgramsModule } from '../programs/programs.module';
import { TrainingController } from './training.controller';
import { TrainingService } from './training.service';

/** Training paid per hour to suppliers, with the firm's co-payment (issue 18, docs/training.md). */
@Module({
  imports: [ProgramsModule, PayoutsModule],
  controllers: [TrainingController],
  providers: [TrainingService],
})
export class TrainingModule {}
