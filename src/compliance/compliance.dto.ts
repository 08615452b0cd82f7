import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { IsIsoDate, IsMoneyAmount } from '../common/validation';

export class ComplianceRequest {
  @ApiProperty({ example: '2016-11-10', description: 'business date the area verified the recipient complied with the rules (CC1), in the program\'s fiscal year, not in the future' })
  @IsIsoDate()
  verifiedOn!: string;

  @ApiProperty({ example: 'DGIDS/CC/0042/2016', description: 'reference of the evidence (the area\'s verification record), 1–200 characters' })
  @IsString()
  @Length(1, 200)
  evidenceRef!: string;
}

export class CompliancePaymentRequest {
  @ApiProperty({ example: 'FAC-A-10293', description: 'the invoice of the goods or services bought with the support (CC2), 1–200 characters' })
  @IsString()
  @Length(1, 200)
  invoiceRef!: string;

  @ApiProperty({ example: '2016-11-18', description: 'date of the invoice, not after today' })
  @IsIsoDate()
  invoiceDate!: string;

  @ApiProperty({ example: '10440.00', description: 'invoice total, a money string; at least the support paid' })
  @IsMoneyAmount()
  invoiceAmount!: string;
}
