import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalUuid } from '../common/query-params';
import { BATCH_STATUSES, LINE_STATUSES } from './payouts.repository';
import { BATCH_KINDS, BatchKind } from './payouts.rules';

export class BankAccountRequest {
  @ApiProperty({ example: '032180000118359719', description: '18-digit CLABE with its check digit (weights 3, 7, 1); else 400 invalid_clabe' })
  @IsString()
  // A bound against hostile input (issue 22); anything shorter that is not a CLABE still gets invalid_clabe.
  @MaxLength(64)
  clabe!: string;

  @ApiProperty({ example: 'ROSA MARÍA HERNÁNDEZ GARCÍA', description: 'account holder as the bank knows them (1–120 characters)' })
  @IsString()
  @Length(1, 120)
  holderName!: string;
}

export class BankAccountView {
  @ApiProperty({ enum: ['beneficiary', 'insurer', 'supplier'] }) ownerKind!: string;
  @ApiProperty() ownerId!: string;
  @ApiProperty() programId!: string;
  @ApiProperty({ description: 'whole for the program officers, else masked to the last four digits' }) clabe!: string;
  @ApiProperty() clabeMasked!: boolean;
  @ApiPropertyOptional({ nullable: true, description: 'null where the caller may not see the identities of a confidential program' }) holderName!: string | null;
  @ApiProperty() identityWithheld!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty() updatedBy!: string;
  @ApiProperty() updatedAt!: string;
}

export class CreatePayoutBatchRequest {
  @ApiProperty()
  @IsUUID()
  programId!: string;

  @ApiProperty({ enum: Object.keys(BATCH_KINDS) })
  @IsIn(Object.keys(BATCH_KINDS))
  kind!: BatchKind;
}

export class PayoutResultLineDoc {
  @ApiProperty() lineId!: string;
  @ApiProperty({ enum: ['paid', 'rejected'] }) status!: string;
  @ApiPropertyOptional({ description: 'why the bank rejected it' }) reason?: string;
  @ApiPropertyOptional({ example: '1500.00', description: 'when the bank reports it, it must equal the line amount (else 422 payout_amount_mismatch)' }) amount?: string;
}

/** `GET /v1/payout-batches`: filters and a page. */
export class PayoutBatchesQuery extends ListQuery {
  @OptionalUuid()
  programId?: string;

  @OptionalEnum(BATCH_STATUSES)
  status?: string;

  @OptionalEnum(Object.keys(BATCH_KINDS))
  kind?: string;
}

/** `GET /v1/payout-batches/{id}`: a page of the batch's lines, optionally of one status. */
export class PayoutBatchLinesQuery extends ListQuery {
  @OptionalEnum(LINE_STATUSES)
  status?: string;
}
