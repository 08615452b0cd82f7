import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disbursement cycles (issue 4): cycles and their frozen lines, line exceptions, extension
 * authorisations (Seguro: 18 months), grants with tranches and proofs of spending, the holiday
 * calendar used for proof deadlines, and `cycle_post_chunk`, the set-based posting of one chunk.
 *
 * Money path of a cycle (docs/disbursements.md):
 *   approval   program budget → cycle:<id>:commitment  (one guarded entry for controlTotal)
 *   each line  commitment → instrument / grant account (+ insurer payable for a split line)
 *   finish     commitment remainder (exceptions) → program budget
 */
export class DisbursementCycles1763700500000 implements MigrationInterface {
  name = 'DisbursementCycles1763700500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE disbursement_cycles (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id            uuid NOT NULL REFERENCES programs(id),
  kind                  text NOT NULL CHECK (kind IN ('deposit', 'tranche')),
  period                text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  -- Voucher programs with schedule.frequency = 'loads': 1..count, in period order (Uniformes: 2).
  load_number           integer,
  -- Business date the period is paid for (Pensión: day 1); nobody incorporated after it is paid.
  payment_date          date NOT NULL,
  scheduled_for         timestamptz,
  status                text NOT NULL DEFAULT 'draft'
                          CHECK (status IN ('draft', 'approved', 'running', 'completed', 'completed_with_exceptions', 'cancelled')),
  -- Journal entry kind of the lines: cycle_deposit, cycle_voucher_load or cycle_tranche.
  entry_kind            text NOT NULL,
  currency              char(3) NOT NULL,
  control_count         integer NOT NULL CHECK (control_count >= 0),
  control_total         numeric(20,2) NOT NULL CHECK (control_total >= 0),
  posted_count          integer NOT NULL DEFAULT 0,
  posted_total          numeric(20,2) NOT NULL DEFAULT 0,
  exception_count       integer NOT NULL DEFAULT 0,
  exception_total       numeric(20,2) NOT NULL DEFAULT 0,
  -- Active beneficiaries left out of the draft, by reason (e.g. {"not_yet_incorporated": 3}).
  exclusions            jsonb NOT NULL DEFAULT '{}',
  chunk_size            integer NOT NULL CHECK (chunk_size > 0),
  budget_account_id     uuid NOT NULL REFERENCES ledger_accounts(id),
  insurer_account_id    uuid REFERENCES ledger_accounts(id),
  commitment_account_id uuid REFERENCES ledger_accounts(id),
  commitment_entry_id   uuid REFERENCES journal_entries(id),
  release_entry_id      uuid REFERENCES journal_entries(id),
  prepared_by           text NOT NULL,
  prepared_by_user_id   uuid,
  approved_by           text,
  approved_by_user_id   uuid,
  approved_at           timestamptz,
  cancelled_by          text,
  cancelled_at          timestamptz,
  started_at            timestamptz,
  completed_at          timestamptz,
  created_at            timestamptz NOT NULL,
  CONSTRAINT disbursement_cycles_posted_within_control CHECK (
    posted_count + exception_count <= control_count AND posted_total + exception_total <= control_total),
  CONSTRAINT disbursement_cycles_maker_checker CHECK (approved_by_user_id IS NULL OR prepared_by_user_id IS NULL OR approved_by_user_id <> prepared_by_user_id)
);
-- One live cycle per program, kind and period (a cancelled one may be made again).
CREATE UNIQUE INDEX disbursement_cycles_one_per_period ON disbursement_cycles (program_id, kind, period) WHERE status <> 'cancelled';
CREATE INDEX disbursement_cycles_status ON disbursement_cycles (status, scheduled_for);

-- Control totals and identity of a cycle are frozen when the draft is made.
CREATE FUNCTION disbursement_cycles_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.control_count <> OLD.control_count OR NEW.control_total <> OLD.control_total OR NEW.program_id <> OLD.program_id
     OR NEW.kind <> OLD.kind OR NEW.period <> OLD.period OR NEW.payment_date <> OLD.payment_date THEN
    RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = 'control totals and identity of a cycle are frozen';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER disbursement_cycles_frozen BEFORE UPDATE ON disbursement_cycles FOR EACH ROW EXECUTE FUNCTION disbursement_cycles_frozen();

CREATE TABLE grants (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id     uuid NOT NULL REFERENCES programs(id),
  beneficiary_id uuid NOT NULL REFERENCES beneficiaries(id),
  award_amount   numeric(18,2) NOT NULL CHECK (award_amount > 0),
  -- The plan frozen at award: [{"trancheNo":1,"amount":"60000.00","proofDueBusinessDays":20}, …]
  plan           jsonb NOT NULL,
  account_id     uuid NOT NULL UNIQUE REFERENCES ledger_accounts(id),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'cancelled')),
  created_by     text,
  created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX grants_one_active ON grants (program_id, beneficiary_id) WHERE status = 'active';

CREATE TABLE cycle_lines (
  -- Deferred: the lines are inserted first and the cycle row with their frozen totals after.
  cycle_id           uuid NOT NULL REFERENCES disbursement_cycles(id) DEFERRABLE INITIALLY DEFERRED,
  line_no            integer NOT NULL CHECK (line_no > 0),
  beneficiary_id     uuid NOT NULL REFERENCES beneficiaries(id),
  instrument_id      uuid REFERENCES instruments(id),
  grant_id           uuid REFERENCES grants(id),
  tranche_no         integer,
  proof_due_on       date,
  -- The credited ledger account (instrument:<id> or grant:<id>).
  account_id         uuid NOT NULL REFERENCES ledger_accounts(id),
  amount             numeric(18,2) NOT NULL CHECK (amount > 0),
  beneficiary_amount numeric(18,2) NOT NULL CHECK (beneficiary_amount > 0),
  insurer_amount     numeric(18,2) NOT NULL DEFAULT 0 CHECK (insurer_amount >= 0),
  PRIMARY KEY (cycle_id, line_no),
  CONSTRAINT cycle_lines_one_per_beneficiary UNIQUE (cycle_id, beneficiary_id),
  CONSTRAINT cycle_lines_split_adds_up CHECK (amount = beneficiary_amount + insurer_amount),
  CONSTRAINT cycle_lines_target CHECK ((instrument_id IS NULL) <> (grant_id IS NULL))
);
CREATE INDEX cycle_lines_beneficiary ON cycle_lines (beneficiary_id);
CREATE INDEX cycle_lines_grant ON cycle_lines (grant_id, tranche_no) WHERE grant_id IS NOT NULL;
-- Lines are the frozen control list: never edited. Their outcome is a journal entry with the key
-- cycle:<cycleId>:line:<beneficiaryId>, or a row in cycle_line_exceptions.
CREATE TRIGGER cycle_lines_immutable BEFORE UPDATE OR DELETE ON cycle_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TABLE cycle_line_exceptions (
  cycle_id       uuid NOT NULL,
  line_no        integer NOT NULL,
  beneficiary_id uuid NOT NULL,
  reason         text NOT NULL,
  amount         numeric(18,2) NOT NULL,
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (cycle_id, line_no),
  FOREIGN KEY (cycle_id, line_no) REFERENCES cycle_lines (cycle_id, line_no)
);

-- Seguro contra la Violencia Familiar: more than 12 months (up to 18) only with an authorisation record.
CREATE TABLE cycle_extension_authorizations (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id     uuid NOT NULL REFERENCES programs(id),
  beneficiary_id uuid NOT NULL REFERENCES beneficiaries(id),
  reference      text NOT NULL,
  note           text,
  authorized_by  text NOT NULL,
  created_at     timestamptz NOT NULL,
  UNIQUE (program_id, beneficiary_id)
);

CREATE TABLE grant_tranches (
  grant_id         uuid NOT NULL REFERENCES grants(id),
  tranche_no       integer NOT NULL CHECK (tranche_no > 0),
  amount           numeric(18,2) NOT NULL CHECK (amount > 0),
  cycle_id         uuid NOT NULL REFERENCES disbursement_cycles(id),
  journal_entry_id uuid NOT NULL REFERENCES journal_entries(id),
  released_on      date NOT NULL,
  proof_due_on     date,
  status           text NOT NULL DEFAULT 'released' CHECK (status IN ('released', 'proven')),
  proven_at        timestamptz,
  PRIMARY KEY (grant_id, tranche_no)
);

CREATE TABLE grant_proofs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  grant_id     uuid NOT NULL,
  tranche_no   integer NOT NULL,
  amount       numeric(18,2) NOT NULL CHECK (amount > 0),
  -- Document references: [{"reference": "FAC-123", "kind": "invoice", "description": "…"}]
  documents    jsonb NOT NULL CHECK (jsonb_typeof(documents) = 'array' AND jsonb_array_length(documents) > 0),
  status       text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'accepted', 'rejected')),
  submitted_by text NOT NULL,
  submitted_by_user_id uuid,
  submitted_at timestamptz NOT NULL,
  reviewed_by  text,
  reviewed_at  timestamptz,
  review_note  text,
  FOREIGN KEY (grant_id, tranche_no) REFERENCES grant_tranches (grant_id, tranche_no)
);
CREATE INDEX grant_proofs_tranche ON grant_proofs (grant_id, tranche_no);

-- Non-working days for business-day deadlines (data, not code). Official Mexican holidays of
-- Ley Federal del Trabajo art. 74 for 2016, 2020 and 2026 (weekends are always non-working).
CREATE TABLE business_holidays (
  calendar text NOT NULL DEFAULT 'MX',
  day      date NOT NULL,
  name     text NOT NULL,
  PRIMARY KEY (calendar, day)
);
INSERT INTO business_holidays (calendar, day, name) VALUES
  ('MX', '2016-01-01', 'Año Nuevo'), ('MX', '2016-02-01', 'Día de la Constitución'), ('MX', '2016-03-21', 'Natalicio de Benito Juárez'),
  ('MX', '2016-05-01', 'Día del Trabajo'), ('MX', '2016-09-16', 'Día de la Independencia'), ('MX', '2016-11-21', 'Día de la Revolución'),
  ('MX', '2016-12-25', 'Navidad'),
  ('MX', '2020-01-01', 'Año Nuevo'), ('MX', '2020-02-03', 'Día de la Constitución'), ('MX', '2020-03-16', 'Natalicio de Benito Juárez'),
  ('MX', '2020-05-01', 'Día del Trabajo'), ('MX', '2020-09-16', 'Día de la Independencia'), ('MX', '2020-11-16', 'Día de la Revolución'),
  ('MX', '2020-12-25', 'Navidad'),
  ('MX', '2026-01-01', 'Año Nuevo'), ('MX', '2026-02-02', 'Día de la Constitución'), ('MX', '2026-03-16', 'Natalicio de Benito Juárez'),
  ('MX', '2026-05-01', 'Día del Trabajo'), ('MX', '2026-09-16', 'Día de la Independencia'), ('MX', '2026-11-16', 'Día de la Revolución'),
  ('MX', '2026-12-25', 'Navidad');

-- Balances are updated constantly: with room left on each page (fillfactor 70) a balance UPDATE
-- is a HOT update and adds nothing to the table's indexes.
ALTER TABLE ledger_accounts SET (fillfactor = 70);

-- Posts one chunk of a running cycle (lines p_from..p_to) with a handful of set-based statements.
-- Entry ids are time-ordered (UUIDv7 layout: 48-bit milliseconds, version 7, the line number,
-- random bits), so a chunk's entries and postings append to the right edge of their indexes; the
-- credited accounts are locked (in id order) and updated in one statement, which also checks the
-- currency; hot (deferred) accounts take deltas only when there are any.
-- Why not ledger_post per line: one round trip per line is far too slow for a million cards. The
-- same invariants hold: every entry is inserted with all its postings in ONE statement (the
-- postings_balanced statement trigger checks them), credited accounts are locked in id order
-- (the order ledger_post uses), the commitment is debited once per chunk by a guarded UPDATE (its
-- no-negative CHECK refuses drawing more than was committed), postings are immutable, and every
-- line is idempotent on journal_entries.idempotency_key = cycle:<id>:line:<beneficiaryId>, so a
-- chunk re-run after a crash posts nothing twice. A line that cannot post (beneficiary inactive,
-- instrument blocked/replaced/expired since the draft) becomes an exception, not a failure.
CREATE FUNCTION cycle_post_chunk(p_cycle uuid, p_from integer, p_to integer, p_now timestamptz,
  OUT posted integer, OUT posted_total numeric, OUT exceptions integer, OUT exceptions_total numeric)
LANGUAGE plpgsql AS $$
DECLARE
  c disbursement_cycles;
  v_prefix text := 'cycle:' || p_cycle::text || ':line:';
  v_ms text := lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0');
  v_accounts integer;
  v_updated integer;
  v_bad integer;
BEGIN
  posted := 0; posted_total := 0; exceptions := 0; exceptions_total := 0;
  -- Two workers on the same chunk (at-least-once delivery) run one after the other.
  PERFORM pg_advisory_xact_lock(hashtext('cycle-chunk'), hashtext(p_cycle::text || ':' || p_from::text));
  SELECT * INTO c FROM disbursement_cycles WHERE id = p_cycle;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'no such cycle';
  END IF;
  -- Only a started cycle posts (a completed one is scanned and posts nothing: a replay).
  IF c.status NOT IN ('running', 'completed', 'completed_with_exceptions') THEN
    RETURN;
  END IF;

  DROP TABLE IF EXISTS cycle_chunk_work;
  CREATE TEMP TABLE cycle_chunk_work ON COMMIT DROP AS
  SELECT l.line_no, l.beneficiary_id, l.account_id, l.amount, l.beneficiary_amount, l.insurer_amount,
         l.grant_id, l.tranche_no, l.proof_due_on,
         v_prefix || l.beneficiary_id::text AS key,
         (v_ms || '7' || lpad(to_hex(l.line_no), 7, '0') || substr(md5(random()::text || l.beneficiary_id::text), 1, 12))::uuid AS entry_id,
         CASE
           WHEN b.status <> 'active' THEN 'beneficiary_inactive'
           WHEN l.instrument_id IS NOT NULL AND i.status <> 'active' THEN 'instrument_' || i.status
           WHEN l.instrument_id IS NOT NULL AND i.expires_at IS NOT NULL AND i.expires_at <= p_now THEN 'instrument_expired'
           WHEN l.grant_id IS NOT NULL AND g.status <> 'active' THEN 'grant_' || g.status
           WHEN l.grant_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM grant_tranches t WHERE t.grant_id = l.grant_id AND t.tranche_no = l.tranche_no) THEN 'tranche_already_released'
         END AS problem
    FROM cycle_lines l
    JOIN beneficiaries b ON b.id = l.beneficiary_id
    LEFT JOIN instruments i ON i.id = l.instrument_id
    LEFT JOIN grants g ON g.id = l.grant_id
   WHERE l.cycle_id = p_cycle AND l.line_no BETWEEN p_from AND p_to
     AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = v_prefix || l.beneficiary_id::text)
     AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x WHERE x.cycle_id = p_cycle AND x.line_no = l.line_no);
  -- Real statistics for the statements below (a temp table has none).
  ANALYZE cycle_chunk_work;

  SELECT count(*) FILTER (WHERE problem IS NULL), coalesce(sum(amount) FILTER (WHERE problem IS NULL), 0),
         count(*) FILTER (WHERE problem IS NOT NULL), coalesce(sum(amount) FILTER (WHERE problem IS NOT NULL), 0)
    INTO posted, posted_total, exceptions, exceptions_total
    FROM cycle_chunk_work;
  IF posted = 0 AND exceptions = 0 THEN
    RETURN;
  END IF;

  IF exceptions > 0 THEN
    INSERT INTO cycle_line_exceptions (cycle_id, line_no, beneficiary_id, reason, amount, created_at)
    SELECT p_cycle, line_no, beneficiary_id, problem, amount, p_now FROM cycle_chunk_work WHERE problem IS NOT NULL;
  END IF;

  IF posted > 0 THEN
    INSERT INTO journal_entries (id, kind, idempotency_key, effective_at, metadata, created_by)
    SELECT w.entry_id, c.entry_kind, w.key, p_now,
           jsonb_build_object('cycleId', p_cycle, 'lineNo', w.line_no, 'beneficiaryId', w.beneficiary_id, 'period', c.period),
           'system:cycles'
      FROM cycle_chunk_work w WHERE w.problem IS NULL ORDER BY w.line_no;

    -- All postings of the chunk in ONE statement: the balanced-entry trigger checks every entry.
    INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
    SELECT w.entry_id, c.commitment_account_id, 'debit', w.amount, p_now FROM cycle_chunk_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT w.entry_id, w.account_id, 'credit', w.beneficiary_amount, p_now FROM cycle_chunk_work w WHERE w.problem IS NULL
    UNION ALL
    SELECT w.entry_id, c.insurer_account_id, 'credit', w.insurer_amount, p_now FROM cycle_chunk_work w
     WHERE w.problem IS NULL AND w.insurer_amount > 0;

    -- Credited accounts: locked in id order (the order ledger_post uses, so no deadlock with
    -- redemptions or other chunks) and updated in the same statement, which also checks that
    -- every account exists and has the cycle's currency.
    WITH credits AS (
      SELECT t.acc, sum(t.amt) AS amt FROM (
        SELECT w.account_id AS acc, w.beneficiary_amount AS amt FROM cycle_chunk_work w WHERE w.problem IS NULL
        UNION ALL
        SELECT c.insurer_account_id, w.insurer_amount FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.insurer_amount > 0) t
      GROUP BY t.acc),
    locked AS MATERIALIZED (
      SELECT a.id FROM ledger_accounts a WHERE a.id IN (SELECT acc FROM credits) AND NOT a.deferred_totals
       ORDER BY a.id FOR UPDATE),
    upd AS (
      UPDATE ledger_accounts a SET posted_credits = a.posted_credits + credits.amt
        FROM credits JOIN locked ON locked.id = credits.acc
       WHERE a.id = credits.acc
      RETURNING a.currency)
    SELECT (SELECT count(*) FROM credits), (SELECT count(*) FROM upd), (SELECT count(*) FROM upd WHERE currency <> c.currency)
      INTO v_accounts, v_updated, v_bad;
    IF v_bad > 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'cycle line account in another currency';
    END IF;
    IF v_updated < v_accounts THEN
      -- Hot accounts take deltas (rolled up later); an unknown account is refused.
      INSERT INTO ledger_account_deltas (account_id, debits, credits)
      SELECT a.id, 0, sum(CASE WHEN a.id = c.insurer_account_id THEN w.insurer_amount ELSE w.beneficiary_amount END)
        FROM cycle_chunk_work w JOIN ledger_accounts a ON a.id = w.account_id AND a.deferred_totals
       WHERE w.problem IS NULL GROUP BY a.id;
      IF c.insurer_account_id IS NOT NULL AND EXISTS (SELECT 1 FROM ledger_accounts WHERE id = c.insurer_account_id AND deferred_totals) THEN
        INSERT INTO ledger_account_deltas (account_id, debits, credits)
        SELECT c.insurer_account_id, 0, sum(w.insurer_amount) FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.insurer_amount > 0;
      END IF;
      IF (SELECT count(*) FROM ledger_accounts a WHERE a.id IN (SELECT w.account_id FROM cycle_chunk_work w WHERE w.problem IS NULL))
         < (SELECT count(DISTINCT w.account_id) FROM cycle_chunk_work w WHERE w.problem IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown account in a cycle line';
      END IF;
    END IF;

    -- One guarded debit of the commitment per chunk (its no-negative CHECK refuses overdrawing it).
    UPDATE ledger_accounts SET posted_debits = posted_debits + posted_total WHERE id = c.commitment_account_id;

    INSERT INTO grant_tranches (grant_id, tranche_no, amount, cycle_id, journal_entry_id, released_on, proof_due_on)
    SELECT w.grant_id, w.tranche_no, w.amount, p_cycle, w.entry_id, c.payment_date, w.proof_due_on
      FROM cycle_chunk_work w WHERE w.problem IS NULL AND w.grant_id IS NOT NULL;
  END IF;

  UPDATE disbursement_cycles
     SET posted_count = posted_count + posted, posted_total = disbursement_cycles.posted_total + cycle_post_chunk.posted_total,
         exception_count = exception_count + exceptions,
         exception_total = disbursement_cycles.exception_total + cycle_post_chunk.exceptions_total
   WHERE id = p_cycle;
END $$;
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP FUNCTION IF EXISTS cycle_post_chunk;
ALTER TABLE ledger_accounts RESET (fillfactor);
DROP TABLE IF EXISTS business_holidays, grant_proofs, grant_tranches, cycle_extension_authorizations, cycle_line_exceptions, cycle_lines, grants, disbursement_cycles;
DROP FUNCTION IF EXISTS disbursement_cycles_frozen;
`);
  }
}
