import { randomBytes } from 'node:crypto';

/**
 * Time-ordered UUIDs (RFC 9562 version 7) for rows created in bulk (padrón imports, bulk issuance): the import's start in milliseconds
 * plus a row counter, then 62 random bits. A million new keys then land at the right-hand edge of
 * the primary-key index (and of the history's foreign-key lookups) instead of all over it.
 */
export function orderedUuidFactory(startMs: number): () => string {
  let n = 0;
  return () => {
    const b = randomBytes(16);
    const ms = startMs + Math.floor(n / 4096);
    b.writeUIntBE(ms, 0, 6);
    const seq = n % 4096;
    b[6] = 0x70 | (seq >> 8);
    b[7] = seq & 0xff;
    b[8] = (b[8] & 0x3f) | 0x80;
    n++;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}
