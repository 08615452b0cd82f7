import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';

export type CliOptions = Record<string, string | boolean | undefined>;

/** One `npm run cli -- <name> …` command. `modules` are what its Nest context needs. */
export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  modules?: NonNullable<ModuleMetadata['imports']>;
  run(context: INestApplicationContext | null, options: CliOptions): Promise<void>;
}

export class CliUsageError extends Error {}

export function requireOption(options: CliOptions, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.length === 0) throw new CliUsageError(`--${name} is required`);
  return value;
}

/** `--name value`, `--name=value` or a bare `--flag` (true). */
export function parseOptions(args: string[]): CliOptions {
  const options: CliOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new CliUsageError(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) options[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) options[arg.slice(2)] = args[++i];
    else options[arg.slice(2)] = true;
  }
  return options;
}
