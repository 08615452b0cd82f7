import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { AddressDto } from '../common/address.dto';
import { MERCHANT_CATEGORIES } from '../programs/program-rules';
import { IsMoneyAmount } from '../common/validation';
import { ListQuery } from '../common/pagination';
import { OptionalDate, OptionalTimeBound, OptionalUuid } from '../common/query-params';

export class CreateMerchantRequest {
  @ApiProperty({ example: 'Abarrotes La Esperanza' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: MERCHANT_CATEGORIES })
  @IsIn(MERCHANT_CATEGORIES as unknown as string[])
  category!: string;

  @ApiProperty({ type: AddressDto, example: { street: 'Av. Juárez 10', colonia: 'Centro', municipality: 'Cuauhtémoc', state: 'DF', postalCode: '06000' } })
  @ValidateNested()
  @Type(() => AddressDto)
  address!: AddressDto;

  @ApiPropertyOptional({ description: 'CLABE (18 digits) where settlements are paid' })
  @IsOptional()
  @Matches(/^\d{18}$/, { message: 'bankAccount must be an 18-digit CLABE' })
  @MaxLength(18)
  bankAccount?: string;

  @ApiPropertyOptional({ example: 'COP', default: 'MXN', description: 'ISO 4217 currency the merchant takes and is settled in (its programs\' currency)' })
  @IsOptional()
  @MaxLength(3)
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be a three-letter ISO 4217 code' })
  currency?: string;
}

export class CreateTerminalRequest {
  @ApiProperty({ example: 'Caja 1' })
  @IsString()
  @Length(1, 100)
  label!: string;
}

export class CreateApiKeyRequest {
  @ApiPropertyOptional({ description: 'Bind the key to one terminal of the merchant' })
  @IsOptional()
  @IsUUID()
  terminalId?: string;
}

export class RedeemRequest {
  @ApiProperty({ example: '4000001234567899', description: '16-digit instrument number' })
  @Matches(/^\d{16}$/, { message: 'instrumentNumber must be 16 digits' })
  @MaxLength(16)
  instrumentNumber!: string;

  @ApiProperty({ example: '1234' })
  @Matches(/^\d{4,6}$/, { message: 'pin must be 4 to 6 digits' })
  @MaxLength(6)
  pin!: string;

  @ApiProperty({ example: '150.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiPropertyOptional({ example: 'ticket-000123' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  reference?: string;
}

export class CaptureRequest {
  @ApiPropertyOptional({ example: '120.00', description: 'At most the held amount; the rest is released. Default: all.' })
  @IsOptional()
  @IsMoneyAmount()
  amount?: string;
}

export class RefundRequest {
  @ApiProperty({ example: '20.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  reference?: string;
}

export class RunSettlementRequest {
  @ApiPropertyOptional({ example: '2026-03-15', description: 'Business date to settle; default: yesterday' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'businessDate must be YYYY-MM-DD' })
  @MaxLength(10)
  businessDate?: string;
}

export class MerchantTransactionsQuery extends ListQuery {
  @OptionalTimeBound('a business date (from its 00:00) or an ISO 8601 instant')
  from?: string;

  @OptionalTimeBound('a business date (the whole day included) or an ISO 8601 instant (exclusive)')
  to?: string;
}

export class SettlementsQuery extends ListQuery {
  @OptionalDate('the settlements of this business date')
  businessDate?: string;

  @OptionalUuid('the settlements of this merchant')
  merchantId?: string;
}
