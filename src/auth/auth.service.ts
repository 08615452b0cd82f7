import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../common/clock';
import { ApiProblem, problems } from '../common/problem';
import type { Role, StaffPrincipal } from '../common/auth/principal';
import { verifySecret } from '../common/auth/secrets';
import type { TokenResponse } from './auth.dto';
import { StaffUsersService } from './staff-users.service';

/** Failed logins before the account is locked, and for how long. */
export const LOGIN_LOCKOUT = { maxFailures: 5, lockMinutes: 15 };

// Compared against when the username is unknown, so both paths cost one scrypt.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** A staff user whose password was just verified. */
export interface VerifiedStaff {
  id: string;
  username: string;
  role: Role;
  tokenVersion: number;
}

/** What a staff token says besides the standard claims; `ver` is the user's token version when it was issued. */
export interface StaffTokenClaims {
  sub: string;
  username: string;
  role: Role;
  ver?: number;
}

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jwt: JwtService,
    private readonly clock: Clock,
    private readonly users: StaffUsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The one password check of every staff login path (token endpoint, /queues Basic login,
   * password change): one lockout and one failure count whichever path is guessed through.
   * 429 account_locked while locked, 401 for a wrong or unknown user, password or an inactive user.
   */
  async verifyCredentials(username: string, password: string): Promise<VerifiedStaff> {
    const rows = await this.db.query(
      `SELECT id, username, role, password_hash AS "passwordHash", active, locked_until AS "lockedUntil", token_version AS "tokenVersion"
         FROM staff_users WHERE lower(username) = lower($1)`,
      [username],
    );
    const user = rows[0];
    const ok = await verifySecret(password, user?.passwordHash ?? DUMMY_HASH);
    const now = this.clock.now();
    if (user?.lockedUntil && new Date(user.lockedUntil) > now) {
      throw new ApiProblem(429, 'account_locked', 'Too many failed logins; try again later');
    }
    if (!user || !ok || !user.active) {
      if (user) await this.recordFailure(user.id, now);
      throw problems.unauthenticated('Wrong username or password');
    }
    await this.db.query(`UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND failed_logins > 0`, [user.id]);
    return { id: user.id, username: user.username, role: user.role, tokenVersion: user.tokenVersion };
  }

  async issueToken(username: string, password: string): Promise<TokenResponse> {
    const user = await this.verifyCredentials(username, password);
    const claims: StaffTokenClaims = { sub: user.id, username: user.username, role: user.role, ver: user.tokenVersion };
    const accessToken = await this.jwt.signAsync(claims);
    return { accessToken, expiresIn: this.config.JWT_TTL_SECONDS };
  }

  /** The caller's own password change: the current password is a login (it counts towards the lockout); every session ends. */
  async changeOwnPassword(staff: StaffPrincipal, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.verifyCredentials(staff.username, currentPassword);
    if (user.id !== staff.userId) throw problems.unauthenticated('Wrong username or password');
    await this.users.setPassword(user.id, newPassword);
  }

  private async recordFailure(userId: string, now: Date): Promise<void> {
    const lockUntil = new Date(now.getTime() + LOGIN_LOCKOUT.lockMinutes * 60_000);
    await this.db.query(
      `UPDATE staff_users SET failed_logins = failed_logins + 1,
              locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
        WHERE id = $1`,
      [userId, LOGIN_LOCKOUT.maxFailures, lockUntil],
    );
  }
}
