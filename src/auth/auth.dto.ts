import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class TokenRequest {
  @ApiProperty({ example: 'ana' })
  @IsString()
  @Length(1, 100)
  username!: string;

  @ApiProperty({ example: 'a long passphrase' })
  @IsString()
  @Length(1, 200)
  password!: string;
}

export class TokenResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ description: 'seconds' }) expiresIn!: number;
}

export class MeResponse {
  @ApiProperty() userId!: string;
  @ApiProperty({ example: 'ana' }) username!: string;
  @ApiProperty({ enum: ['admin', 'program_officer', 'finance_operator', 'finance_approver', 'auditor'] }) role!: string;
}
