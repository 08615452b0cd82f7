import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { actorOf } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { ProgramAccessService } from '../programs/program-access.service';
import { Program, ProgramsService } from '../programs/programs.service';
import { clabeProblem, maskClabe } from './clabe.rules';
import type { BankOwnerKind } from './payouts.rules';

export interface BankAccountInput {
  clabe: string;
  holderName: string;
}

/** Whose bank details: a beneficiary (also as grantee or borrower), a program's insurer, a supplier. */
export interface BankOwner {
  kind: BankOwnerKind;
  id: string;
  program: Program;
}

interface BankAccountRow {
  ownerKind: BankOwnerKind;
  ownerId: string;
  programId: string;
  clabe: string;
  holderName: string;
  version: number;
  source?: string;
  updatedBy: string;
  updatedAt: Date;
}

/**
 * Bank details (CLABE) of payees (docs/payouts.md "Bank details"). A CLABE is checked with its
 * check digit (400 invalid_clabe), stored whole (the bank file needs it), shown whole only to the
 * program's officers (program_officer who may manage the program) and masked to the last four
 * digits for everyone else; it is never logged. Every version is kept in
 * payee_bank_account_history with who and when.
 */
@Injectable()
export class BankAccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
  ) {}

  /** The owner of a beneficiary's bank details, with the caller's right checked (confidential programs). */
  async beneficiaryOwner(beneficiaryId: string, staff: StaffPrincipal, forWrite: boolean): Promise<BankOwner> {
    const rows = await this.db.query(`SELECT program_id AS "programId" FROM beneficiaries WHERE id = $1`, [beneficiaryId]);
    if (!rows[0]) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(rows[0].programId);
    if (forWrite) await this.access.assertMayManage(staff, program);
    return { kind: 'beneficiary', id: beneficiaryId, program };
  }

  /** The insurer of a program is the program's own payee (owner id = program id). */
  async insurerOwner(programId: string): Promise<BankOwner> {
    const program = await this.programs.getById(programId);
    return { kind: 'insurer', id: program.id, program };
  }

  /** Creates or replaces the bank details; a new version in the history, by whom and when. */
  async set(owner: BankOwner, input: BankAccountInput, staff: StaffPrincipal) {
    const problem = clabeProblem(input.clabe);
    if (problem) throw new ApiProblem(400, 'invalid_clabe', problem);
    const holderName = typeof input.holderName === 'string' ? input.holderName.trim() : '';
    if (!holderName || holderName.length > 120) throw problems.validation('holderName must be 1 to 120 characters');
    const row = await withTransaction(this.db, (m) => this.write(m, owner, { clabe: input.clabe, holderName }, actorOf(staff), 'staff'));
    return this.view(row, await this.visibility(staff, owner.program));
  }

  /**
   * The insurer's bank details start as the program's rules say (rules.insurer; for Seguro a
   * placeholder, a design decision) when its payable is first made (the first cycle with a
   * premium), and are replaced by the operator; nothing is written when they exist already.
   */
  async ensureInsurerFromRules(program: Program, q: Queryable): Promise<void> {
    const insurer = program.rules.insurer;
    if (!insurer) return;
    const exists = await q.query(`SELECT 1 FROM payee_bank_accounts WHERE owner_kind = 'insurer' AND owner_id = $1`, [program.id]);
    if (exists[0]) return;
    await this.write(q, { kind: 'insurer', id: program.id, program }, { clabe: insurer.clabe, holderName: insurer.name }, 'system:program-rules', 'program_rules');
  }

  private async write(q: Queryable, owner: BankOwner, input: BankAccountInput, actor: string, source: 'staff' | 'program_rules'): Promise<BankAccountRow> {
    const now = this.clock.now();
    // One writer per owner at a time (the version number is the history's key).
    await q.query(`SELECT pg_advisory_xact_lock(hashtext('payee-bank-account'), hashtext($1))`, [`${owner.kind}:${owner.id}`]);
    const rows = await q.query(
      `INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, 1, $6, $7)
       ON CONFLICT (owner_kind, owner_id) DO UPDATE
         SET clabe = EXCLUDED.clabe, holder_name = EXCLUDED.holder_name, version = payee_bank_accounts.version + 1,
             updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
       RETURNING owner_kind AS "ownerKind", owner_id AS "ownerId", program_id AS "programId", clabe, holder_name AS "holderName",
                 version, updated_by AS "updatedBy", updated_at AS "updatedAt"`,
      [owner.kind, owner.id, owner.program.id, input.clabe, input.holderName, actor, now],
    );
    const row: BankAccountRow = rows[0];
    await q.query(
      `INSERT INTO payee_bank_account_history (owner_kind, owner_id, program_id, version, clabe, holder_name, source, changed_by, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [owner.kind, owner.id, owner.program.id, row.version, input.clabe, input.holderName, source, actor, now],
    );
    return row;
  }

  async get(owner: BankOwner, staff: StaffPrincipal) {
    const rows = await this.db.query(
      `SELECT owner_kind AS "ownerKind", owner_id AS "ownerId", program_id AS "programId", clabe, holder_name AS "holderName",
              version, updated_by AS "updatedBy", updated_at AS "updatedAt"
         FROM payee_bank_accounts WHERE owner_kind = $1 AND owner_id = $2`,
      [owner.kind, owner.id],
    );
    if (!rows[0]) throw problems.notFound('bank account');
    return this.view(rows[0], await this.visibility(staff, owner.program));
  }

  async history(owner: BankOwner, staff: StaffPrincipal) {
    const rows: BankAccountRow[] = await this.db.query(
      `SELECT owner_kind AS "ownerKind", owner_id AS "ownerId", program_id AS "programId", clabe, holder_name AS "holderName",
              version, source, changed_by AS "updatedBy", changed_at AS "updatedAt"
         FROM payee_bank_account_history WHERE owner_kind = $1 AND owner_id = $2 ORDER BY version`,
      [owner.kind, owner.id],
    );
    const seen = await this.visibility(staff, owner.program);
    return { data: rows.map((r) => ({ ...this.view(r, seen), source: r.source })) };
  }

  /**
   * What the caller sees: the CLABE whole only as an officer of the program (a program_officer
   * who may manage it: assigned, for a confidential one); the holder's name wherever the caller
   * may see the program's identities (S11: not in a confidential program they are not assigned to).
   */
  async visibility(staff: StaffPrincipal, program: Program): Promise<{ officer: boolean; identity: boolean }> {
    const identity = await this.access.canSeeIdentity(staff, program);
    return { officer: identity && staff.role === 'program_officer', identity };
  }

  private view(r: BankAccountRow, seen: { officer: boolean; identity: boolean }) {
    return {
      ownerKind: r.ownerKind,
      ownerId: r.ownerId,
      programId: r.programId,
      clabe: seen.officer ? r.clabe : maskClabe(r.clabe),
      clabeMasked: !seen.officer,
      holderName: seen.identity ? r.holderName : null,
      identityWithheld: !seen.identity,
      version: r.version,
      updatedBy: r.updatedBy,
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }
}
