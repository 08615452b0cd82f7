import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/principal';
import { AuthService } from './auth.service';
import { TokenRequest, TokenResponse } from './auth.dto';

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
}
