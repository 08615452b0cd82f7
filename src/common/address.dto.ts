import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { CURP_STATES } from '../beneficiaries/curp.rules';

/** API.md's address: `{ street?, colonia?, municipality?, state, postalCode? }` (beneficiaries and merchants). */
export class AddressDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) street?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) colonia?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 200) municipality?: string;
  @ApiProperty({ example: 'DF', description: 'two-letter CURP state code', enum: CURP_STATES }) @IsIn(CURP_STATES) state!: string;
  @ApiPropertyOptional({ example: '06000' }) @IsOptional() @Matches(/^\d{5}$/) @MaxLength(5) postalCode?: string;
}
