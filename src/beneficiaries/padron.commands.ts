import { SingleBar, Presets } from 'cli-progress';
import { createReadStream, createWriteStream, WriteStream } from 'node:fs';
import { once } from 'node:events';
import { CliCommand, CliOptions, CliUsageError, requireOption } from '../cli/command';
import type { INestApplicationContext } from '@nestjs/common';
import { businessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { ApiProblem } from '../common/problem';
import { InstrumentsService } from '../instruments/instruments.service';
import { ProgramsService } from '../programs/programs.service';
import { BeneficiariesModule } from './beneficiaries.module';
import { writePadronFile } from './padron-generator';
import { ImportProgress, PadronImportService } from './padron-import.service';
import { csvText } from '../common/csv';

async function programByCode(context: INestApplicationContext, code: string) {
  const program = await context.get(ProgramsService).findByCode(code);
  if (!program) throw new ApiProblem(404, 'not_found', `program ${code} not found (run programs:load first?)`);
  return program;
}

/** Counts lines fast (newline bytes), for the progress bar's total. */
async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

function pinOption(options: CliOptions): string | undefined {
  const pin = options.pin;
  if (pin === undefined) return undefined;
  if (typeof pin !== 'string' || !/^\d{4,6}$/.test(pin)) throw new CliUsageError('--pin must be 4 to 6 digits');
  return pin;
}

/** Clear instrument numbers go only to an explicitly requested file, created readable by its owner alone. */
function numbersWriter(path: string | undefined) {
  if (!path) return { write: undefined, close: async () => {} };
  const out: WriteStream = createWriteStream(path, { mode: 0o600 });
  out.write('instrument_id,folio,number\n');
  return {
    write: async (rows: Array<{ instrumentId: string; folio: string; number: string }>) => {
      if (!out.write(rows.map((r) => `${r.instrumentId},${r.folio},${r.number}`).join('\n') + '\n')) await once(out, 'drain');
    },
    close: async () => {
      out.end();
      await once(out, 'finish');
    },
  };
}

function progressBar() {
  const bar = new SingleBar(
    { format: ' {phase} |{bar}| {percentage}% | {value}/{total} | {duration_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    Presets.shades_classic,
  );
  let phase = '';
  return {
    update(p: ImportProgress) {
      const label = { validate: 'validate + COPY', insert: 'insert        ', instruments: 'instruments   ' }[p.phase];
      if (phase !== p.phase) {
        if (phase) bar.stop();
        phase = p.phase;
        bar.start(p.total, p.done, { phase: label });
      } else {
        bar.setTotal(Math.max(p.total, p.done));
        bar.update(p.done, { phase: label });
      }
    },
    stop: () => phase && bar.stop(),
  };
}

export const padronCommands: CliCommand[] = [
  {
    name: 'padron:import',
    usage: 'padron:import --program CODE --file F.csv [--errors F.errors.csv] [--issue-instruments [--pin 1234] [--numbers-out F]]',
    options: { program: { type: 'string' }, file: { type: 'string' }, errors: { type: 'string' }, 'issue-instruments': { type: 'boolean' }, pin: { type: 'string' }, 'numbers-out': { type: 'string' } },
    summary: 'Bulk-import a padrón CSV (COPY, set-based); bad lines go to the errors file with line number and reason',
    modules: [BeneficiariesModule],
    async run(context, options) {
      const program = await programByCode(context!, requireOption(options, 'program'));
      const file = requireOption(options, 'file');
      const pin = pinOption(options);
      if ((pin || options['numbers-out']) && options['issue-instruments'] !== true) throw new CliUsageError('--pin and --numbers-out need --issue-instruments');
      const errorsPath = typeof options.errors === 'string' ? options.errors : `${file}.errors.csv`;
      const errors = createWriteStream(errorsPath);
      errors.write(csvText([['line', 'reason']]));
      const numbers = numbersWriter(typeof options['numbers-out'] === 'string' ? options['numbers-out'] : undefined);
      const bar = progressBar();
      const totalLines = Math.max(0, (await countLines(file)) - 1);
      const report = await context!
        .get(PadronImportService)
        .importFile(program.id, file, {
          actor: 'cli:padron:import',
          totalLines,
          onProgress: (p) => bar.update(p),
          onRejected: (r) => errors.write(csvText([[r.line, r.reason]])),
          issueInstruments: options['issue-instruments'] === true ? { pin, onNumbers: numbers.write } : undefined,
        })
        .finally(() => bar.stop());
      errors.end();
      await once(errors, 'finish');
      await numbers.close();
      for (const r of report.rejections.slice(0, 10)) console.error(`line ${r.line}: ${r.reason}`);
      if (report.rejected > 10) console.error(`… ${report.rejected - 10} more in ${errorsPath}`);
      const { rejections, ...summary } = report;
      console.log(JSON.stringify({ program: program.code, ...summary, errorsFile: report.rejected ? errorsPath : null }, null, 2));
    },
  },
  {
    name: 'padron:generate',
    usage: 'padron:generate --rows N --out F.csv [--program CODE] [--seed N] [--application-date YYYY-MM-DD] [--invalid-rate 0.01]',
    options: { rows: { type: 'string' }, out: { type: 'string' }, program: { type: 'string' }, seed: { type: 'string' }, 'application-date': { type: 'string' }, 'invalid-rate': { type: 'string' } },
    summary: 'Write a synthetic padrón CSV with valid CURPs (eligible for --program’s rules when given)',
    modules: [BeneficiariesModule],
    async run(context, options) {
      const rows = Number(requireOption(options, 'rows'));
      if (!Number.isInteger(rows) || rows < 1 || rows > 10_000_000) throw new CliUsageError('--rows must be an integer from 1 to 10,000,000');
      const out = requireOption(options, 'out');
      const program = typeof options.program === 'string' ? await programByCode(context!, options.program) : null;
      const today = businessDate(context!.get(Clock).now(), 'America/Mexico_City');
      const fiscalStart = program ? `${program.fiscalYear}-01-15` : today;
      const applicationDate = typeof options['application-date'] === 'string' ? options['application-date'] : fiscalStart < today ? fiscalStart : today;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(applicationDate)) throw new CliUsageError('--application-date must be YYYY-MM-DD');
      const invalidRate = options['invalid-rate'] === undefined ? 0 : Number(options['invalid-rate']);
      if (!(invalidRate >= 0 && invalidRate <= 1)) throw new CliUsageError('--invalid-rate must be between 0 and 1');
      const bar = new SingleBar({ format: ' generate |{bar}| {percentage}% | {value}/{total}', stream: process.stderr }, Presets.shades_classic);
      bar.start(rows, 0);
      const written = await writePadronFile(
        out,
        { rows, seed: options.seed === undefined ? 1 : Number(options.seed), rules: program?.rules, applicationDate, invalidRate },
        (n) => bar.update(n),
      );
      bar.stop();
      console.log(JSON.stringify({ out, rows: written, program: program?.code ?? null, applicationDate }));
    },
  },
  {
    name: 'instruments:issue-bulk',
    usage: 'instruments:issue-bulk --program CODE [--pin 1234] [--numbers-out F.csv]',
    options: { program: { type: 'string' }, pin: { type: 'string' }, 'numbers-out': { type: 'string' } },
    summary: 'Issue (and with --pin deliver) an instrument to every active beneficiary without one, set-based',
    modules: [BeneficiariesModule],
    async run(context, options) {
      const program = await programByCode(context!, requireOption(options, 'program'));
      const pin = pinOption(options);
      const numbers = numbersWriter(typeof options['numbers-out'] === 'string' ? options['numbers-out'] : undefined);
      const bar = progressBar();
      const started = Date.now();
      const result = await context!
        .get(InstrumentsService)
        .issueBulk(program.id, { pin, actor: 'cli:instruments:issue-bulk', onNumbers: numbers.write, onProgress: (done, total) => bar.update({ phase: 'instruments', done, total }) })
        .finally(() => bar.stop());
      await numbers.close();
      console.log(JSON.stringify({ program: program.code, ...result, seconds: (Date.now() - started) / 1000 }));
    },
  },
];
