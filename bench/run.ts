import 'reflect-metadata';
import { benchEnvironment } from './support';

/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts, whose `run(args)` returns the figures;
 * they are printed as JSON on stdout (progress, if any, goes to stderr). Never run in CI.
 */
async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
    console.error('usage: npm run bench -- <name> [args…]   (name = a file in bench/, e.g. ledger)');
    process.exit(2);
  }
  let bench: { run(args: string[]): Promise<Record<string, unknown>> };
  try {
    bench = require(`./${name}`);
  } catch (error) {
    console.error(`no benchmark named ${name}: ${(error as Error).message}`);
    process.exit(2);
  }
  const result = await bench.run(args);
  console.log(JSON.stringify({ bench: name, at: new Date().toISOString(), ...benchEnvironment(), ...result }, null, 2));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
