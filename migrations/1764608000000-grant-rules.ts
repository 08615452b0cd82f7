import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Grants that follow their rules (issue 17, docs/grants.md):
 *  - collective beneficiaries (cooperatives, civil organisations, firms, groups) identified by RFC,
 *    with their members' CURPs (beneficiary_members);
 *  - grants: the stage, the award limit and the bound that set it, the envelope or budget the
 *    award reserved its money from (grant:<id>:award), the counterpart's share, statuses finished,
 *    demanded and rescinded;
 *  - cycle lines that draw from a source account of their own (a grant's award reserve);
 *  - receivables from grantees (a demand or a rescission), restitutions the grantees paid,
 *    counterpart contributions, rescissions, and the letters of the recovery timeline.
 */
export class GrantRules1764608000000 implements MigrationInterface {
  name = 'GrantRules1764608000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('GrantRules1764608000000 is not reverted: roll forward with a new migration');
  }
}

const statements = [
  // Collective beneficiaries: a person has a CURP and a birth date; a collective a legal name, and
  // an RFC once legally constituted (a group before its constitution may have one or not).
  `ALTER TABLE beneficiaries
     ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'cooperative', 'civil_organisation', 'firm', 'group')),
     ADD COLUMN rfc text CHECK (rfc ~ '^[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}$'),
     ADD COLUMN legal_name text,
     ADD COLUMN constituted_on date,
     ALTER COLUMN curp DROP NOT NULL,
     ALTER COLUMN birth_date DROP NOT NULL,
     ALTER COLUMN given_names DROP NOT NULL,
     ALTER COLUMN surnames DROP NOT NULL`,
  `ALTER TABLE beneficiaries ADD CONSTRAINT beneficiaries_identity CHECK (CASE kind
     WHEN 'person' THEN curp IS NOT NULL AND birth_date IS NOT NULL AND given_names IS NOT NULL AND surnames IS NOT NULL AND rfc IS NULL AND legal_name IS NULL
     WHEN 'group' THEN curp IS NULL AND legal_name IS NOT NULL AND constituted_on IS NULL
     ELSE curp IS NULL AND legal_name IS NOT NULL AND rfc IS NOT NULL END)`,
  `CREATE UNIQUE INDEX beneficiaries_one_active_rfc ON beneficiaries (program_id, rfc) WHERE status = 'active' AND rfc IS NOT NULL`,
  `CREATE INDEX beneficiaries_rfc ON beneficiaries (rfc) WHERE rfc IS NOT NULL`,
  `CREATE TABLE beneficiary_members (
     beneficiary_id uuid NOT NULL REFERENCES beneficiaries(id),
     position       integer NOT NULL CHECK (position > 0),
     curp           char(18) NOT NULL,
     given_names    text NOT NULL,
     surnames       text NOT NULL,
     PRIMARY KEY (beneficiary_id, position),
     UNIQUE (beneficiary_id, curp)
   )`,
  `CREATE INDEX beneficiary_members_curp ON beneficiary_members (curp)`,

  // Grants. No code ever set 'completed' or 'cancelled' (review W12); the statuses now are
  // active → finished (every tranche proven) | demanded (a letter demanded the unproven money) |
  // rescinded. Only 'active' takes the one-active-grant index, so a finished stage I lets stage II in.
  `ALTER TABLE grants DROP CONSTRAINT grants_status_check`,
  `UPDATE grants SET status = CASE status WHEN 'completed' THEN 'finished' WHEN 'cancelled' THEN 'rescinded' ELSE status END`,
  `ALTER TABLE grants ADD CONSTRAINT grants_status_check CHECK (status IN ('active', 'finished', 'demanded', 'rescinded'))`,
  `ALTER TABLE grants
     ADD COLUMN stage text,
     ADD COLUMN component text NOT NULL DEFAULT 'awards',
     ADD COLUMN members integer CHECK (members > 0),
     ADD COLUMN project_cost numeric(18,2) CHECK (project_cost > 0),
     ADD COLUMN other_programs boolean,
     ADD COLUMN support_type text,
     -- The award limit (smallest bound) and every bound computed, with the one that applied.
     ADD COLUMN award_limit numeric(18,2),
     ADD COLUMN limit_bound text,
     ADD COLUMN limits jsonb NOT NULL DEFAULT '[]',
     -- The budget or envelope account the award reserved its money from, and the reserve itself.
     ADD COLUMN source_account_id uuid REFERENCES ledger_accounts(id),
     ADD COLUMN award_account_id uuid UNIQUE REFERENCES ledger_accounts(id),
     ADD COLUMN award_entry_id uuid REFERENCES journal_entries(id),
     -- The counterpart's share of the project (project cost − award) and its own sub-account.
     ADD COLUMN counterpart_amount numeric(18,2) CHECK (counterpart_amount >= 0),
     ADD COLUMN counterpart_account_id uuid UNIQUE REFERENCES ledger_accounts(id),
     ADD COLUMN ended_at timestamptz,
     ADD COLUMN release_entry_id uuid REFERENCES journal_entries(id)`,
  `CREATE INDEX grants_beneficiary ON grants (beneficiary_id)`,
  `CREATE INDEX grants_program_page ON grants (program_id, created_at, id)`,

  // A tranche line draws from the grant's award reserve (NULL: the cycle's commitment, as before).
  `ALTER TABLE cycle_lines ADD COLUMN source_account_id uuid REFERENCES ledger_accounts(id)`,

  // What a grantee owes back: the unproven remainder a letter demanded, or the unproven money at a
  // rescission. The memo entry (grant:<id>:receivable / grant:<id>:demanded) is its ledger trace;
  // only restitutions move money. At most one per grant: a demand or a rescission ends the award.
  `CREATE TABLE grant_receivables (
     id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     grant_id         uuid NOT NULL UNIQUE REFERENCES grants(id),
     program_id       uuid NOT NULL REFERENCES programs(id),
     tranche_no       integer,
     cause            text NOT NULL CHECK (cause IN ('unproven_tranche', 'rescission')),
     amount           numeric(18,2) NOT NULL CHECK (amount > 0),
     paid             numeric(18,2) NOT NULL DEFAULT 0,
     demanded_on      date NOT NULL,
     due_on           date NOT NULL,
     status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'referred_to_legal', 'paid')),
     referred_on      date,
     journal_entry_id uuid NOT NULL UNIQUE REFERENCES journal_entries(id),
     details          jsonb NOT NULL DEFAULT '{}',
     created_at       timestamptz NOT NULL,
     CONSTRAINT grant_receivables_paid CHECK (paid >= 0 AND paid <= amount),
     CONSTRAINT grant_receivables_status CHECK ((status = 'paid') = (paid = amount)),
     CONSTRAINT grant_receivables_referred CHECK ((status = 'referred_to_legal') <= (referred_on IS NOT NULL)),
     CONSTRAINT grant_receivables_tranche CHECK ((cause = 'unproven_tranche') = (tranche_no IS NOT NULL))
   )`,
  `CREATE INDEX grant_receivables_program ON grant_receivables (program_id, due_on, id)`,

  `CREATE TABLE grant_rescissions (
     grant_id     uuid PRIMARY KEY REFERENCES grants(id),
     cause        text NOT NULL,
     notified_on  date NOT NULL,
     receivable_id uuid REFERENCES grant_receivables(id),
     release_entry_id uuid REFERENCES journal_entries(id),
     recorded_by  text NOT NULL,
     recorded_at  timestamptz NOT NULL
   )`,

  // Money a grantee paid back: bank → grant:<id> (receipt) → program:<id>:reintegro (the reintegro).
  `CREATE TABLE grant_restitutions (
     id               uuid PRIMARY KEY,
     grant_id         uuid NOT NULL REFERENCES grants(id),
     receivable_id    uuid NOT NULL REFERENCES grant_receivables(id),
     amount           numeric(18,2) NOT NULL CHECK (amount > 0),
     paid_on          date NOT NULL,
     reference        text NOT NULL,
     receipt_entry_id uuid NOT NULL UNIQUE REFERENCES journal_entries(id),
     reintegro_id     uuid NOT NULL REFERENCES reintegros(id),
     recorded_by      text NOT NULL,
     recorded_at      timestamptz NOT NULL
   )`,
  `CREATE INDEX grant_restitutions_grant ON grant_restitutions (grant_id, paid_on)`,

  // The counterpart's contributions to an award's project (M12), in the grant's counterpart sub-account.
  `CREATE TABLE grant_counterpart_contributions (
     id               uuid PRIMARY KEY,
     grant_id         uuid NOT NULL REFERENCES grants(id),
     amount           numeric(18,2) NOT NULL CHECK (amount > 0),
     received_on      date NOT NULL,
     reference        text NOT NULL,
     journal_entry_id uuid NOT NULL UNIQUE REFERENCES journal_entries(id),
     recorded_by      text NOT NULL,
     recorded_at      timestamptz NOT NULL
   )`,
  `CREATE INDEX grant_counterpart_contributions_grant ON grant_counterpart_contributions (grant_id, received_on)`,

  // Letters of the recovery timeline (rules.recovery.letters): first_letter and second_letter join
  // the old kinds, which stay for history; the demanding letter names its receivable.
  `ALTER TABLE tranche_proof_events DROP CONSTRAINT tranche_proof_events_kind_check`,
  `ALTER TABLE tranche_proof_events ADD CONSTRAINT tranche_proof_events_kind_check
     CHECK (kind IN ('reminder', 'first_letter', 'second_letter', 'warning', 'second_warning', 'reintegro_demand'))`,
  `ALTER TABLE tranche_proof_events ADD COLUMN receivable_id uuid REFERENCES grant_receivables(id)`,
];
