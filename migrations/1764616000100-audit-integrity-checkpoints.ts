import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Incremental integrity (docs/audit.md): audit_integrity_checkpoints, one row per incremental
 * check that passed (append-only: the last seal block verified, its hash, its (txid, seq) mark
 * and the running debit and credit totals up to it), and audit_integrity_account_totals, each
 * account's running totals up to the last checkpoint, so the next check adds the new postings to
 * them instead of summing the history again.
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class AuditIntegrityCheckpoints1764616000100 implements MigrationInterface {
  name = 'AuditIntegrityCheckpoints1764616000100';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('AuditIntegrityCheckpoints1764616000100 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first: the new tables. */
const before: string[] = [
  `CREATE TABLE audit_integrity_checkpoints (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     prev_id bigint NOT NULL UNIQUE,
     block_no integer NOT NULL,
     block_hash text NOT NULL,
     to_txid xid8 NOT NULL,
     to_seq bigint NOT NULL,
     entries bigint NOT NULL,
     debits numeric(20,2) NOT NULL,
     credits numeric(20,2) NOT NULL,
     checked_entries bigint NOT NULL,
     checked_postings bigint NOT NULL,
     checked_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE audit_integrity_account_totals (
     account_id uuid PRIMARY KEY,
     debits numeric(20,2) NOT NULL,
     credits numeric(20,2) NOT NULL
   )`,
];

const frozen: string[] = [
  // src/audit/sql/audit_integrity_checkpoints.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER audit_integrity_checkpoints_immutable BEFORE UPDATE OR DELETE ON audit_integrity_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_integrity_checkpoints_no_truncate BEFORE TRUNCATE ON audit_integrity_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
];
