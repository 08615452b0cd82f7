import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startOfBusinessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { ApiProblem, problems } from '../common/problem';
import { withTransaction } from '../database/transaction';
import { ProgramRules } from './program-rules';
import { rolloverPlan } from './rollover.rules';
import { Program, ProgramsService } from './programs.service';

/**
 * Fiscal-year rollover (API.md "Programs across fiscal years"; M15, W9): the next year's program
 * `<BASE>-<YEAR>` with every active beneficiary carried (same folio, incorporation date, re-entry
 * count, attributes, bank details, extension authorisations) and their live instruments moved to
 * it, set-based in one transaction. No ledger write: the instruments keep their accounts and
 * balances (Pensión balances accumulate across years, P27–P28), and months already paid stay in
 * paid_periods under the lineage, so caps count across years.
 */
@Injectable()
export class RolloverService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly clock: Clock,
  ) {}

  async rollover(programId: string, input: { fiscalYear: number; rules?: unknown }, actor: string): Promise<Program & { carried: { beneficiaries: number; instruments: number } }> {
    return withTransaction(this.db, async (m) => {
      const [source] = await m.query(
        `SELECT id, code, name, lineage, fiscal_year AS "fiscalYear", instrument_type AS "instrumentType", currency, time_zone AS "timeZone", confidential, rules
           FROM programs WHERE id = $1 FOR UPDATE`,
        [programId],
      );
      if (!source) throw problems.notFound('program');
      const plan = rolloverPlan({ ...source, rules: ProgramRules.parse(source.rules) }, input);
      // One rollover per year and lineage: the code is unique; check first for a clear answer (the unique key still decides).
      const taken = await m.query(`SELECT id FROM programs WHERE code = $1`, [plan.code]);
      if (taken.length) throw new ApiProblem(409, 'program_exists', `${plan.code} exists already`, { programId: taken[0].id });
      const next = await this.programs.create(
        { code: plan.code, name: source.name, fiscalYear: input.fiscalYear, instrumentType: source.instrumentType, currency: source.currency, timeZone: source.timeZone, confidential: source.confidential, rules: plan.rules },
        actor,
        m,
      );
      const now = this.clock.now();
      const [{ beneficiaries }] = await m.query(
        `WITH ins AS (
           INSERT INTO beneficiaries (id, program_id, folio, kind, curp, rfc, legal_name, constituted_on, given_names, surnames, birth_date, address,
                                      application_date, incorporated_on, attributes, status, reentry_count, created_by, created_at, carried_from)
           SELECT gen_random_uuid(), $2, folio, kind, curp, rfc, legal_name, constituted_on, given_names, surnames, birth_date, address,
                  application_date, incorporated_on, attributes, 'active', reentry_count, $3, $4, id
             FROM beneficiaries WHERE program_id = $1 AND status = 'active'
           RETURNING 1)
         SELECT count(*)::int AS beneficiaries FROM ins`,
        [source.id, next.id, actor, now],
      );
      // Live instruments move with their holder; a voucher expired by the new year stays with the old year (its sweep).
      const newYear = startOfBusinessDate(`${input.fiscalYear}-01-01`, source.timeZone);
      const [{ instruments }] = await m.query(
        `WITH moved AS (
           UPDATE instruments i SET beneficiary_id = n.id, program_id = n.program_id
             FROM beneficiaries n
            WHERE n.program_id = $1 AND n.carried_from = i.beneficiary_id
              AND i.status IN ('issued', 'active', 'blocked') AND (i.expires_at IS NULL OR i.expires_at > $2)
           RETURNING 1)
         SELECT count(*)::int AS instruments FROM moved`,
        [next.id, newYear],
      );
      await m.query(
        `INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
         SELECT a.owner_kind, n.id, n.program_id, a.clabe, a.holder_name, 1, $2, $3
           FROM payee_bank_accounts a JOIN beneficiaries n ON n.carried_from = a.owner_id AND n.program_id = $1
          WHERE a.owner_kind = 'beneficiary'`,
        [next.id, actor, now],
      );
      await m.query(
        `INSERT INTO payee_bank_account_history (owner_kind, owner_id, program_id, version, clabe, holder_name, source, changed_by, changed_at)
         SELECT a.owner_kind, a.owner_id, a.program_id, a.version, a.clabe, a.holder_name, 'staff', a.updated_by, a.updated_at
           FROM payee_bank_accounts a JOIN beneficiaries n ON n.id = a.owner_id AND n.program_id = $1 AND n.carried_from IS NOT NULL
          WHERE a.owner_kind = 'beneficiary'`,
        [next.id],
      );
      await m.query(
        `INSERT INTO cycle_extension_authorizations (program_id, beneficiary_id, reference, note, authorized_by, created_at)
         SELECT n.program_id, n.id, au.reference, au.note, au.authorized_by, au.created_at
           FROM cycle_extension_authorizations au JOIN beneficiaries n ON n.carried_from = au.beneficiary_id AND n.program_id = $1`,
        [next.id],
      );
      await m.query(`UPDATE programs SET rolled_from = $2 WHERE id = $1`, [next.id, source.id]);
      return { ...next, carried: { beneficiaries, instruments } };
    });
  }
}
