import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { StaffUsersController } from './staff-users.controller';
import { StaffUsersService } from './staff-users.service';

@Module({
  controllers: [AuthController, StaffUsersController],
  providers: [AuthService, StaffUsersService],
  exports: [StaffUsersService, AuthService],
})
export class AuthModule {}
