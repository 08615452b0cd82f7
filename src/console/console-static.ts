import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where the console is served (public static assets; all data comes from /v1 with the staff JWT). */
export const CONSOLE_PATH = '/console';

/**
 * The console's source folder (`console/` at the repository root). Found from this file, which runs
 * as src/console/*.ts (tests) or dist/src/console/*.js (npm start); CONSOLE_DIR overrides.
 */
export function consoleRoot(configured: string | undefined): string | null {
  const candidates = [configured, resolve(__dirname, '../../console'), resolve(__dirname, '../../../console')];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'index.html'))) return dir;
  return null;
}

/** The folder of an installed package (found from its entry point: not every package exports package.json). */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`package ${name} not found`);
    dir = up;
  }
  return dir;
}

/** The browser builds of the two libraries the console imports through its import map. */
export function vendorFiles(): Record<string, string> {
  const preact = packageRoot('preact');
  const htm = packageRoot('htm');
  return {
    'preact.mjs': join(preact, 'dist/preact.mjs'),
    'hooks.mjs': join(preact, 'hooks/dist/hooks.mjs'),
    'htm.mjs': join(htm, 'dist/htm.mjs'),
  };
}

/** 'sha256-…' of each inline script of index.html (its import map), for the Content-Security-Policy. */
export function inlineScriptHashes(indexHtml: string): string[] {
  return [...indexHtml.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
    .filter((m) => !/\bsrc=/.test(m[0].slice(0, m[0].indexOf('>'))) && m[1].length > 0)
    .map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
}

function securityHeaders(root: string): Record<string, string> {
  const hashes = inlineScriptHashes(readFileSync(join(root, 'index.html'), 'utf8'));
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    // Our own modules, styles and API only; the one inline script (the import map) by its hash.
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'self' ${hashes.join(' ')}`.trim(),
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ].join('; '),
  };
}

/**
 * Serves the console as static ES modules (no build step): /console/ → console/index.html,
 * /console/vendor/*.mjs → preact and htm from node_modules. Registered in its own Fastify scope,
 * so it adds no reply decorators to the API's routes.
 */
export function registerConsole(fastify: FastifyInstance, consoleDir: string | undefined): boolean {
  const root = consoleRoot(consoleDir);
  if (!root) return false;
  const vendor = vendorFiles();
  const headers = securityHeaders(root);
  void fastify.register(async (scope: FastifyInstance) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      for (const [k, v] of Object.entries(headers)) reply.header(k, v);
      return payload;
    });
    // /console (no slash) → /console/ so that relative module URLs resolve under it.
    scope.get(CONSOLE_PATH, async (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));
    for (const [name, file] of Object.entries(vendor)) {
      scope.get(`${CONSOLE_PATH}/vendor/${name}`, async (_request, reply) =>
        reply.header('cache-control', 'public, max-age=3600').sendFile(file.split('/').pop()!, dirname(file)),
      );
    }
    await scope.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PATH}/`,
      index: ['index.html'],
      cacheControl: true,
      maxAge: 0,
      // The source folder holds only the console; dotfiles and folder listings are never served.
      dotfiles: 'deny',
      list: false,
      wildcard: true,
    });
  });
  return true;
}
