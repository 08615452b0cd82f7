import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { ApiProblem, problems } from '../common/problem';
import { QUEUES } from '../jobs/queues';

export const QUEUE_DASHBOARD_PATH = '/queues';
const CACHE_MS = 60_000;

/**
 * Mounts bull-board at /queues behind HTTP Basic authentication of an admin staff user, so a
 * browser can open it. The password goes through AuthService.verifyCredentials, the check of every
 * staff login path: one lockout and one failure count. A verified header is remembered briefly
 * (by hash, with the user's token version) to spare a scrypt per asset; a deactivated user or a
 * changed password ends it at once, as for tokens.
 */
export async function mountQueueDashboard(app: NestFastifyApplication): Promise<void> {
  const queues = Object.values(QUEUES).map((name) => app.get<Queue>(getQueueToken(name), { strict: false }));
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const db = app.get(DataSource);
  const auth = app.get(AuthService, { strict: false });
  const verified = new Map<string, { userId: string; tokenVersion: number; until: number }>();

  const stillValid = async (session: { userId: string; tokenVersion: number; until: number } | undefined) => {
    if (!session || session.until <= Date.now()) return false;
    const rows = await db.query(`SELECT 1 FROM staff_users WHERE id = $1 AND active AND role = 'admin' AND token_version = $2`, [session.userId, session.tokenVersion]);
    return rows.length === 1;
  };

  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const fingerprint = createHash('sha256').update(header).digest('hex');
    if (await stillValid(verified.get(fingerprint))) return;
    verified.delete(fingerprint);
    const match = /^Basic (.+)$/i.exec(header);
    const [username, ...rest] = match ? Buffer.from(match[1], 'base64').toString('utf8').split(':') : [];
    if (username) {
      try {
        const user = await auth.verifyCredentials(username, rest.join(':'));
        if (user.role === 'admin') {
          verified.set(fingerprint, { userId: user.id, tokenVersion: user.tokenVersion, until: Date.now() + CACHE_MS });
          return;
        }
      } catch (error) {
        if (!(error instanceof ApiProblem)) throw error;
        if (error.status === 429) return sendProblem(reply, error);
      }
    }
    await sendProblem(reply, problems.unauthenticated('Log in as an admin'));
  };

  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', requireAdmin);
    await scope.register(serverAdapter.registerPlugin() as any, { prefix: QUEUE_DASHBOARD_PATH });
  });
}

function sendProblem(reply: FastifyReply, problem: ApiProblem) {
  if (problem.status === 401) void reply.header('www-authenticate', 'Basic realm="Monedero queues", charset="UTF-8"');
  return reply.status(problem.status).header('content-type', 'application/problem+json; charset=utf-8').send(problem.toBody());
}
