import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { hashSecret } from '../common/auth/secrets';
import { ROLES, Role } from '../common/auth/principal';
import { ApiProblem } from '../common/problem';
import { sqlState, SQLSTATE } from '../common/db-errors';

export interface StaffUser {
  id: string;
  username: string;
  role: Role;
}

@Injectable()
export class StaffUsersService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(username: string, password: string, role: string): Promise<StaffUser> {
    if (!ROLES.includes(role as Role)) throw new ApiProblem(400, 'validation_failed', `role must be one of ${ROLES.join(', ')}`);
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(username)) throw new ApiProblem(400, 'validation_failed', 'username: letters, digits and . _ @ - only');
    if (password.length < 8) throw new ApiProblem(400, 'validation_failed', 'password must have at least 8 characters');
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
}
