import { Module } from '@nestjs/common';
import { ProgramsModule } from '../programs/programs.module';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';

/** Deliveries in kind (issue 18, docs/in-kind.md): no money moves. */
@Module({
  imports: [ProgramsModule],
  controllers: [DeliveriesController],
  providers: [DeliveriesService],
})
export class DeliveriesModule {}
