import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shared shape of programs, the padrón and instruments. Feature issues extend it with
 * their own migrations; this one only fixes what several modules read.
 */
export class ProgramsPadronInstruments1763700100000 implements MigrationInterface {
  name = 'ProgramsPadronInstruments1763700100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE programs (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code                 text NOT NULL UNIQUE,
  name                 text NOT NULL,
  fiscal_year          integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
  instrument_type      text NOT NULL CHECK (instrument_type IN ('card', 'voucher', 'bank_account', 'grant', 'loan')),
  currency             char(3) NOT NULL DEFAULT 'MXN',
  time_zone            text NOT NULL DEFAULT 'America/Mexico_City',
  -- Benefit rules as validated data (src/programs): amounts, schedule, expiry, eligibility …
  rules                jsonb NOT NULL DEFAULT '{}',
  -- Violence programs: identity and address hidden from officers of other programs.
  confidential         boolean NOT NULL DEFAULT false,
  budget_account_id    uuid NOT NULL REFERENCES ledger_accounts(id),
  reintegro_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
  created_by           text,
  created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE beneficiaries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id       uuid NOT NULL REFERENCES programs(id),
  folio            text NOT NULL UNIQUE,
  curp             char(18) NOT NULL,
  given_names      text NOT NULL,
  surnames         text NOT NULL,
  birth_date       date NOT NULL,
  address          jsonb NOT NULL,
  application_date date NOT NULL,
  -- Date from which the person is paid (never retroactive, P20).
  incorporated_on  date NOT NULL,
  attributes       jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  deactivation_cause text,
  deactivated_on   date,
  reentry_count    integer NOT NULL DEFAULT 0 CHECK (reentry_count BETWEEN 0 AND 3),
  created_by       text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX beneficiaries_one_active_curp ON beneficiaries (program_id, curp) WHERE status = 'active';
CREATE INDEX beneficiaries_program_status ON beneficiaries (program_id, status);
CREATE INDEX beneficiaries_curp ON beneficiaries (curp);

CREATE TABLE beneficiary_status_history (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  beneficiary_id uuid NOT NULL REFERENCES beneficiaries(id),
  from_status    text,
  to_status      text NOT NULL,
  cause          text,
  effective_date date NOT NULL,
  note           text,
  actor          text,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX beneficiary_status_history_beneficiary ON beneficiary_status_history (beneficiary_id, at);

CREATE TABLE instruments (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  beneficiary_id      uuid NOT NULL REFERENCES beneficiaries(id),
  program_id          uuid NOT NULL REFERENCES programs(id),
  kind                text NOT NULL CHECK (kind IN ('card', 'voucher')),
  -- The 16-digit number is never stored in clear: an HMAC for lookups, the last four for people.
  number_hash         text NOT NULL UNIQUE,
  last4               char(4) NOT NULL,
  status              text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'active', 'blocked', 'replaced', 'cancelled')),
  pin_hash            text,
  failed_pin_attempts integer NOT NULL DEFAULT 0,
  pin_locked          boolean NOT NULL DEFAULT false,
  -- Exclusive: the instrument is usable strictly before this instant (end of the expiry date in the program's time zone).
  expires_at          timestamptz,
  account_id          uuid NOT NULL UNIQUE REFERENCES ledger_accounts(id),
  replaces_id         uuid REFERENCES instruments(id),
  issued_at           timestamptz NOT NULL DEFAULT now(),
  delivered_at        timestamptz,
  created_by          text
);
CREATE INDEX instruments_beneficiary ON instruments (beneficiary_id);
CREATE INDEX instruments_program_status ON instruments (program_id, status);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS instruments, beneficiary_status_history, beneficiaries, programs`);
  }
}
