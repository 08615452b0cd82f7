import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SetPasswordRequest, StaffUserResponse } from './auth.dto';
import { StaffUsersService } from './staff-users.service';

/** Staff user administration (admin only: no @Roles). Both actions end the user's sessions at once. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/staff-users')
export class StaffUsersController {
  constructor(private readonly users: StaffUsersService) {}

  @Post(':id/deactivate')
  @HttpCode(200)
  @ApiOkResponse({ type: StaffUserResponse, description: 'The user can no longer log in; every token they hold is refused from now on' })
  deactivate(@Param('id', new ParseUUIDPipe()) id: string): Promise<StaffUserResponse> {
    return this.users.deactivate(id);
  }

  @Post(':id/password')
  @HttpCode(200)
  @ApiOkResponse({ type: StaffUserResponse, description: 'New password set; every token issued before is refused from now on' })
  setPassword(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: SetPasswordRequest): Promise<StaffUserResponse> {
    return this.users.setPassword(id, body.password);
  }
}
