import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { parseArgs } from 'node:util';

export type CliOptions = Record<string, string | boolean | undefined>;

/** The options a command takes: `--name value` (string) or a bare `--flag` (boolean). */
export type CliOptionSpec = Record<string, { type: 'string' | 'boolean' }>;

/** One `npm run cli -- <name> …` command. `modules` are what its Nest context needs. */
export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  options: CliOptionSpec;
  modules?: NonNullable<ModuleMetadata['imports']>;
  run(context: INestApplicationContext | null, options: CliOptions): Promise<void>;
}

export class CliUsageError extends Error {}

export function requireOption(options: CliOptions, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.length === 0) throw new CliUsageError(`--${name} is required`);
  return value;
}

/**
 * `--name value`, `--name=value` or a bare `--flag`, through node:util parseArgs in strict mode:
 * an option the command does not take, a missing value or a stray argument is a usage error
 * (exit status 2), never silently ignored.
 */
export function parseOptions(args: string[], spec: CliOptionSpec): CliOptions {
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: false }).values as CliOptions;
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
}
