import { createHash } from 'node:crypto';
import { boundInstant, isDate } from '../common/calendar';

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

/**
 * Rechecks the links and hashes of a chain of seals given in block order: from the first block,
 * or (an incremental check) from the block after `after`, a block verified before.
 */
export function verifyChain(
  blocks: Array<BlockFields & { hash: string }>,
  recomputedEntriesHash: Map<number, { hash: string; count: number }>,
  after: { blockNo: number; hash: string } = { blockNo: 0, hash: GENESIS_HASH },
): ChainProblem[] {
  const out: ChainProblem[] = [];
  let prev = after.hash;
  blocks.forEach((b, i) => {
    if (b.blockNo !== after.blockNo + i + 1) out.push({ blockNo: b.blockNo, detail: `expected block ${after.blockNo + i + 1}` });
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

/**
 * The exact instant (microseconds, UTC) a query bound of the audit reports stands for. A business
 * date `start`s at its 00:00 in the time zone; its `end` is the next day's 00:00 (exclusive). An
 * instant is itself as a `start`; as an `end` it is included (the exclusive bound is 1 µs later).
 */
export function boundInstantText(value: string, edge: 'start' | 'end', timeZone: string): string {
  if (isDate(value)) return microsText(BigInt(boundInstant(value, edge, timeZone).getTime()) * 1000n);
  const us = instantMicros(value);
  return microsText(edge === 'end' ? us + 1n : us);
}

const INSTANT_PARTS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Microseconds since the epoch of an ISO 8601 instant (digits past the sixth are dropped). */
export function instantMicros(value: string): bigint {
  const m = INSTANT_PARTS.exec(value);
  if (!m) throw new TypeError(`not an instant: ${value}`);
  const ms = Date.parse(`${m[1]}:${m[2] ?? '00'}${m[4]}`);
  return BigInt(ms) * 1000n + BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6));
}

function microsText(us: bigint): string {
  const seconds = us / 1_000_000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${String(us % 1_000_000n).padStart(6, '0')}Z`;
}

export function wantsCsv(accept: string | undefined, format?: string): boolean {
  if (format === 'csv') return true;
  return typeof accept === 'string' && /\btext\/csv\b/i.test(accept);
}
