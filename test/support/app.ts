import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule, ProcessRole } from '../../src/app.module';
import { configureHttpApp, createFastifyAdapter } from '../../src/app.setup';
import { Clock, SettableClock } from '../../src/common/clock';
import type { Role } from '../../src/common/auth/principal';
import { StaffUsersService } from '../../src/auth/staff-users.service';
import { APP_CONFIG, AppConfig, loadConfig } from '../../src/config/config';

export interface TestApp {
  app: NestFastifyApplication;
  http: ReturnType<typeof request>;
  clock: SettableClock;
  db: DataSource;
  /** A new staff user with this role and a bearer token for it. */
  staff(role: Role): Promise<{ id: string; username: string; token: string; auth: { Authorization: string } }>;
  close(): Promise<void>;
}

/**
 * The real application (real PostgreSQL and Redis) with a settable clock. `api` role by default: no
 * workers. `config` overrides settings past their bounds (e.g. sweep chunks of a few vouchers).
 */
export async function createTestApp(options: { role?: ProcessRole; now?: Date; imports?: any[]; config?: Partial<AppConfig> } = {}): Promise<TestApp> {
  const clock = new SettableClock(options.now ?? new Date());
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRole(options.role ?? 'api'), ...(options.imports ?? [])] })
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(APP_CONFIG)
    .useFactory({ factory: () => ({ ...loadConfig(), ...options.config }) })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  await configureHttpApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const http = request(app.getHttpServer());
  const db = app.get(DataSource);
  const users = app.get(StaffUsersService);
  return {
    app,
    http,
    clock,
    db,
    async staff(role) {
      const username = `${role}-${randomUUID().slice(0, 8)}`;
      const password = 'correct horse battery staple';
      const user = await users.create(username, password, role);
      const res = await request(app.getHttpServer()).post('/v1/auth/token').send({ username, password }).expect(200);
      return { id: user.id, username, token: res.body.accessToken, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
    },
    close: () => app.close(),
  };
}
