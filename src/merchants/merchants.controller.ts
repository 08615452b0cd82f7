import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { actorOf, Roles, StaffPrincipal } from '../common/auth/principal';
import { CurrentStaff } from '../common/auth/current-principal';
import { CreateApiKeyRequest, CreateMerchantRequest, CreateTerminalRequest } from './merchants.dto';
import { ListQuery } from '../common/pagination';
import { MerchantsService } from './merchants.service';

/** Affiliation of merchants: changes are admin-only (no access decorator); finance staff and auditors read. */
@ApiTags('merchants')
@ApiBearerAuth()
@Controller('v1/merchants')
export class MerchantsController {
  constructor(private readonly merchants: MerchantsService) {}

  /** 201 `{ id, status: "active", apiKey }`: the key is shown only here. */
  @Post()
  create(@Body() body: CreateMerchantRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.merchants.create(body, actorOf(staff));
  }

  @Get()
  @Roles('auditor', 'finance_operator', 'finance_approver')
  list(@Query() query: ListQuery) {
    return this.merchants.list(query.limit, query.cursor);
  }

  @Get(':id')
  @Roles('auditor', 'finance_operator', 'finance_approver')
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.merchants.get(id);
  }

  @Post(':id/api-keys')
  createApiKey(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CreateApiKeyRequest) {
    return this.merchants.createApiKey(id, body?.terminalId ?? null);
  }

  @Delete(':id/api-keys/:keyId')
  revokeApiKey(@Param('id', new ParseUUIDPipe()) id: string, @Param('keyId', new ParseUUIDPipe()) keyId: string) {
    return this.merchants.revokeApiKey(id, keyId);
  }

  @Post(':id/terminals')
  createTerminal(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CreateTerminalRequest) {
    return this.merchants.createTerminal(id, body.label);
  }

  @Post(':id/suspend')
  @HttpCode(200)
  suspend(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.merchants.setStatus(id, 'suspended');
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  reactivate(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.merchants.setStatus(id, 'active');
  }
}
