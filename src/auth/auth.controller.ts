import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../common/auth/current-principal';
import { Public, Roles, StaffPrincipal } from '../common/auth/principal';
import { AuthService } from './auth.service';
import { MeResponse, TokenRequest, TokenResponse } from './auth.dto';

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
}
