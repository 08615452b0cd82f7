import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsISO8601, IsOptional, IsString, Length, MaxLength, registerDecorator, ValidateNested } from 'class-validator';
import { AddressDto } from '../common/address.dto';
import { ATTRIBUTE_LIMITS, attributesProblem } from './attributes.rules';
import { BENEFICIARY_KINDS, BeneficiaryKind, COLLECTIVE_KINDS, DEACTIVATION_CAUSES } from './beneficiaries.rules';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalText } from '../common/query-params';
import { IsIsoDate } from '../common/validation';

/** attributes.rules.ts as a validation constraint: a bad attribute is a 400 validation_failed naming it. */
function AreBeneficiaryAttributes(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'areBeneficiaryAttributes',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => attributesProblem(value) === null,
        defaultMessage: (args) => attributesProblem(args?.value) ?? 'attributes are not valid',
      },
    });
}

export class MemberDto {
  @ApiProperty({ example: 'HEGG560427MVZRRL04' }) @IsString() @MaxLength(18) curp!: string;
  @ApiProperty() @IsString() @Length(1, 200) givenNames!: string;
  @ApiProperty() @IsString() @Length(1, 200) surnames!: string;
}

export class EnrolRequest {
  @ApiPropertyOptional({
    enum: BENEFICIARY_KINDS,
    default: 'person',
    description:
      'person (identified by CURP), or a collective grantee of a grant program: cooperative, civil_organisation, firm (legally constituted, ' +
      'identified by RFC) or group (not legally constituted yet; RFC optional), with its members\' CURPs',
  })
  @IsOptional()
  @IsIn(BENEFICIARY_KINDS)
  kind?: BeneficiaryKind;
  @ApiPropertyOptional({ example: 'HEGG560427MVZRRL04', description: 'persons only' }) @IsOptional() @IsString() @MaxLength(18) curp?: string;
  @ApiPropertyOptional({ description: 'persons only' }) @IsOptional() @IsString() @Length(1, 200) givenNames?: string;
  @ApiPropertyOptional({ description: 'persons only' }) @IsOptional() @IsString() @Length(1, 200) surnames?: string;
  @ApiPropertyOptional({ example: '1946-04-27', description: 'persons only' }) @IsOptional() @IsIsoDate() birthDate?: string;
  @ApiPropertyOptional({ example: 'Sociedad Cooperativa Tlalli', description: 'collectives only: the legal (or group) name' }) @IsOptional() @IsString() @Length(1, 300) legalName?: string;
  @ApiPropertyOptional({ example: 'CTL150312KX7', description: 'collectives only: required when legally constituted (12 characters, SAT check digit)' })
  @IsOptional()
  @IsString()
  @MaxLength(13)
  rfc?: string;
  @ApiPropertyOptional({ example: '2015-03-12', description: 'collectives only: date of legal constitution' }) @IsOptional() @IsIsoDate() constitutedOn?: string;
  @ApiPropertyOptional({ type: [MemberDto], description: "collectives only: the members (socios, integrantes) with their CURPs (per-member caps, one support per person)" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => MemberDto)
  members?: MemberDto[];
  @ApiProperty({ type: AddressDto }) @ValidateNested() @Type(() => AddressDto) address!: AddressDto;
  @ApiPropertyOptional({ example: '2016-03-01' }) @IsOptional() @IsIsoDate() applicationDate?: string;
  @ApiPropertyOptional({
    description:
      `Standard: residenceSince (date YYYY-MM-DD), schoolLevel (preescolar|primaria|secundaria), lastPaymentAt (date YYYY-MM-DD), ` +
      `validated as such in every program; others are program-defined. At most ${ATTRIBUTE_LIMITS.maxAttributes} entries, names of ` +
      `1–${ATTRIBUTE_LIMITS.maxNameLength} characters, values a string of at most ${ATTRIBUTE_LIMITS.maxTextLength} characters, a number or a boolean.`,
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string', maxLength: ATTRIBUTE_LIMITS.maxTextLength }, { type: 'number' }, { type: 'boolean' }] },
    example: { residenceSince: '1990-01-01' },
  })
  @IsOptional()
  @AreBeneficiaryAttributes()
  attributes?: Record<string, unknown>;
}

export class DeactivateRequest {
  @ApiProperty({ enum: DEACTIVATION_CAUSES }) @IsIn(DEACTIVATION_CAUSES) cause!: string;
  @ApiProperty({ example: '2016-05-10' }) @IsIsoDate() effectiveDate!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 1000) note?: string;
}

export class BeneficiariesQuery extends ListQuery {
  @OptionalEnum(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @OptionalText(18, 'the beneficiary with this CURP (needs access to a confidential program)')
  curp?: string;
}

export class LegalConstitutionRequest {
  @ApiProperty({ enum: COLLECTIVE_KINDS.filter((k) => k !== 'group') }) @IsIn(COLLECTIVE_KINDS.filter((k) => k !== 'group')) kind!: string;
  @ApiProperty({ example: 'CTL150312KX7' }) @IsString() @MaxLength(13) rfc!: string;
  @ApiProperty({ example: '2016-05-02' }) @IsIsoDate() constitutedOn!: string;
  @ApiPropertyOptional({ description: 'the legal name, when it changes at constitution' }) @IsOptional() @IsString() @Length(1, 300) legalName?: string;
}

export class IncorporateRequest {
  @ApiProperty({ example: '2016-03-10', description: 'The date of record of the incorporation: payments start at the first period on or after it (P20)' })
  @IsISO8601({ strict: true })
  @MaxLength(10)
  incorporatedOn!: string;

  @ApiPropertyOptional({ example: 'zona de muy alta marginación', description: 'Why an applicant is incorporated before others filed earlier (P18)' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  priorityReason?: string;
}

export class WaitingListQuery extends ListQuery {
  @ApiPropertyOptional({ description: 'Only applicants waiting longer than the six months the RO allows (P17)' })
  @IsOptional()
  @Transform(({ value }) => value === true || value === 'true')
  @IsBoolean()
  overdueOnly?: boolean;
}
