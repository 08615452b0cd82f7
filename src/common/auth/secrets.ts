import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

/** scrypt cost for passwords and PINs: ~50–100 ms on this hardware, memory-hard. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/** Hashes a password or PIN with a random salt: `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashSecret(secret: string, cost: { N: number } = SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const params = { ...SCRYPT, N: cost.N };
  const key = await scrypt(secret, salt, KEY_LENGTH, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [algo, n, r, p, salt, hash] = stored.split('$');
  if (algo !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Merchant API keys are 256 random bits, so a fast hash (SHA-256) is enough to store them:
 * nobody can brute-force the preimage, and lookups by hash stay one index probe.
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `mk_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Instrument numbers and PINs are stored as HMAC-SHA-256 under INSTRUMENT_NUMBER_SECRET, a key
 * that never sits in the database. A slow KDF would not protect a 4–6 digit PIN anyway (10^6
 * guesses), while it would cap redemptions at a few dozen per second per core; what protects a
 * PIN is the key plus the three-attempts lock. Both hashes are computable from the request alone,
 * so a redemption needs no lookup before its single SQL call.
 */
export function instrumentNumberHash(number: string, secret: string): string {
  return createHmac('sha256', secret).update(`number:${number}`).digest('hex');
}

/** Keyed by the number's hash (which the database keeps), so delivery can set a PIN without the number. */
export function pinHash(numberHash: string, pin: string, secret: string): string {
  return createHmac('sha256', secret).update(`pin:${numberHash}:${pin}`).digest('hex');
}
