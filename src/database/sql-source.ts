import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * SQL as source code (docs/architecture.md "SQL is source"): every PL/pgSQL function, trigger
 * and view lives once, current, in `src/<module>/sql/<name>.sql`, written with CREATE OR REPLACE
 * so it can be applied again. Migrations carry frozen copies (scripts/freeze-sql.js writes them);
 * test/integration/sql-source.spec.ts fails when a migrated database differs from these files.
 *
 * File names say what a file defines: `<function>.sql`, `<view>.sql`, `<table>.triggers.sql`
 * (every trigger of one table), or `<type>.type.sql` (a composite type, plain CREATE TYPE: a
 * migration freezes it only when it creates or changes it).
 */
export interface SqlSource {
  /** Path relative to the repository root, e.g. src/ledger/sql/ledger_post.sql. */
  path: string;
  module: string;
  kind: 'type' | 'function' | 'view' | 'triggers';
  text: string;
  /** Functions and views it defines; for a triggers file, `table.trigger` names. */
  defines: string[];
}

/** The repository root (this file is src/database/sql-source.ts, or dist/src/database/sql-source.js). */
export function repositoryRoot(): string {
  const up = __dirname.includes(`${join('dist', 'src')}`) ? '../../..' : '../..';
  return join(__dirname, up);
}

/** Modules in the order their SQL is applied: the ledger first, since others call it. */
const MODULE_ORDER = ['ledger', 'audit', 'merchants', 'disbursements', 'treasury'];

export function readSqlSources(root = repositoryRoot()): SqlSource[] {
  const src = join(root, 'src');
  const out: SqlSource[] = [];
  for (const module of readdirSync(src, { withFileTypes: true })) {
    if (!module.isDirectory()) continue;
    const dir = join(src, module.name, 'sql');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
    } catch {
      continue;
    }
    for (const file of files) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const kind = file.endsWith('.triggers.sql')
        ? 'triggers'
        : file.endsWith('.type.sql')
          ? 'type'
          : /^\s*(--[^\n]*\n\s*)*CREATE OR REPLACE VIEW/i.test(text)
            ? 'view'
            : 'function';
      out.push({ path: relative(root, path), module: module.name, kind, text, defines: definedObjects(text) });
    }
  }
  const rank = (s: SqlSource) => (MODULE_ORDER.includes(s.module) ? MODULE_ORDER.indexOf(s.module) : MODULE_ORDER.length);
  const kindRank = { type: 0, function: 1, view: 2, triggers: 3 } as const;
  // Types before functions (which use them) before views (which may call one) before triggers.
  return out.sort((a, b) => kindRank[a.kind] - kindRank[b.kind] || rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** Names a file defines: `CREATE OR REPLACE FUNCTION f(`, `… VIEW v`, `… TRIGGER t … ON table`, `CREATE TYPE t`. */
export function definedObjects(text: string): string[] {
  const names: string[] = [];
  const code = text.replace(/--[^\n]*/g, '');
  for (const m of code.matchAll(/CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(?:public\.)?(\w+)\s*\(/gi)) names.push(m[1]);
  for (const m of code.matchAll(/CREATE\s+TYPE\s+(?:public\.)?(\w+)/gi)) names.push(m[1]);
  for (const m of code.matchAll(/CREATE\s+OR\s+REPLACE\s+VIEW\s+(?:public\.)?(\w+)/gi)) names.push(m[1]);
  for (const m of code.matchAll(/CREATE\s+OR\s+REPLACE\s+TRIGGER\s+(\w+)[\s\S]*?\bON\s+(?:public\.)?(\w+)/gi)) names.push(`${m[2]}.${m[1]}`);
  return names;
}
