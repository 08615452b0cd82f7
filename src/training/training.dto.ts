import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsMoneyAmount } from '../common/validation';

export class SupplierRequest {
  @ApiProperty({ example: 'CAPACITACIÓN INTEGRAL SC', description: 'the Oferente de Capacitación (1–200 characters)' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'CIN150101AB1', description: 'RFC of the supplier (12 or 13 characters with its check digit)' })
  @IsString()
  @MaxLength(13)
  rfc!: string;

  @ApiProperty({ example: 'STPS-ACE-123456', description: 'registration as external training agent with the STPS (rule 2, @776984)' })
  @IsString()
  @Length(1, 60)
  stpsRegistration!: string;

  @ApiProperty({ example: '032180000118359719', description: 'CLABE for the payouts (400 invalid_clabe)' })
  @IsString()
  @MaxLength(64)
  clabe!: string;

  @ApiProperty({ example: 'CAPACITACIÓN INTEGRAL SC' })
  @IsString()
  @Length(1, 120)
  holderName!: string;
}

export class TrainingSupportRequest {
  @ApiProperty({ description: 'the firm (a collective beneficiary of kind firm)' })
  @IsUUID()
  beneficiaryId!: string;

  @ApiProperty()
  @IsUUID()
  supplierId!: string;

  @ApiProperty({ example: 'micro', description: 'a key of rules.benefit.shares (PACTyFP: micro, small)' })
  @IsString()
  @MaxLength(40)
  firmSize!: string;

  @ApiProperty({ example: 50 })
  @IsInt()
  @Min(1)
  @Max(1000)
  hours!: number;

  @ApiProperty({ example: '650.00', description: 'the supplier\'s price per hour with IVA; the program recognises at most rules.benefit.maxPricePerHour' })
  @IsMoneyAmount({ positive: true })
  pricePerHour!: string;

  @ApiPropertyOptional({ description: 'the exceptional cap (PACTyFP: 70 h and $42,000)' })
  @IsOptional()
  @IsBoolean()
  exceptional?: boolean;
}

export class InvoiceRequest {
  @ApiProperty({ example: 'FACT-A-0042' })
  @IsString()
  @Length(1, 100)
  invoiceRef!: string;

  @ApiProperty({ example: '2016-05-02', description: 'business date the invoice was received' })
  @IsString()
  @MaxLength(10)
  @Matches(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, { message: 'receivedOn must be YYYY-MM-DD' })
  receivedOn!: string;

  @ApiProperty({ example: '24000.00', description: 'must equal the program\'s share of the support' })
  @IsMoneyAmount({ positive: true })
  amount!: string;

  @ApiProperty({ example: 92, description: 'attendance of the workers, percent (at least rules.benefit.minAttendancePercent)' })
  @IsInt()
  @Min(0)
  @Max(100)
  attendancePercent!: number;
}

