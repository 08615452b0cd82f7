import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSqlSources, repositoryRoot, SqlSource } from './sql-source';

/**
 * `npm run sql:freeze -- --name <kebab-name> [--all | src/<module>/sql/<file>.sql …]`
 *
 * Writes migrations/<timestamp>-<name>.ts carrying frozen copies of the given SQL source files
 * (with --all, every function, view and trigger file; a type file only when named, since
 * CREATE TYPE cannot be repeated), applied in dependency order, and appends it to
 * migrations/index.ts.
 * The migration never reads src/ at run time, so later edits to a source file never change what
 * an old migration applies: change the file, then freeze a new migration. Statements that the
 * sources cannot express (DROP FUNCTION of a changed signature, new tables) go in the generated
 * `before` list by hand, before the migration is first committed.
 */
function main(): void {
  const { values, positionals } = parseArgs({
    options: { name: { type: 'string' }, all: { type: 'boolean', default: false }, timestamp: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.name || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(values.name)) fail('--name <kebab-case-name> is required');
  const root = repositoryRoot();
  const sources = readSqlSources(root);
  const named = positionals.map((p) => sources.find((s) => s.path === p) ?? fail(`not an SQL source file: ${p}`));
  const wanted = values.all ? sources.filter((s) => s.kind !== 'type' || named.includes(s)) : sources.filter((s) => named.includes(s));
  if (!wanted.length) fail('name the source files to freeze, or --all');
  const timestamp = values.timestamp ?? String(Date.now());
  if (!/^\d{13}$/.test(timestamp)) fail('--timestamp is 13 digits (milliseconds)');
  const className = values.name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('') + timestamp;
  const file = `${timestamp}-${values.name}`;
  writeFileSync(join(root, 'migrations', `${file}.ts`), migrationText(className, wanted));
  const indexPath = join(root, 'migrations', 'index.ts');
  const index = readFileSync(indexPath, 'utf8')
    .replace(/\n\n\/\*\*/, `\nimport { ${className} } from './${file}';\n\n/**`)
    .replace(/\n\];\s*$/, `\n  ${className},\n];\n`);
  writeFileSync(indexPath, index);
  process.stdout.write(`migrations/${file}.ts: ${wanted.length} frozen source file(s)\n`);
}

function migrationText(className: string, files: SqlSource[]): string {
  for (const f of files) if (/`|\$\{/.test(f.text)) fail(`${f.path} contains a backtick or \${, which a frozen copy cannot hold`);
  const frozen = files.map((f) => `  // ${f.path}\n  String.raw\`${f.text.trimEnd()}\`,`).join('\n');
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen copies of SQL source files (written by \`npm run sql:freeze\`; docs/architecture.md
 * "SQL is source"). Never edited once committed: change the source file and freeze a new migration.
 */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...before, ...frozen]) await q.query(sql);
  }

  async down(): Promise<void> {
    throw new Error('${className} is not reverted: roll forward with a new migration');
  }
}

/** Statements the sources cannot express, run first (none). */
const before: string[] = [];

const frozen: string[] = [
${frozen}
];
`;
}

function fail(message: string): never {
  process.stderr.write(`sql:freeze: ${message}\n`);
  process.exit(2);
}

main();
