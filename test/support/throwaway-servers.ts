import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Private PostgreSQL and Redis servers on free ports, for fault tests that stop and restart them.
 * Never the machine's shared servers. Each is torn down (and its files removed) by stop().
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, version, 'bin', name);
}

/** Runs a PostgreSQL binary as the `postgres` OS user when we are root (initdb refuses root). */
function asPostgres(bin: string, args: string[]): string {
  const isRoot = process.getuid?.() === 0;
  return isRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class ThrowawayPostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly settings: Record<string, string>,
  ) {}

  static available(): boolean {
    return existsSync('/usr/lib/postgresql') && existsSync(postgresBin('initdb'));
  }

  /**
   * `settings` are extra server settings (`-c name=value`); tests default to fsync off for speed,
   * benchmarks pass `{ fsync: 'on', … }` to measure durable commits.
   */
  static async create(settings: Record<string, string> = {}): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'monedero-pg-'));
    if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    asPostgres(postgresBin('initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const pg = new ThrowawayPostgres(await freePort(), dir, { fsync: 'off', max_connections: '60', ...settings });
    await pg.start();
    return pg;
  }

  get url(): string {
    return this.urlFor('monedero_fault_test');
  }

  urlFor(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    asPostgres(postgresBin('pg_ctl'), [
      '-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '30',
      '-o', [`-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, ...Object.entries(this.settings).map(([k, v]) => `-c ${k}=${v}`)].join(' '),
      'start',
    ]);
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    asPostgres(postgresBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /**
   * A hot standby of this cluster, streaming its WAL: pg_basebackup -R (standby.signal and
   * primary_conninfo), started on a port of its own. Reads only; destroy it like any other.
   */
  async replica(): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'monedero-pg-replica-'));
    if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    asPostgres(postgresBin('pg_basebackup'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-D', join(dir, 'data'), '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
    const standby = new ThrowawayPostgres(await freePort(), dir, { ...this.settings, hot_standby: 'on' });
    await standby.start();
    return standby;
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }

  /** Synchronous, so it can run from a process 'exit' handler. */
  destroySync(): void {
    try {
      asPostgres(postgresBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ThrowawayRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async create(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
