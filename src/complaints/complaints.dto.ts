import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalUuid } from '../common/query-params';
import { CHANNELS, ESCALATION_TARGETS, OUTCOMES, RECEIPT_SIGNERS, SUBJECTS } from './complaints.rules';
import { IsIsoDate } from '../common/validation';

export class CreateComplaintRequest {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  programId!: string;

  @ApiProperty({ enum: CHANNELS })
  @IsIn(CHANNELS)
  channel!: string;

  @ApiProperty({ enum: SUBJECTS, description: "one of the program's subjects (Pensión, P51: staff_noncompliance, card_balance, wrongful_baja, other); else 400" })
  @IsIn(SUBJECTS)
  subject!: string;

  @ApiProperty({ description: '1–4000 characters; withheld from readers who may not see the identities of a confidential program' })
  @IsString()
  @Length(1, 4000)
  description!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'the beneficiary it concerns; for a confidential program only its assigned officers may name one' })
  @IsOptional()
  @IsUUID()
  beneficiaryId?: string;

  @ApiPropertyOptional({ description: "the area answerable for it (share-by-area report); default the program's first instance" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  area?: string;
}

export class CommitmentRequest {
  @ApiProperty() @IsString() @Length(1, 1000) description!: string;
  @ApiProperty({ example: '2016-04-15' }) @IsIsoDate() dueOn!: string;
}

export class AnswerComplaintRequest {
  @ApiProperty({ description: 'the written, reasoned answer (P53)' })
  @IsString()
  @Length(1, 8000)
  answer!: string;

  @ApiProperty({ enum: OUTCOMES, description: 'P53: refute, confirm or remedy the act complained of' })
  @IsIn(OUTCOMES)
  outcome!: string;

  @ApiPropertyOptional({ type: [CommitmentRequest], description: 'what the answer commits the unit to do, by when (open until fulfilled)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => CommitmentRequest)
  commitments?: CommitmentRequest[];
}

export class EscalateComplaintRequest {
  @ApiProperty({ enum: ESCALATION_TARGETS, description: 'X6: where the person takes it; must be one of the program\'s (else 422 escalation_target_not_allowed)' })
  @IsIn(ESCALATION_TARGETS)
  to!: string;
}

export class ReceiptRequest {
  @ApiProperty({ enum: RECEIPT_SIGNERS, description: 'P54: who signed the receipt of the answer: the holder (Derechohabiente) or their Representante Solidario' })
  @IsIn(RECEIPT_SIGNERS)
  signedBy!: string;
}

export class ComplaintsQuery extends ListQuery {
  @OptionalUuid('only this program')
  programId?: string;

  @OptionalEnum(['open', 'answered', 'overdue', 'escalated'], 'overdue = open and past its due date')
  status?: 'open' | 'answered' | 'overdue' | 'escalated';
}

export class ComplaintsReportQuery {
  @OptionalUuid('only this program')
  programId?: string;
}

export class ComplaintsReportListQuery extends ListQuery {
  @OptionalUuid('only this program')
  programId?: string;
}
