import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { returnedRows } from '../database/returning';

/**
 * Who may see the identity (CURP, names, birth date, address) of a program's beneficiaries.
 * Admins and auditors see everything. For ordinary programs every program officer does. For a
 * confidential program (Seguro contra la Violencia Familiar, S11) only the officers assigned to
 * it in staff_program_access do; the others get records with identity withheld, and may not
 * change its padrón or instruments.
 */
@Injectable()
export class ProgramAccessService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async canSeeIdentity(staff: StaffPrincipal, program: { id: string; confidential: boolean }, q: Queryable = this.db): Promise<boolean> {
    if (staff.role === 'admin' || staff.role === 'auditor') return true;
    if (!program.confidential) return true;
    const rows = await q.query(`SELECT 1 FROM staff_program_access WHERE user_id = $1 AND program_id = $2`, [staff.userId, program.id]);
    return rows.length > 0;
  }

  /** Writes on a confidential program need the assignment too. */
  async assertMayManage(staff: StaffPrincipal, program: { id: string; confidential: boolean; code?: string }, q: Queryable = this.db): Promise<void> {
    if (!(await this.canSeeIdentity(staff, program, q))) {
      throw problems.forbidden(`program ${program.code ?? program.id} is confidential and you are not assigned to it`);
    }
  }

  /** Assigns a staff user to a program (idempotent). */
  async grant(username: string, programCode: string, grantedBy: string | null): Promise<{ userId: string; programId: string }> {
    const users = await this.db.query(`SELECT id FROM staff_users WHERE lower(username) = lower($1)`, [username]);
    if (!users[0]) throw problems.notFound(`user ${username}`);
    const programs = await this.db.query(`SELECT id FROM programs WHERE code = $1`, [programCode]);
    if (!programs[0]) throw problems.notFound(`program ${programCode}`);
    await this.db.query(
      `INSERT INTO staff_program_access (user_id, program_id, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [users[0].id, programs[0].id, grantedBy],
    );
    return { userId: users[0].id, programId: programs[0].id };
  }

  async revoke(username: string, programCode: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM staff_program_access a USING staff_users u, programs p
        WHERE a.user_id = u.id AND a.program_id = p.id AND lower(u.username) = lower($1) AND p.code = $2 RETURNING 1`,
      [username, programCode],
    );
    return returnedRows(rows).length > 0;
  }
}
