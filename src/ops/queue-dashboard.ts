import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { verifySecret } from '../common/auth/secrets';
import { QUEUES } from '../jobs/queues';

export const QUEUE_DASHBOARD_PATH = '/queues';
const CACHE_MS = 60_000;

/**
 * Mounts bull-board at /queues behind HTTP Basic authentication of an admin staff user, so a
 * browser can open it. Verified credentials are cached briefly (by hash) to spare a scrypt per asset.
 */
export async function mountQueueDashboard(app: NestFastifyApplication): Promise<void> {
  const queues = Object.values(QUEUES).map((name) => app.get<Queue>(getQueueToken(name), { strict: false }));
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const db = app.get(DataSource);
  const verified = new Map<string, number>();

  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const fingerprint = createHash('sha256').update(header).digest('hex');
    if ((verified.get(fingerprint) ?? 0) > Date.now()) return;
    const match = /^Basic (.+)$/i.exec(header);
    const [username, ...rest] = match ? Buffer.from(match[1], 'base64').toString('utf8').split(':') : [];
    const rows = username
      ? await db.query(`SELECT password_hash AS "hash" FROM staff_users WHERE lower(username) = lower($1) AND role = 'admin' AND active`, [username])
      : [];
    if (rows[0] && (await verifySecret(rest.join(':'), rows[0].hash))) {
      verified.set(fingerprint, Date.now() + CACHE_MS);
      return;
    }
    await reply
      .status(401)
      .header('www-authenticate', 'Basic realm="Monedero queues", charset="UTF-8"')
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({ type: 'https://monedero.example/problems/unauthenticated', title: 'Unauthorized', status: 401, detail: 'Log in as an admin', code: 'unauthenticated' });
  };

  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', requireAdmin);
    await scope.register(serverAdapter.registerPlugin() as any, { prefix: QUEUE_DASHBOARD_PATH });
  });
}
