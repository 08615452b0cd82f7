import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength, registerDecorator, ValidateNested } from 'class-validator';
import { AddressDto } from '../common/address.dto';
import { ATTRIBUTE_LIMITS, attributesProblem } from './attributes.rules';
import { DEACTIVATION_CAUSES } from './beneficiaries.rules';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalText } from '../common/query-params';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

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

export class EnrolRequest {
  @ApiProperty({ example: 'HEGG560427MVZRRL04' }) @IsString() @MaxLength(18) curp!: string;
  @ApiProperty() @IsString() @Length(1, 200) givenNames!: string;
  @ApiProperty() @IsString() @Length(1, 200) surnames!: string;
  @ApiProperty({ example: '1946-04-27' }) @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) @MaxLength(10) birthDate!: string;
  @ApiProperty({ type: AddressDto }) @ValidateNested() @Type(() => AddressDto) address!: AddressDto;
  @ApiPropertyOptional({ example: '2016-03-01' }) @IsOptional() @Matches(DATE, { message: 'applicationDate must be YYYY-MM-DD' }) @MaxLength(10) applicationDate?: string;
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
  @ApiProperty({ example: '2016-05-10' }) @Matches(DATE, { message: 'effectiveDate must be YYYY-MM-DD' }) @MaxLength(10) effectiveDate!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 1000) note?: string;
}

export class BeneficiariesQuery extends ListQuery {
  @OptionalEnum(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @OptionalText(18, 'the beneficiary with this CURP (needs access to a confidential program)')
  curp?: string;
}
