import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { OptionalDate } from '../common/query-params';
import { IsIsoDate, IsMoneyAmount } from '../common/validation';

export class DeliveryRequest {
  @ApiProperty({ example: 'ration', description: 'a kind of rules.benefit.deliveries' })
  @IsString()
  @MaxLength(40)
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'kind must be snake_case' })
  kind!: string;

  @ApiProperty({ example: '2016-03-01', description: 'business date of the delivery (not in the future)' })
  @IsIsoDate()
  deliveredOn!: string;

  @ApiProperty({ example: 120, description: 'units delivered (1 to 1,000,000)' })
  @IsInt()
  @Min(1)
  @Max(1000000)
  count!: number;

  @ApiPropertyOptional({ example: '22800.00', description: 'value of the delivery; default count × the kind\'s unitValue when the rules give one' })
  @IsOptional()
  @IsMoneyAmount()
  value?: string;

  @ApiPropertyOptional({ description: 'the registered beneficiary who received it (required where the kind requiresBeneficiary)' })
  @IsOptional()
  @IsUUID()
  beneficiaryId?: string;

  @ApiPropertyOptional({ example: 'Comedor Público Tlalpan 3', description: 'where: comedor, shelter, brigade (1–120 characters)' })
  @IsOptional()
  @IsString()
  @Length(1, 120)
  site?: string;
}

export class DeliverySummaryQuery {
  @OptionalDate('first business date (inclusive)')
  from?: string;

  @OptionalDate('last business date (inclusive)')
  to?: string;
}
