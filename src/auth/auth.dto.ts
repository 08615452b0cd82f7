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

export class SetPasswordRequest {
  @ApiProperty({ example: 'a new long passphrase', description: 'At least 8 characters; every session of the user ends' })
  @IsString()
  @Length(8, 200)
  password!: string;
}

export class ChangePasswordRequest {
  @ApiProperty({ description: 'Checked like a login: wrong ones count towards the lockout' })
  @IsString()
  @Length(1, 200)
  currentPassword!: string;

  @ApiProperty({ description: 'At least 8 characters' })
  @IsString()
  @Length(8, 200)
  newPassword!: string;
}

export class StaffUserResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'ana' }) username!: string;
  @ApiProperty({ enum: ['admin', 'program_officer', 'finance_operator', 'finance_approver', 'auditor'] }) role!: string;
  @ApiProperty() active!: boolean;
}
