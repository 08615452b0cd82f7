import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ServiceChild {
  proc: ChildProcess;
  /** http://127.0.0.1:<port> for an API process, null for a worker. */
  base: string | null;
}

/**
 * Starts a real Monedero process (src/main.ts) with `env` over this process's environment, and
 * resolves once it has started. An API child binds PORT=0 and reports the port it got: a port
 * chosen here and bound later could be taken meanwhile by another suite's server, and the test
 * would then talk to that server (seen in CI: a 401 from a database without the test's users).
 */
export function startServiceProcess(env: Record<string, string>, timeoutMs = 120000): Promise<ServiceChild> {
  const proc = spawn(process.execPath, [join(__dirname, 'service-process.js')], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the ${env.MONEDERO_ROLE ?? 'all'} process did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the ${env.MONEDERO_ROLE ?? 'all'} process exited while starting (${signal ?? code})`));
    });
    proc.once('message', (message: { started?: boolean; port?: number | null }) => {
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      // The channel is no longer needed; without it the child would keep this process's event loop alive.
      proc.disconnect();
      resolve({ proc, base: message.port ? `http://127.0.0.1:${message.port}` : null });
    });
  });
}
