import { createHash } from 'node:crypto';
import { problems } from '../common/problem';

/** Hash of the block before the first one. */
export const GENESIS_HASH = '0'.repeat(64);

export interface BlockFields {
  blockNo: number;
  prevHash: string;
  entriesHash: string;
  entryCount: number;
  fromTxid: string;
  fromSeq: string;
  toTxid: string;
  toSeq: string;
  horizon: string;
}

/**
 * The hash of one seal: its position, the previous seal's hash and the hash of its entries'
 * digests (in (txid, seq) order). Changing any sealed entry, or any earlier seal, changes it.
 */
export function blockHash(b: BlockFields): string {
  const canonical = [
    'monedero-seal-v1',
    String(b.blockNo),
    b.prevHash,
    b.entriesHash,
    String(b.entryCount),
    `${b.fromTxid}:${b.fromSeq}`,
    `${b.toTxid}:${b.toSeq}`,
    b.horizon,
  ].join('\n');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export interface ChainProblem {
  blockNo: number;
  detail: string;
}

/** Rechecks the links and hashes of a chain of seals given in block order. */
export function verifyChain(
  blocks: Array<BlockFields & { hash: string }>,
  recomputedEntriesHash: Map<number, { hash: string; count: number }>,
): ChainProblem[] {
  const out: ChainProblem[] = [];
  let prev = GENESIS_HASH;
  blocks.forEach((b, i) => {
    if (b.blockNo !== i + 1) out.push({ blockNo: b.blockNo, detail: `expected block ${i + 1}` });
    if (b.prevHash !== prev) out.push({ blockNo: b.blockNo, detail: 'previous hash does not match the previous block' });
    const again = recomputedEntriesHash.get(b.blockNo);
    if (!again || again.hash !== b.entriesHash || again.count !== b.entryCount) {
      out.push({ blockNo: b.blockNo, detail: 'the sealed entry digests of this block do not hash to the stored value' });
    }
    if (blockHash(b) !== b.hash) out.push({ blockNo: b.blockNo, detail: 'block hash does not match its content' });
    prev = b.hash;
  });
  return out;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A query bound: a business date (in the service time zone) or an ISO 8601 instant with zone. */
export type TimeBound = { kind: 'date'; value: string } | { kind: 'instant'; value: string };

export function parseTimeBound(name: string, value: string | undefined): TimeBound | null {
  if (value === undefined || value === '') return null;
  if (DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return { kind: 'date', value };
  if (INSTANT.test(value) && !Number.isNaN(Date.parse(value))) return { kind: 'instant', value };
  throw problems.validation(`${name} must be a date (YYYY-MM-DD) or an ISO 8601 instant with a time zone`);
}

export function parseLimit(limit: string | undefined, max = 500, dflt = 50): number {
  if (limit === undefined) return dflt;
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > max) {
    throw problems.validation(`limit must be an integer from 1 to ${max}`);
  }
  return Number(limit);
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    /* fall through */
  }
  throw problems.validation('cursor is not valid');
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. Formula-leading cells are neutralised. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function wantsCsv(accept: string | undefined, format?: string): boolean {
  if (format === 'csv') return true;
  return typeof accept === 'string' && /\btext\/csv\b/i.test(accept);
}
