import { Module } from '@nestjs/common';
import { ProgramAccessService } from './program-access.service';
import { ProgramsController } from './programs.controller';
import { ProgramsService } from './programs.service';
import { RolloverService } from './rollover.service';

@Module({
  controllers: [ProgramsController],
  providers: [ProgramsService, ProgramAccessService, RolloverService],
  exports: [ProgramsService, ProgramAccessService],
})
export class ProgramsModule {}
