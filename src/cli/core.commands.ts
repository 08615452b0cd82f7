import { AuthModule } from '../auth/auth.module';
import { StaffUsersService } from '../auth/staff-users.service';
import { loadConfig } from '../config/config';
import { migrate } from '../database/migrate';
import { CliCommand, requireOption } from './command';

export const coreCommands: CliCommand[] = [
  {
    name: 'migrate',
    usage: 'migrate',
    options: {},
    summary: 'Create the database if needed and apply pending migrations',
    async run() {
      const applied = await migrate(loadConfig());
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    },
  },
  {
    name: 'user:create',
    usage: 'user:create --username U --password P --role admin|program_officer|finance_operator|finance_approver|auditor',
    options: { username: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' } },
    summary: 'Create a staff user (the password is stored hashed with scrypt)',
    modules: [AuthModule],
    async run(context, options) {
      const users = context!.get(StaffUsersService);
      const user = await users.create(requireOption(options, 'username'), requireOption(options, 'password'), requireOption(options, 'role'));
      console.log(JSON.stringify({ id: user.id, username: user.username, role: user.role }));
    },
  },
  {
    name: 'user:deactivate',
    usage: 'user:deactivate --username U',
    options: { username: { type: 'string' } },
    summary: 'Deactivate a staff user: no more logins, and every token they hold is refused at once',
    modules: [AuthModule],
    async run(context, options) {
      const users = context!.get(StaffUsersService);
      const user = await users.deactivate(await users.idOf(requireOption(options, 'username')));
      console.log(JSON.stringify(user));
    },
  },
  {
    name: 'user:password',
    usage: 'user:password --username U --password P',
    options: { username: { type: 'string' }, password: { type: 'string' } },
    summary: "Set a staff user's password (scrypt); every session of the user ends at once",
    modules: [AuthModule],
    async run(context, options) {
      const users = context!.get(StaffUsersService);
      const user = await users.setPassword(await users.idOf(requireOption(options, 'username')), requireOption(options, 'password'));
      console.log(JSON.stringify(user));
    },
  },
];
