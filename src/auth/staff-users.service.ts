import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { hashSecret } from '../common/auth/secrets';
import { ROLES, Role } from '../common/auth/principal';
import { ApiProblem, problems } from '../common/problem';
import { sqlState, SQLSTATE } from '../common/db-errors';
import { returnedRows } from '../database/returning';

export interface StaffUser {
  id: string;
  username: string;
  role: Role;
}

export interface StaffUserView extends StaffUser {
  active: boolean;
}

export const MIN_PASSWORD_LENGTH = 8;

/**
 * Staff users. Deactivation and password changes increment the user's token version, which the
 * AuthGuard compares with every token's: sessions end at once, in every API process.
 */
@Injectable()
export class StaffUsersService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(username: string, password: string, role: string): Promise<StaffUser> {
    if (!ROLES.includes(role as Role)) throw new ApiProblem(400, 'validation_failed', `role must be one of ${ROLES.join(', ')}`);
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(username)) throw new ApiProblem(400, 'validation_failed', 'username: letters, digits and . _ @ - only');
    assertPassword(password);
    try {
      const rows = await this.db.query(
        `INSERT INTO staff_users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id, username, role`,
        [username, await hashSecret(password), role],
      );
      return rows[0];
    } catch (error) {
      if (sqlState(error) === SQLSTATE.uniqueViolation) throw new ApiProblem(409, 'duplicate_user', `user ${username} exists`);
      throw error;
    }
  }

  /** Id of a user by name (CLI); 404 when there is none. */
  async idOf(username: string): Promise<string> {
    const rows = await this.db.query(`SELECT id FROM staff_users WHERE lower(username) = lower($1)`, [username]);
    if (!rows[0]) throw problems.notFound(`user ${username}`);
    return rows[0].id;
  }

  /** The user can no longer log in, and every token they hold stops working. */
  async deactivate(id: string): Promise<StaffUserView> {
    const rows = returnedRows<StaffUserView>(await this.db.query(
      `UPDATE staff_users SET active = false, token_version = token_version + 1 WHERE id = $1 RETURNING id, username, role, active`,
      [id],
    ));
    if (!rows[0]) throw problems.notFound('staff user');
    return rows[0];
  }

  /** A new password; every token issued before stops working. */
  async setPassword(id: string, password: string): Promise<StaffUserView> {
    assertPassword(password);
    const rows = returnedRows<StaffUserView>(await this.db.query(
      `UPDATE staff_users SET password_hash = $2, token_version = token_version + 1 WHERE id = $1 RETURNING id, username, role, active`,
      [id, await hashSecret(password)],
    ));
    if (!rows[0]) throw problems.notFound('staff user');
    return rows[0];
  }
}

function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new ApiProblem(400, 'validation_failed', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
}
