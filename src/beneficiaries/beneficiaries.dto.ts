import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { CURP_STATES } from './curp.rules';
import { DEACTIVATION_CAUSES } from './beneficiaries.rules';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalText } from '../common/query-params';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class AddressDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) street?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) colonia?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) municipality?: string;
  @ApiProperty({ example: 'DF', description: 'two-letter CURP state code' }) @IsIn(CURP_STATES) state!: string;
  @ApiPropertyOptional() @IsOptional() @Matches(/^\d{5}$/) postalCode?: string;
}

export class EnrolRequest {
  @ApiProperty({ example: 'HEGG560427MVZRRL04' }) @IsString() curp!: string;
  @ApiProperty() @IsString() @Length(1, 200) givenNames!: string;
  @ApiProperty() @IsString() @Length(1, 200) surnames!: string;
  @ApiProperty({ example: '1946-04-27' }) @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) birthDate!: string;
  @ApiProperty({ type: AddressDto }) @ValidateNested() @Type(() => AddressDto) address!: AddressDto;
  @ApiPropertyOptional({ example: '2016-03-01' }) @IsOptional() @Matches(DATE, { message: 'applicationDate must be YYYY-MM-DD' }) applicationDate?: string;
  @ApiPropertyOptional({ description: 'residenceSince, schoolLevel, lastPaymentAt, and program-defined attributes', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

export class DeactivateRequest {
  @ApiProperty({ enum: DEACTIVATION_CAUSES }) @IsIn(DEACTIVATION_CAUSES) cause!: string;
  @ApiProperty({ example: '2016-05-10' }) @Matches(DATE, { message: 'effectiveDate must be YYYY-MM-DD' }) effectiveDate!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 1000) note?: string;
}

export class BeneficiariesQuery extends ListQuery {
  @OptionalEnum(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @OptionalText(18, 'the beneficiary with this CURP (needs access to a confidential program)')
  curp?: string;
}
