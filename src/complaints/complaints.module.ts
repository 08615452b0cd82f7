import { Module } from '@nestjs/common';
import { ProgramsModule } from '../programs/programs.module';
import { ComplaintsController } from './complaints.controller';
import { ComplaintsService } from './complaints.service';

/** Complaints (quejas) with their business-day deadlines, answers, escalation and commitments (docs/complaints.md). */
@Module({
  imports: [ProgramsModule],
  controllers: [ComplaintsController],
  providers: [ComplaintsService],
})
export class ComplaintsModule {}
