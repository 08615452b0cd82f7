import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsMoneyAmount } from '../common/validation';
import { ListQuery } from '../common/pagination';
import { OptionalText } from '../common/query-params';
import { INSTRUMENT_TYPES } from './program-fixtures';

export class CreateProgramRequest {
  @ApiProperty({ example: 'PENSION-AM-2016' })
  @IsString()
  @Matches(/^[A-Z0-9][A-Z0-9-]{0,63}$/, { message: 'code: upper-case letters, digits and hyphens' })
  @MaxLength(64)
  code!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 2016 })
  @IsInt()
  @Min(2000)
  @Max(2100)
  fiscalYear!: number;

  @ApiProperty({ enum: INSTRUMENT_TYPES })
  @IsIn(INSTRUMENT_TYPES)
  instrumentType!: string;

  @ApiPropertyOptional({ example: 'MXN' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/)
  @MaxLength(3)
  currency?: string;

  @ApiPropertyOptional({ example: 'America/Mexico_City' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  timeZone?: string;

  @ApiPropertyOptional({ description: 'Violence programs: identity hidden from officers not assigned to the program' })
  @IsOptional()
  @IsBoolean()
  confidential?: boolean;

  @ApiProperty({ description: 'Benefit rules (src/programs/program-rules.ts, docs/programs.md)', type: 'object', additionalProperties: true })
  @IsObject()
  rules!: Record<string, unknown>;
}

export class AppropriationRequest {
  @ApiProperty({ example: '1000000.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiProperty({ example: 'Oficio SF/1234/2016' })
  @IsString()
  @Length(1, 200)
  reference!: string;
}

export class ProgramsQuery extends ListQuery {
  @OptionalText(64, 'the program with this code (a list of one, or empty)')
  code?: string;
}

export class RolloverRequest {
  @ApiProperty({ example: 2017, description: 'The next fiscal year; the new program is <BASE>-<fiscalYear>' })
  @IsInt()
  @Min(2000)
  @Max(2100)
  fiscalYear!: number;

  @ApiPropertyOptional({ description: "The new year's rules (e.g. a new Unidad de Cuenta); the current rules with their dates moved to the new year when absent" })
  @IsOptional()
  @IsObject()
  rules?: Record<string, unknown>;
}
