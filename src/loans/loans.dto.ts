import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsISO8601, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { IsIsoDate, IsMoneyAmount } from '../common/validation';

export class ApplyLoanRequest {
  @ApiProperty({ description: 'an active beneficiary of the program' })
  @IsUUID()
  beneficiaryId!: string;

  @ApiProperty({ example: '10000.00', description: 'within the product (or its line): else 422 invalid_principal' })
  @IsMoneyAmount()
  principal!: string;

  @ApiPropertyOptional({ example: 'microcredito', description: 'the credit line, where the product has lines (rules.loan.lines): else 422 invalid_loan_line' })
  @IsOptional()
  @IsString()
  @Length(1, 60)
  line?: string;
}

export class LoanAcceptanceRequest {
  @ApiProperty({ example: '2020-05-04T16:20:00Z', description: 'when the borrower accepted the legal documents online (R000-05); not in the future' })
  @IsISO8601({ strict: true })
  @MaxLength(40)
  acceptedAt!: string;

  @ApiProperty({ example: 'FONDESOC/ACEPTACION/000123', description: 'the reference of the signed acceptance document' })
  @IsString()
  @Length(1, 200)
  documentRef!: string;
}

export class LoanRepaymentRequest {
  @ApiProperty({ example: '833.33', description: 'paid into the oldest unpaid instalment first; above the outstanding → 422 overpayment' })
  @IsMoneyAmount()
  amount!: string;

  @ApiProperty({ example: '2020-09-15', description: 'the business date the borrower paid; not in the future' })
  @IsIsoDate()
  paidOn!: string;

  @ApiProperty({ example: 'LN-00000012/OP-778812', description: 'the payment reference, unique in the program (a second payment with it → 409 duplicate_repayment)' })
  @IsString()
  @Length(1, 200)
  reference!: string;
}

export class WriteOffRequest {
  @ApiProperty({ example: 'sin localizar al acreditado tras 180 días de atraso' })
  @IsString()
  @Length(1, 500)
  reason!: string;
}

export class InstalmentView {
  @ApiProperty() number!: number;
  @ApiProperty({ example: '2020-09-15' }) dueOn!: string;
  @ApiProperty({ example: '833.33' }) amount!: string;
  @ApiProperty({ example: '0.00' }) paid!: string;
  @ApiProperty({ enum: ['due', 'late', 'paid', 'written_off'] }) status!: string;
}

export class LoanBatchRequest {
  @ApiProperty({ type: [String], description: 'the loans of the batch (1–5,000), all of this program; all or none are taken' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(5000)
  @IsUUID('all', { each: true })
  loanIds!: string[];
}
