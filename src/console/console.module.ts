import { Inject, Logger, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DisbursementsModule } from '../disbursements/disbursements.module';
import { ConsoleCyclesController } from './console-cycles.controller';
import { registerConsole } from './console-static';
import { ConsoleService } from './console.service';

/**
 * The finance and audit web console (docs/console.md): static ES modules from `console/` served at
 * /console, plus the few read endpoints it needs under /v1/console.
 */
@Module({
  imports: [DisbursementsModule],
  controllers: [ConsoleCyclesController],
  providers: [ConsoleService],
})
export class ConsoleModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost?.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify || typeof fastify.register !== 'function') return; // worker or CLI: no HTTP
    try {
      if (!registerConsole(fastify, this.config.CONSOLE_DIR)) new Logger('Console').warn('console/ not found: the web console is not served');
    } catch (error) {
      // The API stays up without its console; say why.
      new Logger('Console').error(`the web console is not served: ${(error as Error).message}`);
    }
  }
}
