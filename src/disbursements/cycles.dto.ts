import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { ListQuery } from '../common/pagination';
import { CsvFormatQuery, OptionalEnum, OptionalText } from '../common/query-params';
import { LINE_STATUSES, LineStatus } from './cycle-lines.rules';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsMoneyAmount } from '../common/validation';

export class CreateCycleRequest {
  @ApiProperty({
    example: '2016-03',
    description: 'The period paid (YYYY-MM). Voucher loads (schedule.frequency = loads) are identified by their period: Uniformes load 1 = "2016-08", load 2 = "2016-10".',
  })
  @Matches(/^[0-9]{4}-(0[1-9]|1[0-2])$/, { message: 'period must be YYYY-MM' })
  @MaxLength(7)
  period!: string;

  @ApiProperty({ enum: ['deposit', 'tranche', 'arrears'], description: 'arrears: a catch-up cycle paying every period owed up to `period` (docs/disbursements.md "Money owed")' })
  @IsIn(['deposit', 'tranche', 'arrears'])
  kind!: 'deposit' | 'tranche' | 'arrears';

  @ApiPropertyOptional({ description: 'When an approved cycle runs (ISO 8601); now if absent or past' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  scheduledFor?: string;
}

export class ExtensionAuthorizationRequest {
  @ApiProperty({ description: 'Reference of the authorisation record (e.g. DGIDS oficio number)' })
  @IsString()
  @Length(1, 200)
  reference!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  note?: string;
}

export class CreateGrantRequest {
  @ApiProperty()
  @IsUUID()
  beneficiaryId!: string;

  @ApiProperty({ example: '150000.00' })
  @IsMoneyAmount()
  awardAmount!: string;

  @ApiPropertyOptional({ example: 'fortalecimiento-2', description: 'The stage or modality (a `stage` of rules.awardCaps): its cap, envelope and earlier stage apply' })
  @IsOptional()
  @Matches(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'stage is a kebab-case key' })
  @MaxLength(60)
  stage?: string;

  @ApiPropertyOptional({ example: 8, description: "Members the award is for (per-member caps); a collective's registered members when absent" })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  members?: number;

  @ApiPropertyOptional({ example: '500000.00', description: 'Cost of the project: the award is at most the support share of it; the rest is the counterpart share' })
  @IsOptional()
  @IsMoneyAmount()
  projectCost?: string;

  @ApiPropertyOptional({ description: 'Other public programs contribute to the project (the smaller support share applies); absent = no' })
  @IsOptional()
  @IsBoolean()
  otherPrograms?: boolean;

  @ApiPropertyOptional({ example: 'negocio-mujeres', description: 'The support type (a `key` of rules.supportShares); absent = the largest share' })
  @IsOptional()
  @Matches(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'supportType is a kebab-case key' })
  @MaxLength(60)
  supportType?: string;
}

export class CounterpartContributionRequest {
  @ApiProperty({ example: '40000.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiProperty({ example: '2013-08-01' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'receivedOn must be YYYY-MM-DD' })
  @MaxLength(10)
  receivedOn!: string;

  @ApiProperty({ example: 'FICHA-DEP-0042', description: 'The deposit slip or document of the contribution' })
  @IsString()
  @Length(1, 200)
  reference!: string;
}

export class ProofDocumentDto {
  @ApiProperty({ example: 'FAC-A-000123' })
  @IsString()
  @Length(1, 200)
  reference!: string;

  @ApiPropertyOptional({ example: 'invoice' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  kind?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  description?: string;
}

export class SubmitProofRequest {
  @ApiProperty({ example: '60000.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiProperty({ type: [ProofDocumentDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => ProofDocumentDto)
  documents!: ProofDocumentDto[];
}

export class ReviewProofRequest {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  note?: string;
}

/** `GET /v1/cycles/{id}/lines`: a page of lines (or all of them as CSV) filtered on the server. */
export class CycleLinesQuery extends IntersectionType(ListQuery, CsvFormatQuery) {
  @OptionalEnum(LINE_STATUSES, 'only lines with this outcome (exception: the exceptions of the whole cycle, across pages)')
  status?: LineStatus;

  @OptionalText(100, 'part of a folio, an exact CURP, or words of the name (names: auditors, program officers and admins only)')
  q?: string;
}

export class ArrearsQuery extends ListQuery {
  @ApiPropertyOptional({ example: '2016-04', description: 'Periods owed up to this one (YYYY-MM); the current period when absent' })
  @IsOptional()
  @Matches(/^[0-9]{4}-(0[1-9]|1[0-2])$/, { message: 'upTo must be YYYY-MM' })
  @MaxLength(7)
  upTo?: string;
}

export class CreatePaymentOrderRequest {
  @ApiProperty()
  @IsUUID()
  programId!: string;

  @ApiProperty()
  @IsUUID()
  beneficiaryId!: string;

  @ApiProperty({ example: '1075.20' })
  @IsMoneyAmount()
  amount!: string;

  @ApiPropertyOptional({ example: '2016-02', description: 'The period paid (YYYY-MM): claimed once, like a cycle line (a period already paid → 409 period_already_paid)' })
  @IsOptional()
  @Matches(/^[0-9]{4}-(0[1-9]|1[0-2])$/, { message: 'period must be YYYY-MM' })
  @MaxLength(7)
  period?: string;

  @ApiProperty({ example: 'resolución de queja 123/2016', description: 'Why the order is made (a correction, a resolution)' })
  @IsString()
  @Length(1, 500)
  reason!: string;
}
