import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by `npm run sql:freeze`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class Payouts1764605000000 implements MigrationInterface {
  name = 'Payouts1764605000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('Payouts1764605000000 is not reverted: roll forward with a new migration');
  }
}

/**
 * Payouts to banks (issue 15, docs/payouts.md): bank details of payees with their history, the
 * registry of payee payables, payout batches with their lines, exclusions, bank file and
 * imported results; reintegros learn the cause payout_rejected and the source payable; a cycle
 * line may credit a payee payable (neither an instrument nor a grant).
 */
const before: string[] = [
  String.raw`CREATE TABLE payee_bank_accounts (
  owner_kind   text NOT NULL CHECK (owner_kind IN ('beneficiary', 'insurer', 'supplier')),
  owner_id     uuid NOT NULL,
  program_id   uuid NOT NULL REFERENCES programs(id),
  clabe        text NOT NULL,
  holder_name  text NOT NULL CHECK (length(holder_name) BETWEEN 1 AND 120),
  version      integer NOT NULL CHECK (version >= 1),
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (owner_kind, owner_id)
)`,
  String.raw`CREATE TABLE payee_bank_account_history (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_kind   text NOT NULL,
  owner_id     uuid NOT NULL,
  program_id   uuid NOT NULL,
  version      integer NOT NULL,
  clabe        text NOT NULL,
  holder_name  text NOT NULL,
  source       text NOT NULL CHECK (source IN ('staff', 'program_rules')),
  changed_by   text NOT NULL,
  changed_at   timestamptz NOT NULL,
  UNIQUE (owner_kind, owner_id, version)
)`,
  String.raw`CREATE TABLE payout_payables (
  account_id   uuid PRIMARY KEY,
  program_id   uuid NOT NULL REFERENCES programs(id),
  kind         text NOT NULL CHECK (kind IN ('beneficiary', 'insurer', 'grantee', 'supplier', 'borrower')),
  payee_id     uuid NOT NULL,
  created_at   timestamptz NOT NULL,
  UNIQUE (program_id, kind, payee_id)
)`,
  String.raw`CREATE SEQUENCE payout_batch_number_seq`,
  String.raw`CREATE TABLE payout_batches (
  id                  uuid PRIMARY KEY,
  number              text NOT NULL UNIQUE,
  program_id          uuid NOT NULL REFERENCES programs(id),
  kind                text NOT NULL CHECK (kind IN ('beneficiaries', 'insurer', 'grants', 'suppliers', 'loans')),
  status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'completed', 'cancelled')),
  currency            char(3) NOT NULL,
  control_count       integer NOT NULL CHECK (control_count > 0),
  control_total       numeric(20,2) NOT NULL CHECK (control_total > 0),
  sent_count          integer NOT NULL DEFAULT 0,
  sent_total          numeric(20,2) NOT NULL DEFAULT 0,
  exception_count     integer NOT NULL DEFAULT 0,
  exception_total     numeric(20,2) NOT NULL DEFAULT 0,
  paid_count          integer NOT NULL DEFAULT 0,
  paid_total          numeric(20,2) NOT NULL DEFAULT 0,
  rejected_count      integer NOT NULL DEFAULT 0,
  rejected_total      numeric(20,2) NOT NULL DEFAULT 0,
  reintegrated_count  integer NOT NULL DEFAULT 0,
  reintegrated_total  numeric(20,2) NOT NULL DEFAULT 0,
  exclusions          jsonb NOT NULL DEFAULT '{}',
  max_attempts        integer NOT NULL CHECK (max_attempts >= 1),
  transit_account_id  uuid NOT NULL,
  bank_account_id     uuid NOT NULL,
  send_entry_id       uuid,
  results_applied     integer NOT NULL DEFAULT 0,
  prepared_by         text NOT NULL,
  prepared_by_user_id uuid,
  approved_by         text,
  approved_by_user_id uuid,
  approved_at         timestamptz,
  cancelled_by        text,
  cancelled_at        timestamptz,
  completed_at        timestamptz,
  created_at          timestamptz NOT NULL,
  CONSTRAINT payout_batches_maker_checker CHECK (approved_by_user_id IS NULL OR prepared_by_user_id IS NULL OR approved_by_user_id <> prepared_by_user_id),
  CONSTRAINT payout_batches_accounted CHECK (status IN ('draft', 'cancelled')
    OR (sent_count + exception_count = control_count AND sent_total + exception_total = control_total)),
  CONSTRAINT payout_batches_results CHECK (paid_count + rejected_count <= sent_count AND paid_total + rejected_total <= sent_total),
  CONSTRAINT payout_batches_completed CHECK (status <> 'completed' OR (paid_count + rejected_count = sent_count AND paid_total + rejected_total = sent_total))
)`,
  String.raw`CREATE UNIQUE INDEX payout_batches_one_draft ON payout_batches (program_id, kind) WHERE status = 'draft'`,
  String.raw`CREATE INDEX payout_batches_program ON payout_batches (program_id, status)`,
  String.raw`CREATE TABLE payout_lines (
  id                 uuid PRIMARY KEY,
  batch_id           uuid NOT NULL REFERENCES payout_batches(id),
  line_no            integer NOT NULL,
  source_account_id  uuid NOT NULL,
  payee_kind         text NOT NULL,
  payee_id           uuid NOT NULL,
  grant_id           uuid,
  bank_owner_kind    text NOT NULL,
  bank_owner_id      uuid NOT NULL,
  bank_version       integer NOT NULL,
  clabe              text NOT NULL,
  holder_name        text NOT NULL,
  amount             numeric(18,2) NOT NULL CHECK (amount > 0),
  attempt            integer NOT NULL CHECK (attempt >= 1),
  status             text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'exception', 'cancelled', 'sent', 'paid', 'rejected')),
  exception_reason   text,
  result_reason      text,
  result_at          timestamptz,
  result_import_id   uuid,
  result_entry_id    uuid,
  followup           text CHECK (followup IN ('retried', 'reintegrated', 'withdrawn')),
  followup_line_id   uuid,
  reintegro_entry_id uuid,
  UNIQUE (batch_id, line_no),
  CONSTRAINT payout_lines_followup_rejected CHECK (followup IS NULL OR status = 'rejected'),
  CONSTRAINT payout_lines_exception_reason CHECK ((status = 'exception') = (exception_reason IS NOT NULL))
)`,
  String.raw`CREATE UNIQUE INDEX payout_lines_one_draft ON payout_lines (source_account_id) WHERE status = 'draft'`,
  String.raw`CREATE INDEX payout_lines_open_rejections ON payout_lines (source_account_id) WHERE status = 'rejected' AND followup IS NULL`,
  String.raw`CREATE TABLE payout_exclusions (
  batch_id           uuid NOT NULL REFERENCES payout_batches(id),
  source_account_id  uuid NOT NULL,
  payee_kind         text NOT NULL,
  payee_id           uuid NOT NULL,
  grant_id           uuid,
  reason             text NOT NULL,
  amount             numeric(18,2) NOT NULL,
  PRIMARY KEY (batch_id, source_account_id)
)`,
  String.raw`CREATE TABLE payout_batch_files (
  batch_id    uuid PRIMARY KEY REFERENCES payout_batches(id),
  content     bytea NOT NULL,
  sha256      text NOT NULL,
  byte_count  integer NOT NULL,
  line_count  integer NOT NULL,
  total       numeric(20,2) NOT NULL,
  created_at  timestamptz NOT NULL
)`,
  String.raw`CREATE TABLE payout_result_imports (
  id                  uuid PRIMARY KEY,
  batch_id            uuid NOT NULL REFERENCES payout_batches(id),
  seq                 integer,
  format              text NOT NULL CHECK (format IN ('csv', 'json')),
  sha256              text NOT NULL,
  line_count          integer NOT NULL,
  paid_count          integer NOT NULL,
  rejected_count      integer NOT NULL,
  reintegrated_count  integer NOT NULL,
  unchanged_count     integer NOT NULL,
  imported_by         text NOT NULL,
  imported_by_user_id uuid,
  created_at          timestamptz NOT NULL
)`,
  String.raw`CREATE INDEX payout_result_imports_batch ON payout_result_imports (batch_id, created_at)`,
  String.raw`ALTER TABLE reintegros DROP CONSTRAINT reintegros_cause_check,
  ADD CONSTRAINT reintegros_cause_check CHECK (cause IN ('baja', 'card_not_collected', 'voucher_expiry', 'unproven_tranche', 'fiscal_year_close', 'payout_rejected'))`,
  // A cycle line of a bank-paid program credits the beneficiary's payable: no instrument, no grant.
  String.raw`ALTER TABLE cycle_lines DROP CONSTRAINT cycle_lines_target,
  ADD CONSTRAINT cycle_lines_target CHECK (instrument_id IS NULL OR grant_id IS NULL)`,
  String.raw`ALTER TABLE reintegros DROP CONSTRAINT reintegros_source_check,
  ADD CONSTRAINT reintegros_source_check CHECK (source IN ('instrument', 'voucher', 'grant', 'program_budget', 'payable'))`,
];

const frozen: string[] = [
  // src/treasury/sql/treasury_record_baja_reintegro.sql
  String.raw`-- Records the reintegro of a 'baja_reintegro' journal entry (called in the baja's transaction,
-- and by the backfill below). Idempotent on the entry. Design decision (docs/treasury.md): for a
-- baja for death, the deposits posted for periods whose payment date is after the date of death
-- (effectiveDate) are part of the reintegro; they are itemised in details.depositsAfterDeath.
-- Source 'payable' when the baja emptied only payee payables (a bank-paid program: money credited
-- to the beneficiary and not sent to their bank yet), else 'instrument'.
CREATE OR REPLACE FUNCTION treasury_record_baja_reintegro(p_entry uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  e journal_entries;
  v_id uuid;
  v_program uuid;
  v_amount numeric;
  v_sources uuid[];
  v_cause text;
  v_effective date;
  v_deaths jsonb := NULL;
BEGIN
  SELECT * INTO e FROM journal_entries WHERE id = p_entry AND kind = 'baja_reintegro';
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT r.id INTO v_id FROM reintegros r WHERE r.journal_entry_id = p_entry;
  IF FOUND THEN RETURN v_id; END IF;
  SELECT pr.id, sum(p.amount) INTO v_program, v_amount
    FROM postings p JOIN programs pr ON pr.reintegro_account_id = p.account_id
   WHERE p.entry_id = p_entry AND p.side = 'credit' GROUP BY pr.id;
  IF v_program IS NULL THEN RETURN NULL; END IF;
  SELECT array_agg(p.account_id ORDER BY p.account_id) INTO v_sources FROM postings p WHERE p.entry_id = p_entry AND p.side = 'debit';
  v_cause := coalesce(e.metadata->>'cause', 'unknown');
  v_effective := (e.metadata->>'effectiveDate')::date;
  IF v_cause = 'death' AND v_effective IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'journalEntryId', d.id, 'kind', d.kind, 'cycleId', c.id, 'period', c.period,
             'paymentDate', to_char(c.payment_date, 'YYYY-MM-DD'), 'amount', to_char(x.amount, 'FM9999999999999990.00'))
             ORDER BY c.payment_date, d.id), '[]'::jsonb)
      INTO v_deaths
      FROM postings x
      JOIN journal_entries d ON d.id = x.entry_id AND d.metadata ? 'cycleId'
      JOIN disbursement_cycles c ON c.id = (d.metadata->>'cycleId')::uuid
     WHERE x.account_id = ANY (v_sources) AND x.side = 'credit' AND c.payment_date > v_effective;
  END IF;
  INSERT INTO reintegros (program_id, cause, baja_cause, amount, source, source_account_ids, journal_entry_id,
                          beneficiary_id, instrument_ids, details, created_at)
  VALUES (v_program,
          CASE WHEN v_cause = 'card_not_collected' THEN 'card_not_collected' ELSE 'baja' END,
          v_cause, v_amount,
          CASE WHEN EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = ANY (v_sources) AND a.category <> 'payee_payable')
               THEN 'instrument' ELSE 'payable' END,
          v_sources, p_entry,
          (e.metadata->>'beneficiaryId')::uuid,
          CASE WHEN jsonb_typeof(e.metadata->'instrumentIds') = 'array'
               THEN ARRAY(SELECT jsonb_array_elements_text(e.metadata->'instrumentIds')::uuid) END,
          jsonb_strip_nulls(jsonb_build_object(
            'effectiveDate', e.metadata->>'effectiveDate',
            'depositsAfterDeath', v_deaths,
            'depositsAfterDeathTotal', CASE WHEN v_deaths IS NOT NULL THEN
              (SELECT to_char(coalesce(sum((x->>'amount')::numeric), 0), 'FM9999999999999990.00') FROM jsonb_array_elements(v_deaths) x) END)),
          e.effective_at)
  ON CONFLICT (journal_entry_id) DO NOTHING
  RETURNING id INTO v_id;
  RETURN v_id;
END $$;`,
  // src/payouts/sql/payout_apply_results.sql
  String.raw`-- Applies the bank's answer to a sent payout batch (docs/payouts.md "Results"). First every
-- result is checked, nothing written: each line must be a line of this batch (else
-- 'line_not_in_batch'), one that was sent ('line_not_sent'), with the amount the bank reports
-- equal to the line's ('amount_mismatch'), and not already answered otherwise ('result_conflict');
-- the first failing check is returned with the offending line ids and nothing is applied. Then,
-- for lines still in transit, through the ledger's primitive in one call:
--   paid      bank-in-transit → the paying bank, one entry (payout:<batch>:results:<n>:paid);
--   rejected  bank-in-transit → back to each line's source payable, one entry (…:returned);
--   a rejected line at its p_max_attempts-th attempt → its payable → the program's reintegro
--             payable, one entry per line (payout:<batch>:line:<lineId>:reintegro), recorded as a
--             pending reintegro with cause payout_rejected (payout_reintegrate_lines).
-- Lines already answered the same way are left alone, so importing the same results twice
-- changes nothing. The caller holds the batch row (FOR UPDATE).
CREATE OR REPLACE FUNCTION payout_apply_results(p_batch uuid, p_import uuid, p_line_ids uuid[], p_statuses text[], p_reasons text[],
  p_amounts numeric[], p_now timestamptz, p_actor text, p_max_attempts integer,
  OUT outcome text, OUT line_ids uuid[], OUT paid integer, OUT paid_total numeric, OUT rejected integer, OUT rejected_total numeric,
  OUT reintegrated integer, OUT reintegrated_total numeric, OUT unchanged integer, OUT seq integer)
LANGUAGE plpgsql AS $$
DECLARE
  b payout_batches;
  v_paid_entry uuid;
  v_returned_entry uuid;
BEGIN
  paid := 0; paid_total := 0; rejected := 0; rejected_total := 0; reintegrated := 0; reintegrated_total := 0; unchanged := 0; seq := NULL;
  SELECT * INTO b FROM payout_batches WHERE id = p_batch FOR UPDATE;
  IF NOT FOUND OR b.status NOT IN ('sent', 'completed') THEN
    outcome := 'batch_not_sent';
    RETURN;
  END IF;

  DROP TABLE IF EXISTS payout_results_work;
  CREATE TEMP TABLE payout_results_work ON COMMIT DROP AS
  SELECT i.line_id, i.status, i.reason, i.amount AS reported, l.batch_id, l.status AS line_status, l.amount, l.source_account_id, l.attempt
    FROM unnest(p_line_ids, p_statuses, p_reasons, p_amounts) AS i(line_id, status, reason, amount)
    LEFT JOIN payout_lines l ON l.id = i.line_id;
  ANALYZE payout_results_work;

  SELECT 'line_not_in_batch', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
    FROM (SELECT line_id FROM payout_results_work WHERE batch_id IS DISTINCT FROM p_batch ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  IF outcome IS NULL THEN
    SELECT 'line_not_sent', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE line_status NOT IN ('sent', 'paid', 'rejected') ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NULL THEN
    SELECT 'amount_mismatch', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE reported IS NOT NULL AND reported <> amount ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NULL THEN
    SELECT 'result_conflict', array_agg(line_id ORDER BY line_id) INTO outcome, line_ids
      FROM (SELECT line_id FROM payout_results_work WHERE line_status <> 'sent' AND line_status <> status ORDER BY line_id LIMIT 20) x HAVING count(*) > 0;
  END IF;
  IF outcome IS NOT NULL THEN
    RETURN;
  END IF;

  outcome := 'applied';
  SELECT count(*) FILTER (WHERE line_status <> 'sent'),
         count(*) FILTER (WHERE line_status = 'sent' AND status = 'paid'), coalesce(sum(amount) FILTER (WHERE line_status = 'sent' AND status = 'paid'), 0),
         count(*) FILTER (WHERE line_status = 'sent' AND status = 'rejected'), coalesce(sum(amount) FILTER (WHERE line_status = 'sent' AND status = 'rejected'), 0)
    INTO unchanged, paid, paid_total, rejected, rejected_total
    FROM payout_results_work;
  IF paid + rejected = 0 THEN
    RETURN;
  END IF;
  seq := b.results_applied + 1;

  PERFORM ledger_stage();
  IF paid > 0 THEN
    v_paid_entry := ledger_uuid_v7(1, p_now);
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (v_paid_entry, 'payout_paid', format('payout:%s:results:%s:paid', p_batch, seq), p_now,
            format('payout batch %s: %s transfers paid by the bank', b.number, paid),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'importId', p_import, 'lines', paid), p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    VALUES (v_paid_entry, b.transit_account_id, 'debit', paid_total), (v_paid_entry, b.bank_account_id, 'credit', paid_total);
  END IF;
  IF rejected > 0 THEN
    v_returned_entry := ledger_uuid_v7(2, p_now);
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (v_returned_entry, 'payout_returned', format('payout:%s:results:%s:returned', p_batch, seq), p_now,
            format('payout batch %s: %s transfers rejected by the bank, back on the payables', b.number, rejected),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'importId', p_import, 'lines', rejected), p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT v_returned_entry, b.transit_account_id, 'debit', rejected_total
    UNION ALL
    SELECT v_returned_entry, w.source_account_id, 'credit', sum(w.amount) FROM payout_results_work w
     WHERE w.line_status = 'sent' AND w.status = 'rejected' GROUP BY w.source_account_id;
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s: results %s were applied before', p_batch, seq);
  END IF;

  UPDATE payout_lines l
     SET status = w.status, result_reason = w.reason, result_at = p_now, result_import_id = p_import,
         result_entry_id = CASE w.status WHEN 'paid' THEN v_paid_entry ELSE v_returned_entry END
    FROM payout_results_work w
   WHERE l.id = w.line_id AND w.line_status = 'sent';

  SELECT count(*) FILTER (WHERE r.amount > 0), coalesce(sum(r.amount), 0) INTO reintegrated, reintegrated_total
    FROM payout_reintegrate_lines(
           ARRAY(SELECT w.line_id FROM payout_results_work w
                  WHERE w.line_status = 'sent' AND w.status = 'rejected' AND w.attempt >= p_max_attempts),
           p_now, p_actor, 'max_attempts') r;

  UPDATE payout_batches x
     SET paid_count = x.paid_count + paid, paid_total = x.paid_total + payout_apply_results.paid_total,
         rejected_count = x.rejected_count + rejected, rejected_total = x.rejected_total + payout_apply_results.rejected_total,
         results_applied = seq,
         status = CASE WHEN x.paid_count + paid + x.rejected_count + rejected = x.sent_count THEN 'completed' ELSE x.status END,
         completed_at = CASE WHEN x.paid_count + paid + x.rejected_count + rejected = x.sent_count THEN p_now ELSE x.completed_at END
   WHERE x.id = p_batch;
END $$;`,
  // src/payouts/sql/payout_bank_account_check.sql
  String.raw`-- Bank details are only ever stored with a valid CLABE (SQLSTATE 23514, as a CHECK would).
CREATE OR REPLACE FUNCTION payout_bank_account_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT payout_clabe_valid(NEW.clabe) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = format('%s: not a valid CLABE (18 digits, check digit with weights 3, 7, 1)', TG_TABLE_NAME);
  END IF;
  RETURN NEW;
END $$;`,
  // src/payouts/sql/payout_batch_send.sql
  String.raw`-- Approval of a payout batch (docs/payouts.md): with a handful of set-based statements, the
-- lines whose payee can still be paid as drafted move from their payables (source accounts) to
-- the program's bank-in-transit account in ONE journal entry 'payout_sent' (key
-- payout:<batchId>:sent; one debit per source, one credit to transit), through the ledger's
-- primitive. A line whose bank details changed since the draft (bank_account_changed) or whose
-- payable no longer holds its amount (payable_short: a baja emptied it) becomes an exception and
-- its money stays where it is. Earlier rejected lines of a source sent again are now 'retried'.
-- The caller holds the batch row (FOR UPDATE) and has checked its state and the approver; this
-- locks the sources and the transit account in id order (the ledger's order) before reading
-- their balances, so nothing can move them until commit.
CREATE OR REPLACE FUNCTION payout_batch_send(p_batch uuid, p_now timestamptz, p_actor text, p_actor_user uuid,
  OUT sent_count integer, OUT sent_total numeric, OUT exception_count integer, OUT exception_total numeric, OUT entry_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  b payout_batches;
BEGIN
  SELECT * INTO b FROM payout_batches WHERE id = p_batch FOR UPDATE;
  IF NOT FOUND OR b.status <> 'draft' THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s is not a draft', p_batch);
  END IF;

  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT l.source_account_id FROM payout_lines l WHERE l.batch_id = p_batch UNION SELECT b.transit_account_id)
    ORDER BY a.id FOR UPDATE;

  DROP TABLE IF EXISTS payout_send_work;
  CREATE TEMP TABLE payout_send_work ON COMMIT DROP AS
  SELECT l.id, l.source_account_id, l.amount,
         CASE
           WHEN ba.owner_id IS NULL OR ba.version <> l.bank_version THEN 'bank_account_changed'
           WHEN bal.posted - bal.pending < l.amount THEN 'payable_short'
         END AS problem
    FROM payout_lines l
    JOIN ledger_balances bal ON bal.account_id = l.source_account_id
    LEFT JOIN payee_bank_accounts ba ON ba.owner_kind = l.bank_owner_kind AND ba.owner_id = l.bank_owner_id
   WHERE l.batch_id = p_batch AND l.status = 'draft';
  ANALYZE payout_send_work;

  SELECT count(*) FILTER (WHERE problem IS NULL), coalesce(sum(amount) FILTER (WHERE problem IS NULL), 0),
         count(*) FILTER (WHERE problem IS NOT NULL), coalesce(sum(amount) FILTER (WHERE problem IS NOT NULL), 0)
    INTO sent_count, sent_total, exception_count, exception_total
    FROM payout_send_work;

  IF sent_count > 0 THEN
    entry_id := ledger_uuid_v7(0, p_now);
    PERFORM ledger_stage();
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (entry_id, 'payout_sent', 'payout:' || p_batch::text || ':sent', p_now,
            format('payout batch %s (%s): %s transfers to the bank', b.number, b.kind, sent_count),
            jsonb_build_object('payoutBatchId', p_batch, 'programId', b.program_id, 'batchKind', b.kind, 'lines', sent_count),
            p_actor);
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT payout_batch_send.entry_id, w.source_account_id, 'debit', w.amount FROM payout_send_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT payout_batch_send.entry_id, b.transit_account_id, 'credit', sent_total;
    IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = format('payout batch %s was sent before', p_batch);
    END IF;
  END IF;

  UPDATE payout_lines l SET status = CASE WHEN w.problem IS NULL THEN 'sent' ELSE 'exception' END, exception_reason = w.problem
    FROM payout_send_work w WHERE l.id = w.id;
  UPDATE payout_lines o SET followup = 'retried', followup_line_id = w.id
    FROM payout_send_work w
   WHERE w.problem IS NULL AND o.source_account_id = w.source_account_id AND o.status = 'rejected' AND o.followup IS NULL;
  UPDATE payout_batches
     SET status = CASE WHEN payout_batch_send.sent_count = 0 THEN 'completed' ELSE 'sent' END,
         sent_count = payout_batch_send.sent_count, sent_total = payout_batch_send.sent_total,
         exception_count = payout_batch_send.exception_count, exception_total = payout_batch_send.exception_total,
         send_entry_id = payout_batch_send.entry_id, approved_by = p_actor, approved_by_user_id = p_actor_user, approved_at = p_now,
         completed_at = CASE WHEN payout_batch_send.sent_count = 0 THEN p_now END
   WHERE id = p_batch;
END $$;`,
  // src/payouts/sql/payout_clabe_valid.sql
  String.raw`-- A CLABE: 18 digits whose last is the check digit of the first 17 with the weights 3, 7, 1
-- (each digit times its weight, modulo 10, summed; check = (10 − sum mod 10) mod 10). The same
-- rule as src/payouts/clabe.rules.ts, so no bank detail the API refused can be stored by SQL.
CREATE OR REPLACE FUNCTION payout_clabe_valid(p_clabe text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_clabe IS NULL OR p_clabe !~ '^[0-9]{18}$' THEN false
    ELSE (10 - (SELECT sum((substr(p_clabe, i, 1)::int * (ARRAY[3, 7, 1])[(i - 1) % 3 + 1]) % 10)
                  FROM generate_series(1, 17) AS i)::int % 10) % 10 = substr(p_clabe, 18, 1)::int
  END
$$;`,
  // src/payouts/sql/payout_reintegrate_lines.sql
  String.raw`-- Rejected payout lines whose money goes back to the Tesorería (API.md: after
-- rules.payout.maxAttempts rejected attempts, or at the fiscal-year close): for each line still
-- open (rejected, not sent again, not reintegrated), the money it returned to its source payable
-- moves on to the program's reintegro payable, one entry per line (kind 'payout_rejected', key
-- payout:<batchId>:line:<lineId>:reintegro), recorded in the same transaction as a pending
-- reintegro with cause payout_rejected (source 'payable'). A line takes at most what its payable
-- still holds (a baja may have emptied it first); a line left with nothing is closed as
-- 'withdrawn'. p_trigger ('max_attempts' | 'fiscal_close') is kept in the reintegro's details.
-- Locks: the lines, then the payables and reintegro accounts in id order.
CREATE OR REPLACE FUNCTION payout_reintegrate_lines(p_line_ids uuid[], p_now timestamptz, p_actor text, p_trigger text)
RETURNS TABLE (line_id uuid, amount numeric, reintegro_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF coalesce(cardinality(p_line_ids), 0) = 0 THEN
    RETURN;
  END IF;
  PERFORM 1 FROM payout_lines l WHERE l.id = ANY (p_line_ids) ORDER BY l.id FOR UPDATE;

  DROP TABLE IF EXISTS payout_reintegro_work;
  CREATE TEMP TABLE payout_reintegro_work ON COMMIT DROP AS
  SELECT l.id, l.batch_id, l.line_no, l.source_account_id, l.payee_kind, l.payee_id, l.grant_id, l.amount AS line_amount, l.attempt,
         l.result_reason, b.number AS batch_number, b.created_at AS batch_created_at, b.program_id, p.reintegro_account_id,
         ledger_uuid_v7(l.line_no, p_now) AS entry_id, gen_random_uuid() AS reintegro_id, 0::numeric AS amount
    FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id JOIN programs p ON p.id = b.program_id
   WHERE l.id = ANY (p_line_ids) AND l.status = 'rejected' AND l.followup IS NULL;

  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT w.source_account_id FROM payout_reintegro_work w UNION SELECT w.reintegro_account_id FROM payout_reintegro_work w)
    ORDER BY a.id FOR UPDATE;
  -- Oldest line first, each takes what its payable still holds after the lines before it.
  UPDATE payout_reintegro_work w SET amount = x.amount
    FROM (SELECT w2.id, greatest(0, least(w2.line_amount,
                   bal.posted - bal.pending - (sum(w2.line_amount) OVER (PARTITION BY w2.source_account_id ORDER BY w2.batch_created_at, w2.batch_id, w2.line_no) - w2.line_amount))) AS amount
            FROM payout_reintegro_work w2 JOIN ledger_balances bal ON bal.account_id = w2.source_account_id) x
   WHERE x.id = w.id;

  IF EXISTS (SELECT 1 FROM payout_reintegro_work w WHERE w.amount > 0) THEN
    PERFORM ledger_stage();
    INSERT INTO ledger_staged_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    SELECT w.entry_id, 'payout_rejected', 'payout:' || w.batch_id::text || ':line:' || w.id::text || ':reintegro', p_now,
           format('payout line %s rejected %s time(s): back to the Tesorería (%s)', w.id, w.attempt, p_trigger),
           jsonb_build_object('payoutBatchId', w.batch_id, 'payoutLineId', w.id, 'programId', w.program_id, 'cause', 'payout_rejected',
                              'payeeKind', w.payee_kind, 'payeeId', w.payee_id, 'trigger', p_trigger),
           p_actor
      FROM payout_reintegro_work w WHERE w.amount > 0;
    INSERT INTO ledger_staged_postings (entry_id, account_id, side, amount)
    SELECT w.entry_id, w.source_account_id, 'debit', w.amount FROM payout_reintegro_work w WHERE w.amount > 0
    UNION ALL
    SELECT w.entry_id, w.reintegro_account_id, 'credit', w.amount FROM payout_reintegro_work w WHERE w.amount > 0;
    IF EXISTS (SELECT 1 FROM ledger_post_staged()) THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a payout line was reintegrated twice';
    END IF;

    INSERT INTO reintegros (id, program_id, cause, amount, source, source_account_ids, journal_entry_id, beneficiary_id, grant_id, details, created_at)
    SELECT w.reintegro_id, w.program_id, 'payout_rejected', w.amount, 'payable', ARRAY[w.source_account_id], w.entry_id,
           CASE WHEN w.payee_kind IN ('beneficiary', 'grantee', 'borrower') THEN w.payee_id END, w.grant_id,
           jsonb_strip_nulls(jsonb_build_object('payoutBatchId', w.batch_id, 'batchNumber', w.batch_number, 'payoutLineId', w.id,
             'payeeKind', w.payee_kind, 'payeeId', w.payee_id, 'attempts', w.attempt, 'lastRejection', w.result_reason, 'trigger', p_trigger)),
           p_now
      FROM payout_reintegro_work w WHERE w.amount > 0;
  END IF;

  UPDATE payout_lines l
     SET followup = CASE WHEN w.amount > 0 THEN 'reintegrated' ELSE 'withdrawn' END,
         reintegro_entry_id = CASE WHEN w.amount > 0 THEN w.entry_id END
    FROM payout_reintegro_work w WHERE l.id = w.id;
  UPDATE payout_batches x SET reintegrated_count = x.reintegrated_count + r.n, reintegrated_total = x.reintegrated_total + r.total
    FROM (SELECT w.batch_id, count(*) FILTER (WHERE w.amount > 0) AS n, sum(w.amount) AS total FROM payout_reintegro_work w GROUP BY w.batch_id) r
   WHERE x.id = r.batch_id;

  RETURN QUERY SELECT w.id, w.amount, CASE WHEN w.amount > 0 THEN w.reintegro_id END FROM payout_reintegro_work w ORDER BY w.batch_created_at, w.batch_id, w.line_no;
END $$;`,
  // src/payouts/sql/payee_bank_account_history.triggers.sql
  String.raw`-- Who changed a payee's bank details, and when: every version is kept, never edited.
CREATE OR REPLACE TRIGGER payee_bank_account_history_clabe BEFORE INSERT ON payee_bank_account_history FOR EACH ROW EXECUTE FUNCTION payout_bank_account_check();

CREATE OR REPLACE TRIGGER payee_bank_account_history_immutable BEFORE UPDATE OR DELETE ON payee_bank_account_history FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER payee_bank_account_history_no_truncate BEFORE TRUNCATE ON payee_bank_account_history FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
  // src/payouts/sql/payee_bank_accounts.triggers.sql
  String.raw`CREATE OR REPLACE TRIGGER payee_bank_accounts_clabe BEFORE INSERT OR UPDATE ON payee_bank_accounts FOR EACH ROW EXECUTE FUNCTION payout_bank_account_check();`,
  // src/payouts/sql/payout_batch_files.triggers.sql
  String.raw`-- The bank file is written once, at approval: every download gets the same bytes.
CREATE OR REPLACE TRIGGER payout_batch_files_immutable BEFORE UPDATE OR DELETE ON payout_batch_files FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER payout_batch_files_no_truncate BEFORE TRUNCATE ON payout_batch_files FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();`,
];
