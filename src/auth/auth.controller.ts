import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Public, Roles, StaffPrincipal } from '../common/auth/principal';
import { AuthService } from './auth.service';
import { ChangePasswordRequest, MeResponse, TokenRequest, TokenResponse } from './auth.dto';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('token')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenResponse })
  token(@Body() body: TokenRequest): Promise<TokenResponse> {
    return this.auth.issueToken(body.username, body.password);
  }

  /** Who the bearer token belongs to (the console shows each person only what their role allows). */
  @Get('me')
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  @ApiBearerAuth()
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentStaff() staff: StaffPrincipal): MeResponse {
    return { userId: staff.userId, username: staff.username, role: staff.role };
  }

  /** The caller's own password. Every session of the caller ends, this one too: log in again. */
  @Post('password')
  @HttpCode(204)
  @Roles('program_officer', 'finance_operator', 'finance_approver', 'auditor')
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Changed; every token of the user is refused from now on' })
  async changePassword(@CurrentStaff() staff: StaffPrincipal, @Body() body: ChangePasswordRequest): Promise<void> {
    await this.auth.changeOwnPassword(staff, body.currentPassword, body.newPassword);
  }
}
