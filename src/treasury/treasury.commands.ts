import { CliUsageError, requireOption, type CliCommand } from '../cli/command';
import { SWEEP_KINDS, SweepKind } from './treasury.rules';
import { SweepsService } from './sweeps.service';
import { JobsModule } from '../jobs/jobs.module';
import { TreasuryModule } from './treasury.module';

export const treasuryCommands: CliCommand[] = [
  {
    name: 'sweep:run',
    usage: `sweep:run --kind ${SWEEP_KINDS.join('|')} [--date YYYY-MM-DD] [--program <id>]`,
    options: { kind: { type: 'string' }, date: { type: 'string' }, program: { type: 'string' } },
    summary: 'Run a treasury sweep now, as at the end of --date (default: now); idempotent, a re-run posts nothing',
    // JobsModule: the grant recovery ends awards through GrantsService, whose module holds the cycle queues.
    modules: [JobsModule, TreasuryModule],
    async run(context, options) {
      const kind = requireOption(options, 'kind');
      if (!(SWEEP_KINDS as readonly string[]).includes(kind)) throw new CliUsageError(`--kind must be one of ${SWEEP_KINDS.join(', ')}`);
      const date = typeof options.date === 'string' ? options.date : undefined;
      const programId = typeof options.program === 'string' ? options.program : undefined;
      const started = Date.now();
      const result = await context!.get(SweepsService).run(kind as SweepKind, { date, programId });
      console.log(JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000 }, null, 2));
    },
  },
];
