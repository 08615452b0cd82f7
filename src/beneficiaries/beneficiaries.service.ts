import { withTransaction } from '../database/transaction';
import { csvText } from '../common/csv';
import { decodeCursor, pageOf } from '../common/pagination';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Decimal from 'decimal.js';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, money, sumMoney } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import { PayoutsService } from '../payouts/payouts.service';
import { ProgramAccessService } from '../programs/program-access.service';
import { Program, ProgramsService } from '../programs/programs.service';
import { bajaPlan, BeneficiaryKind, DeactivationCause, isConstituted, reentryDecision } from './beneficiaries.rules';
import { describeRfcProblem, rfcProblem } from './rfc.rules';
import { returnedRows } from '../database/returning';
import { curpBirthDate, curpProblem, curpSex, describeCurpProblem, isRealDate } from './curp.rules';
import { evaluateEligibility } from './eligibility.rules';

export interface PublicPadronRow {
  folio: string;
  givenNames: string;
  surnames: string;
  sex: string;
  municipality: string;
  state: string;
  status: string;
  incorporatedOn: string;
}

export interface Address {
  street?: string;
  colonia?: string;
  municipality?: string;
  state: string;
  postalCode?: string;
}

export interface EnrolInput {
  kind?: BeneficiaryKind;
  curp?: string;
  givenNames?: string;
  surnames?: string;
  birthDate?: string;
  legalName?: string;
  rfc?: string;
  constitutedOn?: string;
  members?: Array<{ curp: string; givenNames: string; surnames: string }>;
  address: Address;
  applicationDate?: string;
  attributes?: Record<string, unknown>;
}

/** A baja: its cause, its business date, and an optional note. */
export interface BajaInput {
  cause: DeactivationCause;
  effectiveDate: string;
  note?: string;
}

export interface BeneficiaryRow {
  id: string;
  programId: string;
  folio: string;
  kind: BeneficiaryKind;
  curp: string | null;
  rfc: string | null;
  legalName: string | null;
  constitutedOn: string | null;
  givenNames: string | null;
  surnames: string | null;
  birthDate: string | null;
  address: Address;
  applicationDate: string;
  incorporatedOn: string;
  attributes: Record<string, unknown>;
  status: 'active' | 'inactive';
  deactivationCause: string | null;
  deactivatedOn: string | null;
  reentryCount: number;
  createdBy: string | null;
  createdAt: Date;
}

const COLUMNS = `id, program_id AS "programId", folio, kind, curp, rfc, legal_name AS "legalName", to_char(constituted_on, 'YYYY-MM-DD') AS "constitutedOn",
  given_names AS "givenNames", surnames,
  to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", address, to_char(application_date, 'YYYY-MM-DD') AS "applicationDate",
  to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn", attributes, status, deactivation_cause AS "deactivationCause",
  to_char(deactivated_on, 'YYYY-MM-DD') AS "deactivatedOn", reentry_count AS "reentryCount", created_by AS "createdBy", created_at AS "createdAt"`;

/** Validates a CURP and its agreement with the birth date; throws 400 invalid_curp. */
export function assertCurp(curp: string, birthDate: string): void {
  const problem = curpProblem(curp);
  if (problem) throw new ApiProblem(400, 'invalid_curp', describeCurpProblem(problem));
  if (curpBirthDate(curp) !== birthDate) throw new ApiProblem(400, 'invalid_curp', 'the birth date in the CURP does not match birthDate');
}

/** The padrón: alta with eligibility at the application date, baja with reintegro, reingreso, history. */
@Injectable()
export class BeneficiariesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly payouts: PayoutsService,
    private readonly clock: Clock,
  ) {}

  today(program: Program): string {
    return businessDate(this.clock.now(), program.timeZone);
  }

  /** An alta; `incorporatedOn` is the date of record of an incorporation from the waiting list (P17), the application date otherwise. */
  async enrol(programId: string, input: EnrolInput, staff: StaffPrincipal, incorporatedOn?: string) {
    const program = await this.programs.getById(programId);
    await this.access.assertMayManage(staff, program);
    const kind = input.kind ?? 'person';
    const today = this.today(program);
    const applicationDate = input.applicationDate ?? today;
    if (!isRealDate(applicationDate)) throw problems.validation('applicationDate is not a real date');
    if (applicationDate > today) throw problems.validation('applicationDate cannot be in the future');
    if (kind !== 'person') return this.enrolCollective(program, kind, { ...input, applicationDate }, staff);
    const { person, attributes } = assessPerson(program, input, applicationDate, await this.lastPaidInLineage(program, input.curp));

    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      // P20: never retroactive: incorporated on the application date, or on the date of record of an
      // incorporation from the waiting list; cycles pay from the first period on or after it.
      const incorporated = incorporatedOn ?? applicationDate;
      const rows = await m.query(
        `INSERT INTO beneficiaries (program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on, attributes, created_by)
         VALUES ($1, $2 || '-' || lpad(nextval('beneficiary_folio_seq')::text, 8, '0'), $3, $4, $5, $6, $7, $8, $11, $9, $10)
         ON CONFLICT (program_id, curp) WHERE status = 'active' DO NOTHING
         RETURNING id, folio, status`,
        [program.id, program.code, person.curp, person.givenNames, person.surnames, person.birthDate, input.address, applicationDate, attributes, actor, incorporated],
      );
      if (!rows[0]) throw problems.conflict('duplicate_beneficiary', `an active beneficiary with this CURP exists in ${program.code}`);
      await this.recordHistory(m, rows[0].id, null, 'active', 'enrolment', incorporated, null, actor);
      return { id: rows[0].id, folio: rows[0].folio, status: 'active' as const, programId: program.id, incorporatedOn: incorporated };
    });
  }

  /**
   * "Once every N years" (Desempleo, oncePerYears) counts the payments of the whole lineage: the
   * business date of the last period paid to this CURP in any fiscal year of the program (W9).
   */
  private async lastPaidInLineage(program: Program, curp: string | undefined): Promise<string | null> {
    if (program.rules.eligibility?.oncePerYears === undefined || !curp) return null;
    const [row] = await this.db.query(
      `SELECT to_char(max(pp.paid_at AT TIME ZONE p.time_zone), 'YYYY-MM-DD') AS last
         FROM programs p JOIN paid_periods pp ON pp.lineage = p.lineage AND pp.beneficiary_key = $2
        WHERE p.id = $1`,
      [program.id, curp],
    );
    return row?.last ?? null;
  }

  /**
   * A collective grantee (API.md "Grants"): only in grant programs, per-hour training programs (firms, PACTyFP) and programs paying on compliance (comedores); a legal name, the RFC when
   * legally constituted, and the members' CURPs (at least one; each valid, none twice). The person
   * eligibility rules (age, residence) are about persons and are not applied to a collective.
   */
  private async enrolCollective(program: Program, kind: BeneficiaryKind, input: EnrolInput & { applicationDate: string }, staff: StaffPrincipal) {
    // Firms are also the beneficiaries of programs that pay their trainers per hour (PACTyFP, docs/training.md),
    // and comedores (groups) of programs that pay a compliant recipient once a year (Comedores Comunitarios, docs/compliance.md).
    if (program.instrumentType !== 'grant' && program.rules.benefit.type !== 'per_hour' && program.rules.benefit.type !== 'on_compliance') {
      throw problems.unprocessable(
        'collective_not_allowed',
        `${program.code} pays persons; collective beneficiaries belong to grant programs, per-hour training programs and programs paying on compliance`,
      );
    }
    if (input.curp !== undefined || input.givenNames !== undefined || input.surnames !== undefined || input.birthDate !== undefined) {
      throw problems.validation('a collective beneficiary has no curp, givenNames, surnames or birthDate: its members do');
    }
    if (!input.legalName) throw problems.validation('legalName is required for a collective beneficiary');
    if (!input.members?.length) throw problems.validation('members are required for a collective beneficiary');
    const constituted = isConstituted(kind);
    if (constituted && !input.rfc) throw problems.validation(`rfc is required for a ${kind}`);
    if (!constituted && input.constitutedOn) throw problems.validation('a group not legally constituted has no constitutedOn');
    if (input.constitutedOn && !isRealDate(input.constitutedOn)) throw problems.validation('constitutedOn is not a real date');
    if (input.rfc) assertRfc(input.rfc);
    assertMembers(input.members);
    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      const rows = await m.query(
        `INSERT INTO beneficiaries (program_id, folio, kind, legal_name, rfc, constituted_on, address, application_date, incorporated_on, attributes, created_by)
         VALUES ($1, $2 || '-' || lpad(nextval('beneficiary_folio_seq')::text, 8, '0'), $3, $4, $5, $6, $7, $8, $8, $9, $10)
         ON CONFLICT (program_id, rfc) WHERE status = 'active' AND rfc IS NOT NULL DO NOTHING
         RETURNING id, folio, status`,
        [program.id, program.code, kind, input.legalName, input.rfc ?? null, input.constitutedOn ?? null, input.address, input.applicationDate, input.attributes ?? {}, actor],
      );
      if (!rows[0]) throw problems.conflict('duplicate_beneficiary', `an active beneficiary with this RFC exists in ${program.code}`);
      await this.insertMembers(m, rows[0].id, input.members!);
      await this.recordHistory(m, rows[0].id, null, 'active', 'enrolment', input.applicationDate, null, actor);
      return { id: rows[0].id, folio: rows[0].folio, status: 'active' as const, programId: program.id, incorporatedOn: input.applicationDate, kind };
    });
  }

  private async insertMembers(m: Queryable, beneficiaryId: string, members: Array<{ curp: string; givenNames: string; surnames: string }>): Promise<void> {
    await m.query(
      `INSERT INTO beneficiary_members (beneficiary_id, position, curp, given_names, surnames)
       SELECT $1, t.n, t.curp, t.given, t.sur FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(curp, given, sur, n)`,
      [beneficiaryId, members.map((x) => x.curp), members.map((x) => x.givenNames), members.map((x) => x.surnames)],
    );
  }

  /**
   * The legal constitution of a group (POST /v1/beneficiaries/{id}/legal-constitution): it becomes
   * a cooperative, civil organisation or firm with its RFC, so the caps of legally constituted
   * grantees apply from now on (Economía Social table A; Cooperativas Impulso stage II).
   */
  async recordConstitution(id: string, input: { kind: string; rfc: string; constitutedOn: string; legalName?: string }, staff: StaffPrincipal) {
    if (!isRealDate(input.constitutedOn)) throw problems.validation('constitutedOn is not a real date');
    assertRfc(input.rfc);
    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      const { b, program } = await this.lockForChange(id, staff, m);
      if (b.kind !== 'group') throw problems.conflict('invalid_status_transition', `the beneficiary is a ${b.kind}; only a group is constituted`);
      if (b.status !== 'active') throw problems.conflict('invalid_status_transition', 'the beneficiary is inactive');
      if (input.constitutedOn > this.today(program)) throw problems.validation('constitutedOn cannot be in the future');
      const clash = await m.query(`SELECT 1 FROM beneficiaries WHERE program_id = $1 AND rfc = $2 AND status = 'active' AND id <> $3`, [program.id, input.rfc, b.id]);
      if (clash[0]) throw problems.conflict('duplicate_beneficiary', `an active beneficiary with this RFC exists in ${program.code}`);
      await m.query(`UPDATE beneficiaries SET kind = $2, rfc = $3, constituted_on = $4, legal_name = coalesce($5, legal_name) WHERE id = $1`, [
        b.id,
        input.kind,
        input.rfc,
        input.constitutedOn,
        input.legalName ?? null,
      ]);
      await this.recordHistory(m, b.id, 'active', 'active', 'legal_constitution', input.constitutedOn, `constituted as ${input.kind}`, actor);
      return this.view((await this.findRow(b.id, m))!, true, await this.membersOf(b.id, m));
    });
  }

  private async membersOf(beneficiaryId: string, q: Queryable = this.db) {
    return q.query(
      `SELECT position, curp, given_names AS "givenNames", surnames FROM beneficiary_members WHERE beneficiary_id = $1 ORDER BY position`,
      [beneficiaryId],
    ) as Promise<Array<{ position: number; curp: string; givenNames: string; surnames: string }>>;
  }

  private async recordHistory(q: Queryable, beneficiaryId: string, from: string | null, to: string, cause: string | null, effectiveDate: string, note: string | null, actor: string): Promise<number> {
    const rows = await q.query(
      `INSERT INTO beneficiary_status_history (beneficiary_id, from_status, to_status, cause, effective_date, note, actor, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [beneficiaryId, from, to, cause, effectiveDate, note, actor, this.clock.now()],
    );
    return Number(rows[0].id);
  }

  async findRow(id: string, q: Queryable = this.db, lock = false): Promise<BeneficiaryRow | null> {
    const rows = await q.query(`SELECT ${COLUMNS} FROM beneficiaries WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
    return rows[0] ?? null;
  }

  async get(id: string, staff: StaffPrincipal) {
    const row = await this.findRow(id);
    if (!row) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(row.programId);
    const identity = await this.access.canSeeIdentity(staff, program);
    return this.view(row, identity, row.kind === 'person' ? [] : await this.membersOf(row.id));
  }

  /** A program's padrón in folio order, keyset-paged on the folio. */
  async list(programId: string, staff: StaffPrincipal, opts: { limit: number; cursor?: string; status?: string; curp?: string }) {
    const after = decodeCursor(opts.cursor, ['text'] as const);
    const program = await this.programs.getById(programId);
    const identity = await this.access.canSeeIdentity(staff, program);
    // Searching by CURP would reveal who is in a confidential program: only with access.
    if (opts.curp && !identity) throw problems.forbidden(`program ${program.code} is confidential and you are not assigned to it`);
    const rows: BeneficiaryRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM beneficiaries
        WHERE program_id = $1 AND ($2::text IS NULL OR folio > $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR curp = $4)
        ORDER BY folio LIMIT $5`,
      [program.id, after?.[0] ?? null, opts.status ?? null, opts.curp ?? null, opts.limit + 1],
    );
    return pageOf(rows, opts.limit, (r) => [r.folio], (r) => this.view(r, identity, null));
  }

  async history(id: string, staff: StaffPrincipal) {
    const row = await this.findRow(id);
    if (!row) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(row.programId);
    const identity = await this.access.canSeeIdentity(staff, program);
    const rows = await this.db.query(
      `SELECT h.id::text AS id, h.from_status AS "fromStatus", h.to_status AS "toStatus", h.cause, to_char(h.effective_date, 'YYYY-MM-DD') AS "effectiveDate",
              h.note, h.actor, h.at FROM beneficiary_status_history h WHERE h.beneficiary_id = $1 ORDER BY h.at, h.id`,
      [id],
    );
    return { data: rows.map((r: { note: string | null; at: Date }) => ({ ...r, note: identity ? r.note : null, at: new Date(r.at).toISOString() })) };
  }

  /** The beneficiary row locked for a status change, its program, and the caller's right to manage it. */
  private async lockForChange(id: string, staff: StaffPrincipal, m: Queryable) {
    const b = await this.findRow(id, m, true);
    if (!b) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(b.programId, m);
    await this.access.assertMayManage(staff, program, m);
    return { b, program };
  }

  /**
   * Baja: status inactive with cause and date, then what the program's rules say about the money
   * already paid (rules.onBaja, bajaPlan): `reintegro` (P42, Pensión) blocks every live instrument
   * (cancelled when the card was never collected, P22), voids its authorized holds and moves the
   * whole remaining balance of every instrument and of the beneficiary's payable to
   * program:<id>:reintegro in ONE journal entry 'baja_reintegro'; `keep` (Desempleo, Seguro on
   * term_completed) leaves instruments and payable as they are. Future cycles never pay an
   * inactive beneficiary either way.
   */
  async deactivate(id: string, input: BajaInput, staff: StaffPrincipal) {
    if (!isRealDate(input.effectiveDate)) throw problems.validation('effectiveDate is not a real date');
    return withTransaction(this.db, async (m) => {
      const { b, program } = await this.lockForChange(id, staff, m);
      if (b.status !== 'active') throw problems.conflict('invalid_status_transition', 'the beneficiary is already inactive');
      return this.applyBaja(m, b, program, input, `user:${staff.username}`);
    });
  }

  /**
   * The same baja made by a job (the P22 card-collection sweep), acting as itself (`actor`, e.g.
   * system:sweeps) rather than as a staff user: null when the beneficiary is no longer active
   * (an officer's baja came first), so the job has nothing left to do.
   */
  async deactivateIfActive(id: string, input: BajaInput, actor: string) {
    return withTransaction(this.db, async (m) => {
      const b = await this.findRow(id, m, true);
      if (!b || b.status !== 'active') return null;
      return this.applyBaja(m, b, await this.programs.getById(b.programId, m), input, actor);
    });
  }

  private async applyBaja(m: Queryable, b: BeneficiaryRow, program: Program, input: BajaInput, actor: string) {
    const historyId = await this.recordHistory(m, b.id, 'active', 'inactive', input.cause, input.effectiveDate, input.note ?? null, actor);
    await m.query(`UPDATE beneficiaries SET status = 'inactive', deactivation_cause = $2, deactivated_on = $3 WHERE id = $1`, [b.id, input.cause, input.effectiveDate]);

    const plan = bajaPlan(program.rules, input.cause);
    const instruments: Array<{ id: string; accountId: string; status: string }> =
      plan.instruments === 'unchanged'
        ? []
        : await m.query(
            `SELECT id, account_id AS "accountId", status FROM instruments
              WHERE beneficiary_id = $1 AND status IN ('issued', 'active', 'blocked') ORDER BY id FOR UPDATE`,
            [b.id],
          );
    if (instruments.length) {
      await m.query(
        `UPDATE instruments SET
           status_before_block = CASE WHEN status = 'blocked' THEN status_before_block ELSE status END,
           blocked_reason = CASE WHEN $2 = 'blocked' THEN 'baja' ELSE NULL END,
           status = $2
         WHERE id = ANY($1::uuid[])`,
        [instruments.map((i) => i.id), plan.instruments],
      );
    }
    const payables = plan.reintegratePayable ? await this.payouts.beneficiaryPayableAccounts(program.id, b.id, m) : [];
    const reintegro = await this.reintegrateBalances(m, program, [...(plan.reintegrateInstruments ? instruments.map((i) => i.accountId) : []), ...payables], {
      key: `baja:${b.id}:${historyId}`,
      metadata: { beneficiaryId: b.id, cause: input.cause, instrumentIds: instruments.map((i) => i.id), effectiveDate: input.effectiveDate },
      actor,
    });
    return {
      id: b.id,
      folio: b.folio,
      status: 'inactive' as const,
      cause: input.cause,
      effectiveDate: input.effectiveDate,
      onBaja: plan.reintegrateInstruments || plan.reintegratePayable ? 'reintegro' : 'keep',
      instrumentsBlocked: instruments.length,
      reintegro: { amount: formatMoney(reintegro.amount), journalEntryId: reintegro.entryId },
    };
  }

  /** Voids authorized holds on the accounts, then posts their balances (instruments, payables) → reintegro payable in one entry. */
  private async reintegrateBalances(
    m: Queryable,
    program: Program,
    accountIds: string[],
    entry: { key: string; metadata: Record<string, unknown>; actor: string },
  ): Promise<{ amount: Decimal; entryId: string | null }> {
    if (!accountIds.length) return { amount: money('0'), entryId: null };
    const now = this.clock.now();
    // Lock the accounts in id order (the ledger's order) so the balances read below cannot move.
    await m.query(`SELECT id FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [accountIds]);
    const holds: Array<{ id: string }> = await m.query(`SELECT id FROM ledger_holds WHERE account_id = ANY($1::uuid[]) AND status = 'authorized'`, [accountIds]);
    for (const h of holds) await this.ledger.releaseHold(h.id, 'voided', now, m);
    const balances: Array<{ accountId: string; posted: string }> = await m.query(
      `SELECT account_id AS "accountId", posted::text FROM ledger_balances WHERE account_id = ANY($1::uuid[]) AND posted > 0 ORDER BY account_id`,
      [accountIds],
    );
    if (!balances.length) return { amount: money('0'), entryId: null };
    const total = sumMoney(balances.map((x) => x.posted));
    const posted = await this.ledger.post(
      {
        kind: 'baja_reintegro',
        idempotencyKey: entry.key,
        effectiveAt: now,
        description: `Baja: instrument balances to reintegro of ${program.code}`,
        metadata: entry.metadata,
        createdBy: entry.actor,
        postings: [
          ...balances.map((x) => ({ accountId: x.accountId, side: 'debit' as const, amount: money(x.posted) })),
          { accountId: program.reintegroAccountId, side: 'credit' as const, amount: total },
        ],
      },
      m,
    );
    // Treasury (issue 6): the reintegro record of this entry, in the same transaction (idempotent on the entry).
    await m.query(`SELECT treasury_record_baja_reintegro($1)`, [posted.entryId]);
    return { amount: total, entryId: posted.entryId };
  }

  /**
   * Reingreso: back to active, incorporated again from today (never retroactive, P20), the
   * instruments blocked by the baja restored; at most rules.reentryLimit times (P43).
   */
  async reactivate(id: string, staff: StaffPrincipal) {
    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      const { b, program } = await this.lockForChange(id, staff, m);
      if (b.status !== 'inactive') throw problems.conflict('invalid_status_transition', 'the beneficiary is already active');
      const decision = reentryDecision(b.reentryCount, program.rules.reentryLimit, b.deactivationCause);
      if (!decision.allowed) throw problems.unprocessable(decision.code, decision.detail);
      const today = this.today(program);
      const updated = returnedRows<{ reentryCount: number }>(await m.query(
        `UPDATE beneficiaries SET status = 'active', reentry_count = reentry_count + 1, incorporated_on = $2,
                deactivation_cause = NULL, deactivated_on = NULL
          WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM beneficiaries o WHERE o.program_id = $3 AND (o.curp = $4 OR o.rfc = $5) AND o.status = 'active')
          RETURNING reentry_count AS "reentryCount"`,
        [b.id, today, b.programId, b.curp, b.rfc],
      ));
      if (!updated[0]) throw problems.conflict('duplicate_beneficiary', `another active beneficiary with this CURP or RFC exists in ${program.code}`);
      await m.query(
        `UPDATE instruments SET status = coalesce(status_before_block, 'issued'), blocked_reason = NULL, status_before_block = NULL
          WHERE beneficiary_id = $1 AND status = 'blocked' AND blocked_reason = 'baja'`,
        [b.id],
      );
      await this.recordHistory(m, b.id, 'inactive', 'active', 'reentry', today, null, actor);
      return { id: b.id, folio: b.folio, status: 'active' as const, reentryCount: updated[0].reentryCount, incorporatedOn: today };
    });
  }

  /**
   * The public padrón (X2, U18, P47–P48), page by page in folio order: folio, names, sex (from the
   * CURP), municipality (alcaldía) and state, status and incorporation date. Never the CURP, the
   * birth date or the street address. A confidential program's padrón is not published (403), and
   * an unknown program is 404, both before the first page.
   */
  async *publicPages(programId: string): AsyncGenerator<PublicPadronRow[]> {
    const program = await this.programs.getById(programId);
    if (program.confidential) throw problems.forbidden(`the padrón of ${program.code} is confidential and is not published`);
    let cursor = '';
    for (;;) {
      // A collective is published under its legal name (no members, no RFC).
      const rows: Array<{ folio: string; givenNames: string; surnames: string; curp: string | null; municipality: string | null; state: string | null; status: string; incorporatedOn: string }> =
        await this.db.query(
          `SELECT folio, coalesce(given_names, legal_name) AS "givenNames", coalesce(surnames, '') AS surnames, curp,
                  address->>'municipality' AS municipality, address->>'state' AS state, status,
                  to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn"
             FROM beneficiaries WHERE program_id = $1 AND folio > $2 ORDER BY folio LIMIT 5000`,
          [program.id, cursor],
        );
      if (!rows.length) return;
      yield rows.map((r) => ({
        folio: r.folio,
        givenNames: r.givenNames,
        surnames: r.surnames,
        sex: r.curp ? curpSex(r.curp) : '',
        municipality: r.municipality ?? '',
        state: r.state ?? '',
        status: r.status,
        incorporatedOn: r.incorporatedOn,
      }));
      cursor = rows[rows.length - 1].folio;
    }
  }

  /** The public padrón as CSV text chunks (common/csv.ts). */
  async *publicExport(programId: string): AsyncGenerator<string> {
    const pages = this.publicPages(programId);
    const first = await pages.next(); // 403/404 before the header
    yield csvText([['folio', 'given_names', 'surnames', 'sex', 'municipality', 'state', 'status', 'incorporated_on']]);
    if (first.done) return;
    const csv = (rows: PublicPadronRow[]) => csvText(rows.map((r) => [r.folio, r.givenNames, r.surnames, r.sex, r.municipality, r.state, r.status, r.incorporatedOn]));
    yield csv(first.value);
    for await (const rows of pages) yield csv(rows);
  }

  /** The public padrón as one JSON array, streamed in chunks. */
  async *publicExportJson(programId: string): AsyncGenerator<string> {
    const pages = this.publicPages(programId);
    const first = await pages.next();
    yield '[';
    if (!first.done) {
      yield first.value.map((r) => JSON.stringify(r)).join(',');
      for await (const rows of pages) yield ',' + rows.map((r) => JSON.stringify(r)).join(',');
    }
    yield ']';
  }

  private view(r: BeneficiaryRow, identity: boolean, members: Array<{ position: number; curp: string; givenNames: string; surnames: string }> | null) {
    const base = {
      id: r.id,
      programId: r.programId,
      folio: r.folio,
      kind: r.kind,
      status: r.status,
      applicationDate: r.applicationDate,
      incorporatedOn: r.incorporatedOn,
      deactivationCause: r.deactivationCause,
      deactivatedOn: r.deactivatedOn,
      reentryCount: r.reentryCount,
      createdAt: new Date(r.createdAt).toISOString(),
    };
    if (!identity) return { ...base, identityWithheld: true };
    const collective = r.kind === 'person' ? {} : { legalName: r.legalName, rfc: r.rfc, constitutedOn: r.constitutedOn, ...(members ? { members } : {}) };
    return {
      ...base,
      curp: r.curp,
      givenNames: r.givenNames,
      surnames: r.surnames,
      birthDate: r.birthDate,
      ...collective,
      address: r.address,
      attributes: r.attributes,
      createdBy: r.createdBy,
      identityWithheld: false,
    };
  }
}

/** The identity fields of a person, each required (400 validation_failed naming the first missing). */
/**
 * A person's application checked as the alta checks it (CURP, birth date, eligibility at the
 * application date, P3/P4): the enrolment and the waiting list (docs/programs-padron.md) share it.
 */
export function assessPerson(program: Program, input: EnrolInput, applicationDate: string, lastPaidOn: string | null = null) {
  const person = requirePersonFields(input);
  assertCurp(person.curp, person.birthDate);
  if (!isRealDate(person.birthDate)) throw problems.validation('birthDate is not a real date');
  const attributes = input.attributes ?? {};
  const verdict = evaluateEligibility(program.rules, { birthDate: person.birthDate, address: input.address, attributes, lastPaidOn }, applicationDate);
  if (!verdict.eligible) throw new ApiProblem(422, 'not_eligible', `${verdict.rule}: ${verdict.detail}`, { rule: verdict.rule });
  return { person, attributes };
}

function requirePersonFields(input: EnrolInput): { curp: string; givenNames: string; surnames: string; birthDate: string } {
  for (const field of ['curp', 'givenNames', 'surnames', 'birthDate'] as const) {
    if (input[field] === undefined) throw problems.validation(`${field} is required`, [{ field, messages: [`${field} is required`] }]);
  }
  if (input.legalName !== undefined || input.rfc !== undefined || input.members !== undefined || input.constitutedOn !== undefined) {
    throw problems.validation('a person has no legalName, rfc, constitutedOn or members');
  }
  return { curp: input.curp!, givenNames: input.givenNames!, surnames: input.surnames!, birthDate: input.birthDate! };
}

/** 400 invalid_rfc for a bad layout, date or check digit. */
export function assertRfc(rfc: string): void {
  const problem = rfcProblem(rfc);
  if (problem) throw new ApiProblem(400, 'invalid_rfc', describeRfcProblem(problem));
}

/** Members' CURPs: each valid (400 invalid_curp naming the position, never the CURP), none twice. */
function assertMembers(members: Array<{ curp: string }>): void {
  const seen = new Set<string>();
  members.forEach((x, i) => {
    const problem = curpProblem(x.curp);
    if (problem) throw new ApiProblem(400, 'invalid_curp', `member ${i + 1}: ${describeCurpProblem(problem)}`, { member: i + 1 });
    if (seen.has(x.curp)) throw problems.validation(`member ${i + 1} repeats the CURP of an earlier member`);
    seen.add(x.curp);
  });
}
