import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsIsoDate } from '../common/validation';

const PERIOD = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
const KIND = /^[a-z][a-z0-9_]{0,39}$/;

export class AttendanceRequest {
  @ApiProperty({ example: '2016-03', description: 'the month attended (YYYY-MM); paid by the cycle of the month after (rules.benefit.lagMonths)' })
  @IsString()
  @MaxLength(7)
  @Matches(PERIOD, { message: 'period must be YYYY-MM' })
  period!: string;

  @ApiProperty({ example: 20, description: 'days attended in the period, 0 to the days of the month' })
  @IsInt()
  @Min(0)
  @Max(31)
  days!: number;
}

export class EventRequest {
  @ApiProperty({ example: 'hiring', description: 'one of the event kinds of rules.benefit.events (Mi Primer Trabajo: hiring, still_employed, practice_month, internship_month)' })
  @IsString()
  @MaxLength(40)
  @Matches(KIND, { message: 'kind must be snake_case' })
  kind!: string;

  @ApiProperty({ example: '2016-03-07', description: 'business date the event happened (not in the future)' })
  @IsIsoDate()
  occurredOn!: string;

  @ApiProperty({ example: 'AVISO-CONTRATACION-0042', description: 'reference of the evidence (the firm\'s notice or report), 1–200 characters' })
  @IsString()
  @Length(1, 200)
  evidenceRef!: string;
}

export class ObligationRequest {
  @ApiProperty({ example: 'monthly_signature', description: 'one of the kinds of rules.obligations' })
  @IsString()
  @MaxLength(40)
  @Matches(KIND, { message: 'kind must be snake_case' })
  kind!: string;

  @ApiProperty({ example: '2016-03', description: 'the period the obligation belongs to (YYYY-MM)' })
  @IsString()
  @MaxLength(7)
  @Matches(PERIOD, { message: 'period must be YYYY-MM' })
  period!: string;

  @ApiProperty({ example: '2016-03-15', description: 'business date it was met (in or after the period, not in the future)' })
  @IsIsoDate()
  metOn!: string;
}
