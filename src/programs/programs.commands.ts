import { CliCommand, CliUsageError, requireOption } from '../cli/command';
import { ProgramAccessService } from './program-access.service';
import { ProgramsModule } from './programs.module';
import { ProgramsService } from './programs.service';

export const programCommands: CliCommand[] = [
  {
    name: 'programs:load',
    usage: 'programs:load [--fiscal-year YYYY] [--appropriate]',
    options: { 'fiscal-year': { type: 'string' }, appropriate: { type: 'boolean' } },
    summary: 'Load the seed programs of fixtures/programs/ (idempotent); --appropriate also appropriates each authorized budget once',
    modules: [ProgramsModule],
    async run(context, options) {
      const year = options['fiscal-year'];
      if (year !== undefined && (typeof year !== 'string' || !/^\d{4}$/.test(year) || Number(year) < 2000 || Number(year) > 2100)) {
        throw new CliUsageError('--fiscal-year must be a year from 2000 to 2100');
      }
      const result = await context!.get(ProgramsService).loadFixtures(
        { fiscalYear: year ? Number(year) : undefined, appropriate: options.appropriate === true },
        'cli:programs:load',
      );
      for (const r of result) console.log(`${r.created ? 'created' : 'exists '}  ${r.code.padEnd(22)} ${r.id}${r.appropriated ? `  appropriated ${r.appropriated}` : ''}`);
      console.log(`${result.filter((r) => r.created).length} created, ${result.filter((r) => !r.created).length} already there`);
    },
  },
  {
    name: 'staff:grant-program',
    usage: 'staff:grant-program --username U --program CODE [--revoke]',
    options: { username: { type: 'string' }, program: { type: 'string' }, revoke: { type: 'boolean' } },
    summary: 'Assign a staff user to a (confidential) program so they see its beneficiaries’ identity; --revoke removes it',
    modules: [ProgramsModule],
    async run(context, options) {
      const access = context!.get(ProgramAccessService);
      const username = requireOption(options, 'username');
      const program = requireOption(options, 'program');
      if (options.revoke === true) {
        console.log((await access.revoke(username, program)) ? `revoked ${username} on ${program}` : `${username} had no access to ${program}`);
      } else {
        await access.grant(username, program, 'cli');
        console.log(`granted ${username} on ${program}`);
      }
    },
  },
];
