import { Module, OnModuleInit } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuditHandlerGuard } from './audit-handler.guard';
import { installAuditHook } from './audit-log.hook';
import { AuditLogService } from './audit-log.service';
import { AuditController } from './audit.controller';
import { BalancesService } from './balances.service';
import { ExecutionService } from './execution.service';
import { IndicatorsService } from './indicators.service';
import { IntegrityService } from './integrity.service';
import { ReconciliationService } from './reconciliation.service';
import { SealsService } from './seals.service';

/** Trial balance, statements, reconciliation, indicators, integrity seals and the staff action log. */
@Module({
  controllers: [AuditController],
  providers: [
    AuditLogService,
    BalancesService,
    IndicatorsService,
    ExecutionService,
    IntegrityService,
    ReconciliationService,
    SealsService,
    { provide: APP_GUARD, useClass: AuditHandlerGuard },
  ],
  exports: [SealsService, BalancesService, IntegrityService, AuditLogService, ExecutionService],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auditLog: AuditLogService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost?.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (fastify && typeof fastify.addHook === 'function') installAuditHook(fastify, this.auditLog);
  }
}
