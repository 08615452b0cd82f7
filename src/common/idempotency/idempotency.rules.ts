import { createHash } from 'node:crypto';

/** API.md: 1–255 printable ASCII characters. */
export function isValidIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && /^[\x20-\x7e]{1,255}$/.test(key);
}

/** JSON with object keys sorted, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex');
}

/**
 * Which outcomes are remembered for the key. A 400 (the request never started) and a 5xx
 * (a fault) are forgotten, so the client may fix or retry with the same key.
 */
export function isRememberedStatus(status: number): boolean {
  return status < 400 || (status >= 401 && status < 500 && status !== 429 && status !== 409);
}
