import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

/**
 * The body of every maker-checker cancel (cycles, remittances, payout batches): why it is
 * cancelled. Optional for API clients; the console always asks for it. Kept on the row as
 * `cancelReason` beside `cancelledBy` and `cancelledAt`.
 */
export class CancelRequest {
  @ApiPropertyOptional({ example: 'importe equivocado en el padrón', minLength: 1, maxLength: 500, description: 'Why it is cancelled (shown with who cancelled it)' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}
