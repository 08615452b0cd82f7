import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Treasury (issue 6, docs/treasury.md): reintegros (money owed back to the Tesorería, one row per
 * journal entry that moved it into program:<id>:reintegro), remittances (maker-checker batches that
 * move it to treasury:<currency>), the card-collection records of P22 (card arrivals and failed
 * delivery visits), the voucher-expiry sweep (set-based, one journal entry per chunk) and the
 * reminders/demands of tranche proofs.
 *
 * Causes of a reintegro: baja (baja_cause says which), card_not_collected (a baja for that cause,
 * P22), voucher_expiry, unproven_tranche, fiscal_year_close.
 */
export class Treasury1763700600000 implements MigrationInterface {
  name = 'Treasury1763700600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE SEQUENCE remittance_number_seq;

CREATE TABLE remittances (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  number              text NOT NULL UNIQUE,
  program_id          uuid NOT NULL REFERENCES programs(id),
  status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'cancelled')),
  currency            char(3) NOT NULL,
  item_count          integer NOT NULL CHECK (item_count > 0),
  total               numeric(20,2) NOT NULL CHECK (total > 0),
  prepared_by         text NOT NULL,
  prepared_by_user_id uuid,
  -- Optional Idempotency-Key of the create request: a retried create returns the same draft.
  create_key          text,
  approved_by         text,
  approved_by_user_id uuid,
  approved_at         timestamptz,
  cancelled_by        text,
  cancelled_at        timestamptz,
  journal_entry_id    uuid UNIQUE REFERENCES journal_entries(id),
  created_at          timestamptz NOT NULL,
  CONSTRAINT remittances_maker_checker CHECK (approved_by_user_id IS NULL OR prepared_by_user_id IS NULL OR approved_by_user_id <> prepared_by_user_id),
  CONSTRAINT remittances_approved_posted CHECK ((status = 'approved') = (journal_entry_id IS NOT NULL))
);
CREATE UNIQUE INDEX remittances_create_key ON remittances (prepared_by, create_key) WHERE create_key IS NOT NULL;
CREATE INDEX remittances_program ON remittances (program_id, created_at, id);

CREATE TABLE reintegros (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id         uuid NOT NULL REFERENCES programs(id),
  cause              text NOT NULL CHECK (cause IN ('baja', 'card_not_collected', 'voucher_expiry', 'unproven_tranche', 'fiscal_year_close')),
  -- The deactivation cause when the reintegro comes from a baja (death, voluntary_rejection, …).
  baja_cause         text,
  amount             numeric(18,2) NOT NULL CHECK (amount > 0),
  -- What kind of account the money came from, and which (empty for a voucher-expiry chunk: its
  -- vouchers are itemised in treasury_voucher_sweeps).
  source             text NOT NULL CHECK (source IN ('instrument', 'voucher', 'grant', 'program_budget')),
  source_account_ids uuid[] NOT NULL DEFAULT '{}',
  journal_entry_id   uuid NOT NULL UNIQUE REFERENCES journal_entries(id),
  beneficiary_id     uuid,
  instrument_ids     uuid[],
  grant_id           uuid,
  tranche_no         integer,
  details            jsonb NOT NULL DEFAULT '{}',
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_remittance', 'remitted')),
  remittance_id      uuid REFERENCES remittances(id),
  created_at         timestamptz NOT NULL,
  CONSTRAINT reintegros_remittance_status CHECK ((status = 'pending') = (remittance_id IS NULL)),
  CONSTRAINT reintegros_baja_cause CHECK ((cause IN ('baja', 'card_not_collected')) = (baja_cause IS NOT NULL))
);
CREATE INDEX reintegros_program_status ON reintegros (program_id, status, created_at, id);
CREATE INDEX reintegros_created ON reintegros (created_at, id);
CREATE INDEX reintegros_remittance ON reintegros (remittance_id) WHERE remittance_id IS NOT NULL;
CREATE INDEX reintegros_beneficiary ON reintegros (beneficiary_id) WHERE beneficiary_id IS NOT NULL;

-- Every item of every remittance (history survives a cancellation). A reintegro belongs to at
-- most one live (draft or approved) remittance: nothing is remitted twice.
CREATE TABLE remittance_items (
  remittance_id uuid NOT NULL REFERENCES remittances(id),
  reintegro_id  uuid NOT NULL REFERENCES reintegros(id),
  amount        numeric(18,2) NOT NULL CHECK (amount > 0),
  live          boolean NOT NULL DEFAULT true,
  PRIMARY KEY (remittance_id, reintegro_id)
);
CREATE UNIQUE INDEX remittance_items_once ON remittance_items (reintegro_id) WHERE live;

-- P21/P22: when the cards arrived at the central office, and failed delivery visits.
CREATE TABLE instrument_card_arrivals (
  instrument_id uuid PRIMARY KEY REFERENCES instruments(id),
  arrived_on    date NOT NULL,
  batch         text,
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL
);
CREATE TABLE instrument_delivery_visits (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  instrument_id uuid NOT NULL REFERENCES instruments(id),
  visited_at    timestamptz NOT NULL,
  note          text,
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL
);
CREATE INDEX instrument_delivery_visits_instrument ON instrument_delivery_visits (instrument_id, visited_at);

-- Voucher-expiry sweep: one row per voucher swept (amount 0 when nothing was left), written in
-- the same transaction as the chunk's journal entry. The primary key makes a re-run post nothing.
-- No foreign keys: a million-row sweep should not take a KEY SHARE lock per voucher.
CREATE TABLE treasury_voucher_sweeps (
  instrument_id    uuid PRIMARY KEY,
  program_id       uuid NOT NULL,
  account_id       uuid NOT NULL,
  amount           numeric(18,2) NOT NULL CHECK (amount >= 0),
  reintegro_id     uuid,
  journal_entry_id uuid,
  swept_at         timestamptz NOT NULL
);
CREATE INDEX treasury_voucher_sweeps_reintegro ON treasury_voucher_sweeps (reintegro_id) WHERE reintegro_id IS NOT NULL;
CREATE INDEX instruments_program_vouchers ON instruments (program_id, id) WHERE kind = 'voucher';

-- Reminders, warnings and reintegro demands of grant tranches whose proof is due (Cooperativas:
-- reminder at day 30, warning at day 45, second letter at day 52; then the demand).
CREATE TABLE tranche_proof_events (
  grant_id     uuid NOT NULL,
  tranche_no   integer NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('reminder', 'warning', 'second_warning', 'reintegro_demand')),
  day          integer,
  due_on       date NOT NULL,
  reintegro_id uuid REFERENCES reintegros(id),
  details      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (grant_id, tranche_no, kind),
  FOREIGN KEY (grant_id, tranche_no) REFERENCES grant_tranches (grant_id, tranche_no)
);

-- Records the reintegro of a 'baja_reintegro' journal entry (called in the baja's transaction,
-- and by the backfill below). Idempotent on the entry. Design decision (docs/treasury.md): for a
-- baja for death, the deposits posted for periods whose payment date is after the date of death
-- (effectiveDate) are part of the reintegro; they are itemised in details.depositsAfterDeath.
CREATE FUNCTION treasury_record_baja_reintegro(p_entry uuid) RETURNS uuid LANGUAGE plpgsql AS $$
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
          v_cause, v_amount, 'instrument', v_sources, p_entry,
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
END $$;

-- Backfill: bajas posted before this migration get their reintegro records.
SELECT treasury_record_baja_reintegro(id) FROM journal_entries WHERE kind = 'baja_reintegro' ORDER BY seq;

-- One chunk of the voucher-expiry sweep of a program: the next p_limit expired vouchers (by id,
-- after p_after) not swept yet. Their authorized holds are released as expired (a hold never
-- outlives its voucher, merchants migration); their balances are read without a lock and each
-- voucher is debited by one guarded UPDATE (row lock and write in one step, applied only if the
-- balance is unchanged: a refund that landed in between leaves that voucher for the next run);
-- the reintegro account is touched last, so the sweep never holds it while waiting for a voucher
-- (no deadlock with a baja). Every remaining balance moves to program:<id>:reintegro in ONE journal entry with
-- one debit per voucher and one credit (the postings_balanced trigger checks it), recorded as one
-- reintegro. The treasury_voucher_sweeps rows are inserted in the same transaction, so a re-run
-- (or a second worker after a crash) finds nothing left and posts nothing. An advisory lock per
-- program serialises two sweeps of the same program.
CREATE FUNCTION treasury_sweep_vouchers(p_program uuid, p_now timestamptz, p_after uuid, p_limit integer,
  OUT r_scanned integer, OUT r_swept integer, OUT r_total numeric, OUT r_entry uuid, OUT r_reintegro uuid, OUT r_last uuid)
LANGUAGE plpgsql AS $$
DECLARE
  pr programs;
  v_cutoff timestamptz;
  v_first uuid;
  v_ms text := lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0');
BEGIN
  r_scanned := 0; r_swept := 0; r_total := 0;
  PERFORM pg_advisory_xact_lock(hashtext('treasury-voucher-sweep'), hashtext(p_program::text));
  SELECT * INTO pr FROM programs WHERE id = p_program;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'no such program';
  END IF;
  IF pr.rules->>'voucherUnspentAtExpiry' = 'keep' THEN RETURN; END IF;
  -- The end of voucherExpiresOn in the program's time zone (vouchers are usable strictly before).
  IF pr.rules ? 'voucherExpiresOn' THEN
    v_cutoff := ((pr.rules->>'voucherExpiresOn')::date + 1)::timestamp AT TIME ZONE pr.time_zone;
  END IF;

  DROP TABLE IF EXISTS treasury_sweep_ids;
  CREATE TEMP TABLE treasury_sweep_ids ON COMMIT DROP AS
  SELECT i.id AS instrument_id, i.account_id
    FROM instruments i
   WHERE i.program_id = p_program AND i.kind = 'voucher' AND (p_after IS NULL OR i.id > p_after)
     AND ((i.expires_at IS NOT NULL AND i.expires_at <= p_now) OR (v_cutoff IS NOT NULL AND v_cutoff <= p_now))
   ORDER BY i.id LIMIT p_limit;
  ANALYZE treasury_sweep_ids;  -- planner statistics: a few thousand rows joined to millions of accounts
  SELECT count(*) INTO r_scanned FROM treasury_sweep_ids;
  IF r_scanned = 0 THEN RETURN; END IF;
  SELECT instrument_id INTO r_last FROM treasury_sweep_ids ORDER BY instrument_id DESC LIMIT 1;
  DELETE FROM treasury_sweep_ids w USING treasury_voucher_sweeps s WHERE s.instrument_id = w.instrument_id;
  SELECT instrument_id INTO v_first FROM treasury_sweep_ids ORDER BY instrument_id LIMIT 1;
  IF v_first IS NULL THEN RETURN; END IF;

  -- Holds of expired vouchers have expired too (they never outlive the voucher): release them.
  WITH h AS (
    UPDATE ledger_holds h SET status = 'expired', resolved_at = p_now
      FROM treasury_sweep_ids w WHERE h.account_id = w.account_id AND h.status = 'authorized'
    RETURNING h.account_id, h.amount),
  agg AS (SELECT account_id, sum(amount) AS s FROM h GROUP BY account_id)
  UPDATE ledger_accounts a SET pending_debits = a.pending_debits - agg.s FROM agg WHERE a.id = agg.account_id;

  -- Read the balances without locking, then debit each voucher with a guarded UPDATE that takes
  -- its row lock and applies only if the balance is still the one read (a refund that landed in
  -- between leaves that voucher for the next run). One write per voucher instead of lock + update.
  DROP TABLE IF EXISTS treasury_sweep_work;
  CREATE TEMP TABLE treasury_sweep_work ON COMMIT DROP AS
  SELECT w.instrument_id, w.account_id, a.posted_credits - a.posted_debits AS amount, a.currency, a.deferred_totals
    FROM treasury_sweep_ids w JOIN ledger_accounts a ON a.id = w.account_id;
  ANALYZE treasury_sweep_work;
  IF EXISTS (SELECT 1 FROM treasury_sweep_work WHERE currency <> pr.currency OR deferred_totals) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'voucher account in another currency, or deferred';
  END IF;
  WITH upd AS (
    UPDATE ledger_accounts a SET posted_debits = a.posted_debits + w.amount
      FROM treasury_sweep_work w
     WHERE a.id = w.account_id AND w.amount > 0 AND a.posted_credits - a.posted_debits = w.amount
    RETURNING a.id)
  DELETE FROM treasury_sweep_work w WHERE w.amount > 0 AND NOT EXISTS (SELECT 1 FROM upd WHERE upd.id = w.account_id);

  SELECT count(*) FILTER (WHERE amount > 0), coalesce(sum(amount) FILTER (WHERE amount > 0), 0)
    INTO r_swept, r_total FROM treasury_sweep_work;

  IF r_total > 0 THEN
    r_entry := (v_ms || '7' || substr(md5(random()::text || v_first::text), 1, 19))::uuid;
    r_reintegro := gen_random_uuid();
    INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, description, metadata, created_by)
    VALUES (r_entry, 'voucher_expiry', 'voucher-expiry:' || p_program::text || ':' || v_first::text, p_now,
            'Voucher expiry: remaining balances to reintegro of ' || pr.code,
            jsonb_build_object('programId', p_program, 'reintegroId', r_reintegro, 'vouchers', r_swept,
                               'expiresOn', pr.rules->>'voucherExpiresOn', 'cause', 'voucher_expiry'),
            'system:sweeps');
    INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
    SELECT r_entry, w.account_id, 'debit', w.amount, p_now FROM treasury_sweep_work w WHERE w.amount > 0
    UNION ALL
    SELECT r_entry, pr.reintegro_account_id, 'credit', r_total, p_now;
    UPDATE ledger_accounts SET posted_credits = posted_credits + r_total WHERE id = pr.reintegro_account_id;
    INSERT INTO reintegros (id, program_id, cause, amount, source, journal_entry_id, details, created_at)
    VALUES (r_reintegro, p_program, 'voucher_expiry', r_total, 'voucher', r_entry,
            jsonb_build_object('vouchers', r_swept, 'expiresOn', pr.rules->>'voucherExpiresOn', 'itemsIn', 'treasury_voucher_sweeps'), p_now);
  END IF;

  INSERT INTO treasury_voucher_sweeps (instrument_id, program_id, account_id, amount, reintegro_id, journal_entry_id, swept_at)
  SELECT w.instrument_id, p_program, w.account_id, greatest(w.amount, 0),
         CASE WHEN w.amount > 0 THEN r_reintegro END, CASE WHEN w.amount > 0 THEN r_entry END, p_now
    FROM treasury_sweep_work w;
END $$;
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP FUNCTION IF EXISTS treasury_sweep_vouchers, treasury_record_baja_reintegro;
DROP TABLE IF EXISTS tranche_proof_events, treasury_voucher_sweeps, instrument_delivery_visits, instrument_card_arrivals, remittance_items, reintegros, remittances;
DROP INDEX IF EXISTS instruments_program_vouchers;
DROP SEQUENCE IF EXISTS remittance_number_seq;
`);
  }
}
