import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budget execution summary (issue 20; docs/audit.md "Execution summary"): audit_execution_days,
 * each program's executed, appropriated, reintegrated and budget-side money per business day,
 * account category, budget-side account, entry kind, component and zone, folded incrementally
 * from the journal in (txid, seq) order up to the sealing horizon (audit_fold_execution_days,
 * progress mark in audit_execution_progress), so the execution report reads the summary plus the
 * entries after the mark instead of every posting of the year. Written only by the audit module;
 * the ledger tables are only read.
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class AuditExecutionDays1764618210000 implements MigrationInterface {
  name = 'AuditExecutionDays1764618210000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('AuditExecutionDays1764618210000 is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first: the summary and its progress mark (the empty summary of an empty mark). */
const before: string[] = [
  `CREATE TABLE audit_execution_days (
     program_id uuid NOT NULL,
     day date NOT NULL,
     category text NOT NULL,
     account_id uuid,
     kind text NOT NULL,
     component text,
     zone jsonb,
     net numeric(20,2) NOT NULL,
     postings bigint NOT NULL
   )`,
  `CREATE UNIQUE INDEX audit_execution_days_key ON audit_execution_days (program_id, day, category, account_id, kind, component, zone) NULLS NOT DISTINCT`,
  `CREATE TABLE audit_execution_progress (
     id boolean PRIMARY KEY DEFAULT true CHECK (id),
     last_txid xid8 NOT NULL,
     last_seq bigint NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `INSERT INTO audit_execution_progress (last_txid, last_seq) VALUES ('0', 0)`,
];

const frozen: string[] = [
  // src/audit/sql/audit_execution_rows.sql
  String.raw`-- The budget-execution contributions of some journal entries (docs/audit.md "Execution summary"):
-- their postings on accounts of a program (of p_program, or of any program when null), grouped by
-- the program's business date, the account's category, the account itself where the report needs
-- it (budget side and the reintegro account; every card or payable is summed over), the entry's
-- kind (a reversal counts under the kind of the entry it reverses), the component of a cycle entry
-- and the zone the report places it in: for a posting on the program's reintegro account, the
-- address of the reintegro's beneficiary (null when none); for a cycle entry's other postings
-- outside the budget side, the address of its beneficiary. net = credits − debits.
CREATE OR REPLACE FUNCTION audit_execution_rows(p_entries uuid[], p_cycle_kinds text[], p_program uuid DEFAULT NULL)
RETURNS TABLE (program_id uuid, day date, category text, account_id uuid, kind text, component text, zone jsonb, net numeric, postings bigint)
LANGUAGE sql STABLE AS $$
  SELECT a.program_id,
         (x.effective_at AT TIME ZONE pr.time_zone)::date,
         a.category,
         CASE WHEN a.category IN ('program_budget', 'cycle_commitment', 'grant_award') OR a.id = pr.reintegro_account_id THEN a.id END,
         coalesce(o.kind, e.kind),
         CASE WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) THEN coalesce(o.metadata, e.metadata)->>'component' END,
         CASE WHEN a.id = pr.reintegro_account_id THEN
                CASE WHEN rb.id IS NULL THEN NULL ELSE jsonb_build_object('comuna', rb.address->>'comuna', 'municipality', rb.address->>'municipality') END
              WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) AND a.category NOT IN ('program_budget', 'cycle_commitment', 'grant_award') THEN
                jsonb_build_object('comuna', cb.address->>'comuna', 'municipality', cb.address->>'municipality')
         END,
         sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END),
         count(*)
    FROM journal_entries e
    LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
    JOIN postings x ON x.entry_id = e.id AND x.effective_at = e.effective_at
    JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id IS NOT NULL AND (p_program IS NULL OR a.program_id = p_program)
    JOIN programs pr ON pr.id = a.program_id
    LEFT JOIN reintegros r ON a.id = pr.reintegro_account_id AND r.journal_entry_id = coalesce(o.id, e.id)
    LEFT JOIN beneficiaries rb ON rb.id = r.beneficiary_id
    LEFT JOIN beneficiaries cb ON cb.id = CASE WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) THEN (coalesce(o.metadata, e.metadata)->>'beneficiaryId')::uuid END
   WHERE e.id = ANY(p_entries)
   GROUP BY 1, 2, 3, 4, 5, 6, 7
$$;`,
  // src/audit/sql/audit_fold_execution_days.sql
  String.raw`-- Folds the budget-execution contributions (audit_execution_rows) of the entries after the
-- progress mark and below p_horizon (at most p_limit entries, in (txid, seq) order, as
-- audit_fold_day_totals does) into audit_execution_days, then moves the mark. Entries at or after
-- the mark are the tail the report adds itself. Returns the number of entries folded.
CREATE OR REPLACE FUNCTION audit_fold_execution_days(p_horizon xid8, p_cycle_kinds text[], p_limit integer DEFAULT 50000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE prog audit_execution_progress; n integer; v_txid xid8; v_seq bigint;
BEGIN
  SELECT * INTO prog FROM audit_execution_progress WHERE id FOR UPDATE;
  CREATE TEMP TABLE IF NOT EXISTS audit_execution_batch (id uuid, txid xid8, seq bigint) ON COMMIT DROP;
  TRUNCATE audit_execution_batch;
  INSERT INTO audit_execution_batch
  SELECT e.id, e.txid, e.seq FROM journal_entries e
   WHERE (e.txid, e.seq) > (prog.last_txid, prog.last_seq) AND e.txid < p_horizon
   ORDER BY e.txid, e.seq LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN RETURN 0; END IF;
  INSERT INTO audit_execution_days AS t (program_id, day, category, account_id, kind, component, zone, net, postings)
  SELECT * FROM audit_execution_rows(ARRAY(SELECT b.id FROM audit_execution_batch b), p_cycle_kinds)
  ON CONFLICT (program_id, day, category, account_id, kind, component, zone) DO UPDATE
     SET net = t.net + excluded.net, postings = t.postings + excluded.postings;
  SELECT b.txid, b.seq INTO v_txid, v_seq FROM audit_execution_batch b ORDER BY b.txid DESC, b.seq DESC LIMIT 1;
  UPDATE audit_execution_progress SET last_txid = v_txid, last_seq = v_seq, updated_at = now() WHERE id;
  RETURN n;
END $$;`,
];
