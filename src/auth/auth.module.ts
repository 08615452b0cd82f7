import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { StaffUsersService } from './staff-users.service';

@Module({
  controllers: [AuthController],
  providers: [AuthService, StaffUsersService],
  exports: [StaffUsersService],
})
export class AuthModule {}
