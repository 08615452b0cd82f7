import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Matches, MaxLength } from 'class-validator';
import { CurrentStaff } from '../common/auth/current-principal';
import { Roles, StaffPrincipal } from '../common/auth/principal';
import { InstrumentsService } from './instruments.service';

export class DeliverRequest {
  @ApiProperty({ example: '1234', description: '4 to 6 digits; stored only as a keyed hash' })
  @Matches(/^\d{4,6}$/, { message: 'pin must be 4 to 6 digits' })
  @MaxLength(6)
  pin!: string;
}

@ApiTags('instruments')
@ApiBearerAuth()
@Controller('v1')
export class InstrumentsController {
  constructor(private readonly instruments: InstrumentsService) {}

  @Post('beneficiaries/:id/instruments')
  @Roles('program_officer')
  issue(@Param('id', new ParseUUIDPipe()) beneficiaryId: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.issue(beneficiaryId, staff);
  }

  @Get('instruments/:id')
  @Roles('program_officer', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.get(id, staff);
  }

  @Post('instruments/:id/deliver')
  @HttpCode(200)
  @Roles('program_officer')
  deliver(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: DeliverRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.deliver(id, body.pin, staff);
  }

  @Post('instruments/:id/replace')
  @Roles('program_officer')
  replace(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.replace(id, staff);
  }

  @Post('instruments/:id/block')
  @HttpCode(200)
  @Roles('program_officer')
  block(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.block(id, staff);
  }

  @Post('instruments/:id/unblock')
  @HttpCode(200)
  @Roles('program_officer')
  unblock(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.instruments.unblock(id, staff);
  }
}
