import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { GENESIS_HASH, verifyChain } from './audit.rules';

/** What an integrity check found wrong; entryId / accountId / blockNo say exactly where. */
export interface IntegrityProblem {
  type:
    | 'seal_chain_broken'
    | 'sealed_entry_altered'
    | 'sealed_entry_missing'
    | 'unsealed_entry_below_seal'
    | 'entry_unbalanced'
    | 'entry_without_postings'
    | 'posting_without_entry'
    | 'posting_date_mismatch'
    | 'account_totals_mismatch'
    | 'account_negative'
    | 'pending_holds_mismatch'
    | 'posting_unknown_account'
    | 'day_totals_mismatch'
    | 'ledger_unbalanced';
  detail: string;
  entryId?: string;
  seq?: string;
  accountId?: string;
  accountCode?: string;
  blockNo?: number;
  expected?: Record<string, string>;
  actual?: Record<string, string>;
}

const ALL_POSTINGS_BY_ACCOUNT = `SELECT account_id, coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0) AS debits,
       coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0) AS credits
  FROM postings GROUP BY account_id`;

/** Where the last incremental check stopped: the last seal verified and the running totals up to it. */
interface Checkpoint {
  id: string;
  blockNo: number;
  hash: string;
  toTxid: string;
  toSeq: string;
  entries: string;
  debits: string;
  credits: string;
}

/** Problems listed in full in a report; beyond this only counted. */
export const MAX_LISTED_PROBLEMS = 1000;

/**
 * Recomputes everything from the postings, in one REPEATABLE READ snapshot: the seal chain and
 * every sealed entry's digest; every entry's balance; every account's totals (against
 * ledger_balances, i.e. running totals plus hot-account deltas), the no-negative rule and the
 * holds; the daily totals cache. Read-only.
 */
@Injectable()
export class IntegrityService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async check(db: DataSource = this.db) {
    return db.transaction('REPEATABLE READ', async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      const problems: IntegrityProblem[] = [];
      const counts = (await m.query(
        `SELECT (SELECT count(*) FROM journal_entries)::text AS entries, (SELECT count(*) FROM postings)::text AS postings,
                (SELECT count(*) FROM ledger_accounts)::text AS accounts, (SELECT count(*) FROM audit_entry_digests)::text AS sealed`,
      ))[0];
      const chain = await this.checkSeals(m, problems);
      await this.checkEntries(m, problems);
      await this.checkAccounts(m, problems);
      await this.checkDayTotals(m, problems);
      const ledger = (await m.query(
        `SELECT coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0)::text AS debits,
                coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)::text AS credits FROM postings`,
      ))[0];
      if (ledger.debits !== ledger.credits) {
        problems.push({ type: 'ledger_unbalanced', detail: 'total debits differ from total credits', expected: { debits: ledger.credits }, actual: { debits: ledger.debits } });
      }
      return {
        ok: problems.length === 0,
        checkedEntries: Number(counts.entries),
        checkedPostings: Number(counts.postings),
        checkedAccounts: Number(counts.accounts),
        sealedEntries: Number(counts.sealed),
        unsealedEntries: Number(counts.entries) - Number(counts.sealed),
        sealedBlocks: chain.blocks,
        chain: { ok: chain.ok, lastBlock: chain.lastBlock, lastHash: chain.lastHash },
        totals: { debits: ledger.debits, credits: ledger.credits },
        problemCount: problems.length,
        problems: problems.slice(0, MAX_LISTED_PROBLEMS),
      };
    });
  }

  /**
   * The incremental check (docs/audit.md "Incremental integrity"): verifies only what came after
   * the last checkpoint, never rereading history. The seal blocks after the checkpoint's block
   * (linked to it, hashes recomputed) and every entry they seal against its live rows; the entries
   * after the checkpoint's (txid, seq) mark not in any seal although below the last one; every
   * new entry balanced with postings on both sides; every account's totals against the
   * checkpointed running totals plus the new postings; the ledger balanced overall. When all
   * holds, a new checkpoint is recorded at the last seal (only sealed entries are final) and its
   * running totals advance by the sealed part; the first run (no checkpoint) starts from genesis.
   * What an incremental check cannot see — a change to history before its checkpoint — the full
   * check (`check`) still finds.
   */
  async checkIncremental(db: DataSource = this.db) {
    return db.transaction('REPEATABLE READ', async (m) => {
      const problems: IntegrityProblem[] = [];
      const cp = ((await m.query(
        `SELECT id::text, block_no AS "blockNo", block_hash AS hash, to_txid::text AS "toTxid", to_seq::text AS "toSeq",
                entries::text, debits::text, credits::text
           FROM audit_integrity_checkpoints ORDER BY id DESC LIMIT 1`,
      ))[0] as Checkpoint | undefined) ?? { id: '0', blockNo: 0, hash: GENESIS_HASH, toTxid: '0', toSeq: '0', entries: '0', debits: '0', credits: '0' };

      const blocks = (await m.query(
        `SELECT block_no::int AS "blockNo", prev_hash AS "prevHash", entries_hash AS "entriesHash", entry_count AS "entryCount",
                from_txid::text AS "fromTxid", from_seq::text AS "fromSeq", to_txid::text AS "toTxid", to_seq::text AS "toSeq",
                horizon::text, hash
           FROM audit_seals WHERE block_no > $1 ORDER BY block_no`,
        [cp.blockNo],
      )) as Parameters<typeof verifyChain>[0];
      const recomputed = new Map<number, { hash: string; count: number }>();
      for (const r of await m.query(
        `SELECT block_no::int AS "blockNo", count(*)::int AS n, encode(sha256(string_agg(digest, ''::bytea ORDER BY txid, seq)), 'hex') AS h
           FROM audit_entry_digests WHERE block_no > $1 GROUP BY block_no`,
        [cp.blockNo],
      )) {
        recomputed.set(r.blockNo, { hash: r.h, count: r.n });
      }
      for (const p of verifyChain(blocks, recomputed, cp)) problems.push({ type: 'seal_chain_broken', blockNo: p.blockNo, detail: p.detail });
      for (const r of await m.query(
        `SELECT d.entry_id AS "entryId", d.seq::text, d.block_no::int AS "blockNo", v.entry_id IS NULL AS missing
           FROM audit_entry_digests d LEFT JOIN audit_entry_digest_v v ON v.entry_id = d.entry_id
          WHERE d.block_no > $1 AND (v.entry_id IS NULL OR v.digest <> d.digest)
          ORDER BY d.seq`,
        [cp.blockNo],
      )) {
        problems.push(
          r.missing
            ? { type: 'sealed_entry_missing', entryId: r.entryId, seq: r.seq, blockNo: r.blockNo, detail: 'a sealed journal entry no longer exists' }
            : { type: 'sealed_entry_altered', entryId: r.entryId, seq: r.seq, blockNo: r.blockNo, detail: 'the entry or its postings differ from what was sealed' },
        );
      }
      const last = blocks[blocks.length - 1];
      const mark = last ? { toTxid: last.toTxid, toSeq: last.toSeq } : cp;
      for (const r of await m.query(
        `SELECT e.id AS "entryId", e.seq::text FROM journal_entries e
          WHERE (e.txid, e.seq) > ($1::xid8, $2::bigint) AND (e.txid, e.seq) <= ($3::xid8, $4::bigint)
            AND NOT EXISTS (SELECT 1 FROM audit_entry_digests d WHERE d.entry_id = e.id)
          ORDER BY e.seq`,
        [cp.toTxid, cp.toSeq, mark.toTxid, mark.toSeq],
      )) {
        problems.push({ type: 'unsealed_entry_below_seal', entryId: r.entryId, seq: r.seq, detail: 'entry inside the sealed range but absent from every seal' });
      }

      // The new entries (sealed or not) with their postings, read by entry and instant: one partition each.
      await m.query(
        `CREATE TEMP TABLE audit_check_new ON COMMIT DROP AS
         SELECT e.id AS entry_id, e.seq, e.txid, (e.txid, e.seq) <= ($3::xid8, $4::bigint) AS sealed, p.account_id, p.side, p.amount
           FROM journal_entries e
           LEFT JOIN LATERAL (SELECT x.account_id, x.side, x.amount FROM postings x WHERE x.entry_id = e.id AND x.effective_at = e.effective_at) p ON true
          WHERE (e.txid, e.seq) > ($1::xid8, $2::bigint)`,
        [cp.toTxid, cp.toSeq, mark.toTxid, mark.toSeq],
      );
      for (const r of await m.query(
        `SELECT entry_id AS "entryId", min(seq)::text AS seq, bool_and(side IS NULL) AS empty,
                coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0)::text AS debits, coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)::text AS credits
           FROM audit_check_new GROUP BY entry_id
         HAVING bool_and(side IS NULL) OR NOT bool_or(side = 'debit') OR NOT bool_or(side = 'credit')
             OR coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0) <> coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)
          ORDER BY 2`,
      )) {
        problems.push(r.empty ? entryWithoutPostings(r) : entryUnbalanced(r));
      }
      await this.checkAccounts(
        m,
        problems,
        `SELECT coalesce(c.account_id, n.account_id) AS account_id, coalesce(c.debits, 0) + coalesce(n.debits, 0) AS debits,
                coalesce(c.credits, 0) + coalesce(n.credits, 0) AS credits
           FROM audit_integrity_account_totals c
           FULL JOIN (SELECT account_id, coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0) AS debits,
                             coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0) AS credits
                        FROM audit_check_new WHERE account_id IS NOT NULL GROUP BY account_id) n ON n.account_id = c.account_id`,
      );
      const [news] = await m.query(
        `SELECT count(DISTINCT entry_id)::text AS entries, count(side)::text AS postings,
                count(DISTINCT entry_id) FILTER (WHERE sealed)::text AS "sealedEntries",
                ($1::numeric + coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0))::text AS debits,
                ($2::numeric + coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0))::text AS credits,
                ($1::numeric + coalesce(sum(amount) FILTER (WHERE side = 'debit' AND sealed), 0))::text AS "sealedDebits",
                ($2::numeric + coalesce(sum(amount) FILTER (WHERE side = 'credit' AND sealed), 0))::text AS "sealedCredits"
           FROM audit_check_new`,
        [cp.debits, cp.credits],
      );
      if (news.debits !== news.credits) {
        problems.push({ type: 'ledger_unbalanced', detail: 'total debits differ from total credits', expected: { debits: news.credits }, actual: { debits: news.debits } });
      }

      let checkpoint: { blockNo: number; hash: string } | null = null;
      if (problems.length === 0 && last) {
        // The running totals advance by the sealed new entries; a concurrent check that took the same
        // checkpoint fails on prev_id's uniqueness and rolls back.
        await m.query(
          `INSERT INTO audit_integrity_account_totals AS t (account_id, debits, credits)
           SELECT account_id, coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0), coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)
             FROM audit_check_new WHERE sealed AND account_id IS NOT NULL GROUP BY account_id
           ON CONFLICT (account_id) DO UPDATE SET debits = t.debits + excluded.debits, credits = t.credits + excluded.credits`,
        );
        await m.query(
          `INSERT INTO audit_integrity_checkpoints (prev_id, block_no, block_hash, to_txid, to_seq, entries, debits, credits, checked_entries, checked_postings)
           VALUES ($1, $2, $3, $4::xid8, $5, $6::bigint + $7::bigint, $8, $9, $10, $11)`,
          [cp.id, last.blockNo, last.hash, last.toTxid, last.toSeq, cp.entries, news.sealedEntries, news.sealedDebits, news.sealedCredits, news.entries, news.postings],
        );
        checkpoint = { blockNo: last.blockNo, hash: last.hash };
      }
      return {
        ok: problems.length === 0,
        mode: 'incremental' as const,
        fromBlock: cp.blockNo,
        toBlock: last?.blockNo ?? cp.blockNo,
        checkedBlocks: blocks.length,
        checkedEntries: Number(news.entries),
        checkedPostings: Number(news.postings),
        sealedEntries: Number(news.sealedEntries),
        checkpoint,
        totals: { debits: news.debits, credits: news.credits },
        problemCount: problems.length,
        problems: problems.slice(0, MAX_LISTED_PROBLEMS),
      };
    });
  }

  private async checkSeals(m: EntityManager, problems: IntegrityProblem[]) {
    const blocks = (await m.query(
      `SELECT block_no::int AS "blockNo", prev_hash AS "prevHash", entries_hash AS "entriesHash", entry_count AS "entryCount",
              from_txid::text AS "fromTxid", from_seq::text AS "fromSeq", to_txid::text AS "toTxid", to_seq::text AS "toSeq",
              horizon::text, hash
         FROM audit_seals ORDER BY block_no`,
    )) as Parameters<typeof verifyChain>[0];
    const recomputed = new Map<number, { hash: string; count: number }>();
    for (const r of await m.query(
      `SELECT block_no::int AS "blockNo", count(*)::int AS n, encode(sha256(string_agg(digest, ''::bytea ORDER BY txid, seq)), 'hex') AS h
         FROM audit_entry_digests GROUP BY block_no`,
    )) {
      recomputed.set(r.blockNo, { hash: r.h, count: r.n });
    }
    const chainProblems = verifyChain(blocks, recomputed);
    for (const p of chainProblems) problems.push({ type: 'seal_chain_broken', blockNo: p.blockNo, detail: p.detail });

    // Every sealed entry against its digest, recomputed from the live rows.
    for (const r of await m.query(
      `SELECT d.entry_id AS "entryId", d.seq::text, d.block_no::int AS "blockNo", v.entry_id IS NULL AS missing
         FROM audit_entry_digests d LEFT JOIN audit_entry_digest_v v ON v.entry_id = d.entry_id
        WHERE v.entry_id IS NULL OR v.digest <> d.digest
        ORDER BY d.seq`,
    )) {
      problems.push(
        r.missing
          ? { type: 'sealed_entry_missing', entryId: r.entryId, seq: r.seq, blockNo: r.blockNo, detail: 'a sealed journal entry no longer exists' }
          : { type: 'sealed_entry_altered', entryId: r.entryId, seq: r.seq, blockNo: r.blockNo, detail: 'the entry or its postings differ from what was sealed' },
      );
    }
    // Entries that sit below the last seal but were never sealed: inserted behind the sealer's back.
    const last = blocks[blocks.length - 1];
    if (last) {
      for (const r of await m.query(
        `SELECT e.id AS "entryId", e.seq::text FROM journal_entries e
          WHERE (e.txid, e.seq) <= ($1::xid8, $2::bigint)
            AND NOT EXISTS (SELECT 1 FROM audit_entry_digests d WHERE d.entry_id = e.id)
          ORDER BY e.seq`,
        [last.toTxid, last.toSeq],
      )) {
        problems.push({ type: 'unsealed_entry_below_seal', entryId: r.entryId, seq: r.seq, detail: 'entry inside the sealed range but absent from every seal' });
      }
    }
    return { ok: chainProblems.length === 0, blocks: blocks.length, lastBlock: last?.blockNo ?? null, lastHash: last?.hash ?? null };
  }

  private async checkEntries(m: EntityManager, problems: IntegrityProblem[]) {
    const rows = await m.query(
      `WITH s AS (
         SELECT p.entry_id,
                coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0) AS debits,
                coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0) AS credits,
                bool_or(p.side = 'debit') AS has_debit, bool_or(p.side = 'credit') AS has_credit,
                bool_or(e.id IS NULL) AS orphan,
                bool_or(p.effective_at IS DISTINCT FROM e.effective_at) AS bad_date,
                min(e.seq) AS seq
           FROM postings p LEFT JOIN journal_entries e ON e.id = p.entry_id
          GROUP BY p.entry_id)
       SELECT entry_id AS "entryId", seq::text, debits::text, credits::text, has_debit AS "hasDebit", has_credit AS "hasCredit", orphan, bad_date AS "badDate"
         FROM s WHERE orphan OR debits <> credits OR NOT has_debit OR NOT has_credit OR bad_date
       UNION ALL
       SELECT e.id, e.seq::text, NULL, NULL, NULL, NULL, NULL, NULL FROM journal_entries e
        WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.entry_id = e.id)
       ORDER BY 2 NULLS FIRST`,
    );
    for (const r of rows) {
      if (r.debits === null) {
        problems.push(entryWithoutPostings(r));
        continue;
      }
      if (r.orphan) {
        problems.push({ type: 'posting_without_entry', entryId: r.entryId, detail: 'postings reference a journal entry that does not exist' });
        continue;
      }
      if (r.debits !== r.credits || !r.hasDebit || !r.hasCredit) problems.push(entryUnbalanced(r));
      if (r.badDate) problems.push({ type: 'posting_date_mismatch', entryId: r.entryId, seq: r.seq, detail: 'a posting is effective at another instant than its entry' });
    }
  }

  /**
   * Every account's totals against `sums` (a query of account_id, debits, credits: by default the
   * sum of all its postings; in an incremental check, the checkpointed totals plus the new postings).
   */
  private async checkAccounts(m: EntityManager, problems: IntegrityProblem[], sums = ALL_POSTINGS_BY_ACCOUNT, params: unknown[] = []) {
    const rows = await m.query(
      `WITH s AS (${sums}),
       h AS (SELECT account_id, sum(amount) AS held FROM ledger_holds WHERE status = 'authorized' GROUP BY account_id)
       SELECT coalesce(b.account_id, s.account_id) AS "accountId", b.code, a.normal_side AS "normalSide",
              a.no_negative_balance AS guarded, b.account_id IS NULL AS unknown,
              b.posted_debits::text AS "totDebits", b.posted_credits::text AS "totCredits",
              coalesce(s.debits, 0)::text AS debits, coalesce(s.credits, 0)::text AS credits,
              a.pending_debits::numeric(20,2)::text AS "pendingDebits", coalesce(h.held, 0)::numeric(20,2)::text AS held,
              CASE a.normal_side WHEN 'credit' THEN coalesce(s.credits, 0) - coalesce(s.debits, 0) - a.pending_debits
                                 ELSE coalesce(s.debits, 0) - coalesce(s.credits, 0) - a.pending_credits END::text AS available
         FROM ledger_balances b
         JOIN ledger_accounts a ON a.id = b.account_id
         FULL JOIN s ON s.account_id = b.account_id
         LEFT JOIN h ON h.account_id = b.account_id
        WHERE b.account_id IS NULL
           OR b.posted_debits <> coalesce(s.debits, 0) OR b.posted_credits <> coalesce(s.credits, 0)
           OR (a.normal_side = 'credit' AND a.pending_debits <> coalesce(h.held, 0))
           OR (a.no_negative_balance AND CASE a.normal_side WHEN 'credit' THEN coalesce(s.credits, 0) - coalesce(s.debits, 0) - a.pending_debits
                                                            ELSE coalesce(s.debits, 0) - coalesce(s.credits, 0) - a.pending_credits END < 0)
        ORDER BY b.code`,
      params,
    );
    for (const r of rows) {
      if (r.unknown) {
        problems.push({ type: 'posting_unknown_account', accountId: r.accountId, detail: 'postings reference an account that does not exist' });
        continue;
      }
      if (r.totDebits !== r.debits || r.totCredits !== r.credits) {
        problems.push({
          type: 'account_totals_mismatch',
          accountId: r.accountId,
          accountCode: r.code,
          detail: 'the account totals differ from the sum of its postings',
          expected: { debits: r.debits, credits: r.credits },
          actual: { debits: r.totDebits, credits: r.totCredits },
        });
      }
      if (r.normalSide === 'credit' && r.pendingDebits !== r.held) {
        problems.push({
          type: 'pending_holds_mismatch',
          accountId: r.accountId,
          accountCode: r.code,
          detail: 'pending debits differ from the authorized holds',
          expected: { pending: r.held },
          actual: { pending: r.pendingDebits },
        });
      }
      if (r.guarded && r.available.startsWith('-')) {
        problems.push({ type: 'account_negative', accountId: r.accountId, accountCode: r.code, detail: 'a no-negative account is below zero', actual: { available: r.available } });
      }
    }
  }

  /** The daily totals cache must equal the postings of the entries folded so far. */
  private async checkDayTotals(m: EntityManager, problems: IntegrityProblem[]) {
    const rows = await m.query(
      `WITH prog AS (SELECT last_txid, last_seq FROM audit_day_totals_progress WHERE id),
       f AS (
         SELECT p.account_id, sum(p.amount) FILTER (WHERE p.side = 'debit') AS debits, sum(p.amount) FILTER (WHERE p.side = 'credit') AS credits
           FROM prog, journal_entries e JOIN postings p ON p.entry_id = e.id
          WHERE (e.txid, e.seq) <= (prog.last_txid, prog.last_seq)
          GROUP BY p.account_id),
       t AS (SELECT account_id, sum(debits) AS debits, sum(credits) AS credits FROM audit_account_day_totals GROUP BY account_id)
       SELECT coalesce(f.account_id, t.account_id) AS "accountId", coalesce(f.debits, 0)::numeric(20,2)::text AS debits,
              coalesce(f.credits, 0)::numeric(20,2)::text AS credits,
              coalesce(t.debits, 0)::numeric(20,2)::text AS "tDebits", coalesce(t.credits, 0)::numeric(20,2)::text AS "tCredits"
         FROM f FULL JOIN t ON t.account_id = f.account_id
        WHERE coalesce(f.debits, 0) <> coalesce(t.debits, 0) OR coalesce(f.credits, 0) <> coalesce(t.credits, 0)`,
    );
    for (const r of rows) {
      problems.push({
        type: 'day_totals_mismatch',
        accountId: r.accountId,
        detail: 'the daily totals (used for balances as of a date) differ from the postings',
        expected: { debits: r.debits, credits: r.credits },
        actual: { debits: r.tDebits, credits: r.tCredits },
      });
    }
  }
}

/** The full and the incremental check report an entry's faults alike. */
function entryWithoutPostings(r: { entryId: string; seq: string }): IntegrityProblem {
  return { type: 'entry_without_postings', entryId: r.entryId, seq: r.seq, detail: 'journal entry has no postings' };
}

function entryUnbalanced(r: { entryId: string; seq: string; debits: string; credits: string }): IntegrityProblem {
  return {
    type: 'entry_unbalanced',
    entryId: r.entryId,
    seq: r.seq,
    detail: 'debits and credits of the entry differ (or one side is missing)',
    expected: { credits: r.debits },
    actual: { debits: r.debits, credits: r.credits },
  };
}
