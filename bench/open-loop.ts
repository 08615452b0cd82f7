import http from 'node:http';
import { percentile } from './support';

/**
 * An open-loop load generator: requests go out at a constant arrival rate on a timer, whether
 * or not earlier ones have answered, and each latency is measured from the moment the request
 * was DUE, not from when it could be sent. A slow server therefore shows up as latency (and a
 * backlog), never as fewer requests sent — the coordinated omission of closed-loop tools, and of
 * autocannon's overallRate, which sends each second's quota in a burst.
 */
export interface OpenLoopRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  offeredPerSecond: number;
  seconds: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Requests still unanswered when the run ended (counted as errors). */
  unanswered: number;
  achievedPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** p99 of each second of the run, to see bursts (e.g. a background job). */
  p99BySecondMs: number[];
  /** How late the generator sent requests (its own lag), p99: large values mean the generator was starved of CPU. */
  sendLagP99Ms: number;
}

export async function openLoop(opts: {
  url: string;
  perSecond: number;
  seconds: number;
  request: (i: number) => OpenLoopRequest;
  maxSockets?: number;
}): Promise<OpenLoopResult> {
  const target = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 512 });
  const total = Math.round(opts.perSecond * opts.seconds);
  const latencies: number[] = [];
  const bySecond: number[][] = Array.from({ length: Math.ceil(opts.seconds) + 1 }, () => []);
  const sendLag: number[] = [];
  let sent = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let answered = 0;
  const start = performance.now();
  const dueAt = (i: number) => start + (i * 1000) / opts.perSecond;

  await new Promise<void>((resolve) => {
    const fire = (i: number) => {
      const due = dueAt(i);
      sendLag.push(performance.now() - due);
      const r = opts.request(i);
      const req = http.request(
        { host: target.hostname, port: target.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) }, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            const ms = performance.now() - due;
            latencies.push(ms);
            bySecond[Math.min(bySecond.length - 1, Math.floor((due - start) / 1000))].push(ms);
            if (res.statusCode && res.statusCode < 300) ok++;
            else non2xx++;
            answered++;
          });
        },
      );
      req.on('error', () => {
        errors++;
        answered++;
      });
      if (r.body) req.write(r.body);
      req.end();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && dueAt(sent) <= now) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Wait for the stragglers (at most 10 s), then count what never answered.
  const deadline = performance.now() + 10_000;
  while (answered < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const unanswered = sent - answered;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  sendLag.sort((a, b) => a - b);
  const r2 = (x: number) => Number(x.toFixed(2));
  return {
    offeredPerSecond: opts.perSecond,
    seconds: opts.seconds,
    sent,
    ok,
    non2xx,
    errors: errors + unanswered,
    unanswered,
    achievedPerSecond: Math.round(ok / opts.seconds),
    p50Ms: r2(percentile(latencies, 50)),
    p90Ms: r2(percentile(latencies, 90)),
    p99Ms: r2(percentile(latencies, 99)),
    p999Ms: r2(percentile(latencies, 99.9)),
    maxMs: r2(latencies[latencies.length - 1] ?? 0),
    p99BySecondMs: bySecond.filter((s) => s.length).map((s) => r2(percentile(s.sort((a, b) => a - b), 99))),
    sendLagP99Ms: r2(percentile(sendLag, 99)),
  };
}
