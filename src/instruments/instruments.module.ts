import { Module } from '@nestjs/common';
import { ProgramsModule } from '../programs/programs.module';
import { InstrumentsController } from './instruments.controller';
import { InstrumentsService } from './instruments.service';

@Module({ imports: [ProgramsModule], controllers: [InstrumentsController], providers: [InstrumentsService], exports: [InstrumentsService] })
export class InstrumentsModule {}
