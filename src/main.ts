import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, ProcessRole } from './app.module';
import { configureHttpApp, createFastifyAdapter } from './app.setup';
import { ConfigError, loadConfig } from './config/config';
import { migrate } from './database/migrate';

/**
 * Starts Monedero: by default the HTTP API and the BullMQ worker in one process;
 * MONEDERO_ROLE=api or worker runs one of them (scale-out: run as many of each as needed).
 * Resolves with the port the API listens on (PORT=0 picks a free one), or null for a worker.
 */
export async function bootstrap(roleOverride?: ProcessRole): Promise<number | null> {
  const config = loadConfig();
  const role = roleOverride ?? config.MONEDERO_ROLE;
  if (config.MIGRATIONS_RUN === 'true') await migrate(config);

  if (role === 'worker') {
    const context = await NestFactory.createApplicationContext(AppModule.forRole('worker'), { bufferLogs: true });
    context.useLogger(context.get(Logger));
    context.enableShutdownHooks();
    context.get(Logger).log('Monedero worker started');
    return null;
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole(role), createFastifyAdapter(), { bufferLogs: true });
  await configureHttpApp(app);
  await app.listen(config.PORT, config.HOST);
  const { port } = app.getHttpServer().address() as AddressInfo;
  app.get(Logger).log(`Monedero ${role === 'all' ? 'API and worker' : 'API'} listening on http://${config.HOST}:${port} (docs at /docs)`);
  return port;
}

export function exitOnStartupError(error: unknown): never {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Monedero failed to start:', error);
  process.exit(1);
}

if (require.main === module) bootstrap().catch(exitOnStartupError);
