import { decodeCursor, pageOf } from '../common/pagination';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { blockHash, GENESIS_HASH } from './audit.rules';
import { foldFinalEntries } from './final-entries';

/** Most entries per seal block (a huge cycle transaction is split across several blocks). */
export const SEAL_BLOCK_MAX_ENTRIES = 20_000;

/**
 * Seals journal entries into hash-chained blocks, and folds them into the daily totals.
 *
 * Ordering and the horizon. `seq` is handed out when a row is inserted, but transactions commit
 * in any order, and a transaction can take its seq a moment before it gets its transaction id; so
 * no "seq below which nothing is in flight" can be computed exactly. Instead every entry records
 * the id of the transaction that inserted it (journal_entries.txid, default pg_current_xact_id()),
 * and the sealer walks entries in (txid, seq) order up to a horizon H (audit_seal_horizon(): the
 * oldest transaction of this database still running, else the next transaction id): every
 * transaction with an id below H has committed or aborted, so the set of entries with
 * txid < H is final — nothing can ever be added below the horizon. Within a transaction entries
 * are sealed in seq order. Writers take no lock and do no extra work (only the default column).
 */
@Injectable()
export class SealsService {
  private readonly log = new Logger(SealsService.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Seals every final entry not sealed yet; returns the blocks and entries sealed. */
  async sealPending(maxBlocks = 1000): Promise<{ blocks: number; entries: number; folded: number }> {
    let blocks = 0;
    let entries = 0;
    while (blocks < maxBlocks) {
      const n = await this.sealOneBlock();
      if (n === null || n === 0) break;
      blocks++;
      entries += n;
      if (n < SEAL_BLOCK_MAX_ENTRIES) break;
    }
    const folded = await this.foldDayTotals();
    if (entries > 0) this.log.log({ blocks, entries, folded }, 'sealed journal entries');
    return { blocks, entries, folded };
  }

  /** One block in one transaction; null when another sealer holds the lock. */
  private async sealOneBlock(): Promise<number | null> {
    return this.db.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext('monedero:audit:seal')) AS locked`);
      if (!locked) return null;
      // First statement that needs a snapshot, before this transaction writes (and gets an id).
      const [{ horizon }] = await m.query(`SELECT audit_seal_horizon()::text AS horizon`);
      const last = (await m.query(
        `SELECT block_no::int AS "blockNo", to_txid::text AS "toTxid", to_seq::text AS "toSeq", hash FROM audit_seals ORDER BY block_no DESC LIMIT 1`,
      ))[0] as { blockNo: number; toTxid: string; toSeq: string; hash: string } | undefined;
      const blockNo = (last?.blockNo ?? 0) + 1;
      await m.query(
        `INSERT INTO audit_entry_digests (entry_id, seq, txid, block_no, digest)
         SELECT v.entry_id, v.seq, v.txid, $4, v.digest
           FROM audit_entry_digest_v v
          WHERE (v.txid, v.seq) > ($1::xid8, $2::bigint) AND v.txid < $3::xid8
          ORDER BY v.txid, v.seq
          LIMIT $5`,
        [last?.toTxid ?? '0', last?.toSeq ?? '0', horizon, blockNo, SEAL_BLOCK_MAX_ENTRIES],
      );
      const [agg] = await m.query(
        `SELECT count(*)::int AS n, min(seq)::text AS "firstSeq", max(seq)::text AS "lastSeq",
                encode(sha256(string_agg(digest, ''::bytea ORDER BY txid, seq)), 'hex') AS "entriesHash",
                (array_agg(txid::text ORDER BY txid, seq))[1] AS "fromTxid",
                (array_agg(seq::text ORDER BY txid, seq))[1] AS "fromSeq",
                (array_agg(txid::text ORDER BY txid DESC, seq DESC))[1] AS "toTxid",
                (array_agg(seq::text ORDER BY txid DESC, seq DESC))[1] AS "toSeq"
           FROM audit_entry_digests WHERE block_no = $1`,
        [blockNo],
      );
      if (agg.n === 0) return 0;
      const fields = {
        blockNo,
        prevHash: last?.hash ?? GENESIS_HASH,
        entriesHash: agg.entriesHash,
        entryCount: agg.n,
        fromTxid: agg.fromTxid,
        fromSeq: agg.fromSeq,
        toTxid: agg.toTxid,
        toSeq: agg.toSeq,
        horizon,
      };
      await m.query(
        `INSERT INTO audit_seals (block_no, from_txid, from_seq, to_txid, to_seq, first_seq, last_seq, entry_count, horizon, entries_hash, prev_hash, hash)
         VALUES ($1, $2::xid8, $3, $4::xid8, $5, $6, $7, $8, $9::xid8, $10, $11, $12)`,
        [blockNo, fields.fromTxid, fields.fromSeq, fields.toTxid, fields.toSeq, agg.firstSeq, agg.lastSeq, agg.n, horizon, fields.entriesHash, fields.prevHash, blockHash(fields)],
      );
      return agg.n as number;
    });
  }

  /** Folds final entries into audit_account_day_totals (same horizon rule). */
  async foldDayTotals(batch = 50_000): Promise<number> {
    return foldFinalEntries(this.db, 'monedero:audit:day-totals', batch, async (m, horizon) => {
      const [{ n }] = await m.query(`SELECT audit_fold_day_totals($1::xid8, $2) AS n`, [horizon, batch]);
      return n as number;
    });
  }

  async listSeals(limit: number, cursor: string | undefined) {
    const after = decodeCursor(cursor, ['int'] as const);
    const rows = await this.db.query(
      `SELECT block_no::int AS "blockNo", first_seq::text AS "firstSeq", last_seq::text AS "lastSeq", entry_count AS "entryCount",
              from_txid::text AS "fromTxid", to_txid::text AS "toTxid", horizon::text, entries_hash AS "entriesHash",
              prev_hash AS "prevHash", hash, sealed_at AS "sealedAt"
         FROM audit_seals WHERE $1::bigint IS NULL OR block_no > $1 ORDER BY block_no LIMIT $2`,
      [after?.[0] ?? null, limit + 1],
    );
    return pageOf(rows as Array<{ blockNo: number }>, limit, (r) => [r.blockNo]);
  }
}
