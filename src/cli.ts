import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { coreCommands } from './cli/core.commands';
import { programCommands } from './programs/programs.commands';
import { padronCommands } from './beneficiaries/padron.commands';
import { merchantCommands } from './merchants/merchants.commands';
import { treasuryCommands } from './treasury/treasury.commands';
import { CliCommand, CliUsageError, parseOptions } from './cli/command';
import { CommonModule } from './common/common.module';
import { ConfigError } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ApiProblem } from './common/problem';
import { LedgerModule } from './ledger/ledger.module';

/** Every command of `npm run cli -- <command> [--option value …]`. */
const COMMANDS: CliCommand[] = [...coreCommands, ...programCommands, ...padronCommands, ...merchantCommands, ...treasuryCommands];

function help(): string {
  return ['Usage: npm run cli -- <command> [options]', '', ...COMMANDS.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.log(help());
    if (name && name !== 'help' && name !== '--help') throw new CliUsageError(`unknown command: ${name}`);
    return;
  }
  const values = parseOptions(rest, command.options);
  if (!command.modules) return command.run(null, values);

  @Module({ imports: [ConfigModule, DatabaseModule, CommonModule, LedgerModule, ...command.modules] })
  class CliModule {}
  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    await command.run(context, values);
  } finally {
    await context.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof CliUsageError || error instanceof ConfigError) console.error(`error: ${error.message}`);
    else if (error instanceof ApiProblem) console.error(`error: ${error.code}: ${error.detail}`);
    else console.error(error);
    process.exit(error instanceof CliUsageError ? 2 : 1);
  },
);
