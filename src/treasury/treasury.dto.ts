import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsISO8601, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ListQuery } from '../common/pagination';
import { OptionalEnum, OptionalUuid } from '../common/query-params';
import { IsIsoDate, IsMoneyAmount } from '../common/validation';
import { RECEIVABLE_STATUSES, REINTEGRO_CAUSES, REINTEGRO_STATUSES, REMITTANCE_STATUSES } from './treasury.rules';

export class CreateRemittanceRequest {
  @ApiProperty({ description: 'The program whose pending reintegros go into the draft batch' })
  @IsUUID()
  programId!: string;
}

export class CardArrivalRequest {
  @ApiProperty({ example: '2016-03-01', description: 'Business date the card arrived at the central office (P21)' })
  @IsIsoDate()
  arrivedOn!: string;

  @ApiPropertyOptional({ description: 'Delivery batch reference from the issuer' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  batch?: string;
}

export class BatchCardArrivalRequest extends CardArrivalRequest {
  @ApiProperty({ type: [String], description: 'Cards of the program that arrived in this batch (at most 10,000)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10000)
  @IsUUID('all', { each: true })
  instrumentIds!: string[];
}

export class DeliveryVisitRequest {
  @ApiProperty({ example: '2016-04-20T16:30:00Z', description: 'When the failed delivery visit took place (ISO 8601)' })
  @IsISO8601({ strict: true })
  @MaxLength(40)
  visitedAt!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  note?: string;
}

export class ReintegrosQuery extends ListQuery {
  @OptionalUuid()
  programId?: string;

  @OptionalEnum(REINTEGRO_STATUSES)
  status?: string;

  @OptionalEnum(REINTEGRO_CAUSES)
  cause?: string;

  @OptionalUuid('the reintegros of this remittance')
  remittanceId?: string;
}

export class RemittancesQuery extends ListQuery {
  @OptionalUuid()
  programId?: string;

  @OptionalEnum(REMITTANCE_STATUSES)
  status?: string;
}

export class RescindGrantRequest {
  @ApiProperty({ example: 'incumplimiento del Convenio de Concertación', description: 'The cause of the cancellation (PROFACE C-2)' })
  @IsString()
  @Length(1, 500)
  cause!: string;

  @ApiProperty({ example: '2016-07-04', description: 'The business date the group was notified: the restitution is computed at it and due 20 business days later' })
  @IsIsoDate()
  notifiedOn!: string;
}

export class RestitutionRequest {
  @ApiProperty({ example: '25000.00' })
  @IsMoneyAmount()
  amount!: string;

  @ApiProperty({ example: '2016-05-20', description: 'The business date the grantee paid' })
  @IsIsoDate()
  paidOn!: string;

  @ApiProperty({ example: 'SPEI 0123456789', description: 'The transfer or deposit-slip reference' })
  @IsString()
  @Length(1, 200)
  reference!: string;
}

export class GrantReceivablesQuery extends ListQuery {
  @OptionalUuid()
  programId?: string;

  @OptionalEnum(RECEIVABLE_STATUSES)
  status?: string;
}

export class RemittanceDocumentQuery {
  @OptionalEnum(['es'], 'es: Spanish headers and values, times in the program\'s time zone, a BOM and a readable file name (for spreadsheets); absent: the document as docs/treasury.md defines it')
  lang?: 'es';
}
