import { coreCommands } from '../../src/cli/core.commands';
import { createTestApp, TestApp } from '../support/app';

/**
 * Issue 22 items 3 and 4: one lockout and one failure count for every staff login path (the
 * token endpoint, the queue dashboard's HTTP Basic login, the password change), and sessions that
 * end at once when their user is deactivated or changes password (a per-user token version checked
 * on every request).
 */
const PASSWORD = 'correct horse battery staple';
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('staff sessions and the shared login lockout (issue 22 items 3 and 4)', () => {
  let t: TestApp;
  let admin: { auth: { Authorization: string } };
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin');
  });
  afterAll(() => t.close());

  const login = (username: string, password: string) => t.http.post('/v1/auth/token').send({ username, password });
  const me = (auth: { Authorization: string }) => t.http.get('/v1/auth/me').set(auth);

  describe('the /queues Basic login shares the staff lockout', () => {
    it('five wrong Basic passwords lock the account for every login path', async () => {
      const target = await t.staff('admin');
      for (let i = 0; i < 5; i++) {
        const res = await t.http.get('/queues').set('Authorization', basic(target.username, `wrong ${i}`));
        expect(res.status).toBe(401);
      }
      const dashboard = await t.http.get('/queues').set('Authorization', basic(target.username, PASSWORD));
      expect([dashboard.status, dashboard.body.code]).toEqual([429, 'account_locked']);
      const token = await login(target.username, PASSWORD);
      expect([token.status, token.body.code]).toEqual([429, 'account_locked']);
      const [row] = await t.db.query(`SELECT failed_logins AS n FROM staff_users WHERE lower(username) = lower($1)`, [target.username]);
      expect(row.n).toBe(5);
    });

    it('failures on the token endpoint and on /queues add up to one count', async () => {
      const target = await t.staff('admin');
      for (let i = 0; i < 3; i++) await login(target.username, `wrong ${i}`).expect(401);
      for (let i = 0; i < 2; i++) await t.http.get('/queues').set('Authorization', basic(target.username, `wrong ${i}`)).expect(401);
      const dashboard = await t.http.get('/queues').set('Authorization', basic(target.username, PASSWORD));
      expect([dashboard.status, dashboard.body.code]).toEqual([429, 'account_locked']);
    });

    it('a good Basic login still opens the dashboard and resets the count', async () => {
      const target = await t.staff('admin');
      await login(target.username, 'wrong').expect(401);
      await t.http.get('/queues').set('Authorization', basic(target.username, PASSWORD)).expect(200);
      const [row] = await t.db.query(`SELECT failed_logins AS n FROM staff_users WHERE id = $1`, [target.id]);
      expect(row.n).toBe(0);
    });
  });

  describe('sessions end at once', () => {
    it('a user made inactive loses its token on the next request', async () => {
      const user = await t.staff('auditor');
      await me(user.auth).expect(200);
      await t.db.query(`UPDATE staff_users SET active = false WHERE id = $1`, [user.id]);
      const res = await me(user.auth);
      expect([res.status, res.body.code]).toEqual([401, 'unauthenticated']);
    });

    it('POST /v1/staff-users/{id}/deactivate (admin) ends the sessions and refuses new logins', async () => {
      const user = await t.staff('program_officer');
      await me(user.auth).expect(200);
      const officer = await t.staff('program_officer');
      await t.http.post(`/v1/staff-users/${user.id}/deactivate`).set(officer.auth).expect(403);
      const res = await t.http.post(`/v1/staff-users/${user.id}/deactivate`).set(admin.auth).expect(200);
      expect(res.body).toMatchObject({ id: user.id, username: user.username, role: 'program_officer', active: false });
      await me(user.auth).expect(401);
      await login(user.username, PASSWORD).expect(401);
      await t.http.post(`/v1/staff-users/00000000-0000-4000-8000-000000000000/deactivate`).set(admin.auth).expect(404);
    });

    it('a password set by an admin ends the sessions; the new password logs in, the old one does not', async () => {
      const user = await t.staff('finance_operator');
      const newPassword = 'a brand new passphrase';
      await t.http.post(`/v1/staff-users/${user.id}/password`).set(admin.auth).send({ password: 'short' }).expect(400);
      await t.http.post(`/v1/staff-users/${user.id}/password`).set(admin.auth).send({ password: newPassword }).expect(200);
      await me(user.auth).expect(401);
      await login(user.username, PASSWORD).expect(401);
      const fresh = await login(user.username, newPassword).expect(200);
      await me({ Authorization: `Bearer ${fresh.body.accessToken}` }).expect(200);
    });

    it('a user changing their own password ends every session of theirs, the current one too', async () => {
      const user = await t.staff('auditor');
      const second = await login(user.username, PASSWORD).expect(200);
      const wrong = await t.http.post('/v1/auth/password').set(user.auth).send({ currentPassword: 'not it at all', newPassword: 'another long passphrase' });
      expect([wrong.status, wrong.body.code]).toEqual([401, 'unauthenticated']);
      await t.http.post('/v1/auth/password').set(user.auth).send({ currentPassword: PASSWORD, newPassword: 'another long passphrase' }).expect(204);
      await me(user.auth).expect(401);
      await me({ Authorization: `Bearer ${second.body.accessToken}` }).expect(401);
      await login(user.username, 'another long passphrase').expect(200);
    });

    it('wrong current passwords on the password change count towards the shared lockout', async () => {
      const user = await t.staff('auditor');
      for (let i = 0; i < 5; i++) {
        await t.http.post('/v1/auth/password').set(user.auth).send({ currentPassword: `wrong ${i} wrong`, newPassword: 'another long passphrase' }).expect(401);
      }
      const locked = await login(user.username, PASSWORD);
      expect([locked.status, locked.body.code]).toEqual([429, 'account_locked']);
    });

    it('the CLI: user:password and user:deactivate end the sessions too', async () => {
      const run = async (name: string, options: Record<string, string>) => {
        const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
        try {
          await coreCommands.find((c) => c.name === name)!.run(t.app, options);
        } finally {
          log.mockRestore();
        }
      };
      const user = await t.staff('finance_approver');
      await run('user:password', { username: user.username, password: 'set from the command line' });
      await me(user.auth).expect(401);
      const fresh = await login(user.username, 'set from the command line').expect(200);
      await run('user:deactivate', { username: user.username });
      await me({ Authorization: `Bearer ${fresh.body.accessToken}` }).expect(401);
      await login(user.username, 'set from the command line').expect(401);
    });
  });
});
