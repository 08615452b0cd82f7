import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { readSqlSources, repositoryRoot } from '../../src/database/sql-source';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';

/**
 * SQL is source (docs/architecture.md): what a freshly migrated database runs is exactly what
 * src/<module>/sql/*.sql says, object for object, and only the ledger writes ledger tables.
 */
describe('SQL source files', () => {
  const sources = readSqlSources();
  let db: Client;

  beforeAll(async () => {
    db = new Client({ connectionString: await isolatedDatabase(siblingTestDatabase('sqlsource')) });
    await db.connect();
  });
  afterAll(async () => db?.end());

  /** Every function, view and trigger of the public schema with its definition as PostgreSQL prints it. */
  async function definitions(): Promise<Map<string, string>> {
    const { rows } = await db.query(`
      SELECT 'function ' || p.proname AS name, pg_get_functiondef(p.oid) AS def
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.prokind = 'f'
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 'view ' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'v'
      UNION ALL
      SELECT 'trigger ' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND NOT t.tgisinternal`);
    return new Map(rows.map((r) => [r.name, r.def]));
  }

  /** Attribute names and types of a composite type (not a table's row type). */
  async function typeShape(name: string): Promise<string[]> {
    const { rows } = await db.query(
      `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS col
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_attribute a ON a.attrelid = t.typrelid
        WHERE n.nspname = 'public' AND t.typname = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [name],
    );
    return rows.map((r) => r.col);
  }

  it('defines every function, view, trigger and composite type of a migrated database exactly once', async () => {
    const { rows: types } = await db.query(
      `SELECT 'type ' || t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
        WHERE n.nspname = 'public' AND t.typtype = 'c' AND c.relkind = 'c'`,
    );
    const inDatabase = [...(await definitions()).keys(), ...types.map((r) => r.name)].sort();
    const inSources = sources.flatMap((s) => s.defines.map((d) => `${s.kind === 'triggers' ? 'trigger' : s.kind} ${d}`)).sort();
    expect(new Set(inSources).size).toBe(inSources.length);
    expect(inSources).toEqual(inDatabase);
  });

  it('names each file after what it defines, in the module that owns it', () => {
    for (const s of sources) {
      const base = s.path.split('/').pop()!.replace(/(\.type)?\.sql$/, '');
      if (s.kind === 'triggers') expect(s.defines.every((d) => d.startsWith(`${base.replace(/\.triggers$/, '')}.`))).toBe(true);
      else expect(s.defines).toEqual([base]);
    }
  });

  it('matches the migrated database: a composite type has the attributes its file gives it', async () => {
    for (const s of sources.filter((x) => x.kind === 'type')) {
      const name = s.defines[0];
      const migrated = await typeShape(name);
      await db.query('BEGIN');
      try {
        await db.query(`ALTER TYPE ${name} RENAME TO ${name}__migrated`);
        await db.query(s.text);
        expect({ [s.path]: await typeShape(name) }).toEqual({ [s.path]: migrated });
      } finally {
        await db.query('ROLLBACK');
      }
    }
  });

  it('matches the migrated database: applying the source files again changes no definition', async () => {
    const migrated = await definitions();
    await db.query('BEGIN');
    try {
      for (const s of sources.filter((x) => x.kind !== 'type')) {
        try {
          await db.query(s.text);
        } catch (error) {
          throw new Error(`${s.path} differs from the migrated database: ${(error as Error).message}`);
        }
      }
      const fromSources = await definitions();
      const differing = [...migrated.keys()].filter((k) => fromSources.get(k) !== migrated.get(k));
      expect(differing).toEqual([]);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
describe('only the ledger writes ledger tables', () => {
  const LEDGER_TABLES = 'journal_entries|postings|ledger_accounts|ledger_account_deltas|ledger_holds';
  const WRITE = new RegExp(`\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM|TRUNCATE(\\s+TABLE)?|COPY)\\s+(ONLY\\s+)?(public\\.)?(${LEDGER_TABLES})\\b`, 'gi');

  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|sql)$/.test(e.name) ? [join(dir, e.name)] : [],
    );
  }

  it('no SQL outside src/ledger/ inserts, updates, deletes or copies into journal_entries, postings, account totals, deltas or holds', () => {
    const root = repositoryRoot();
    const offenders = files(join(root, 'src'))
      .filter((f) => !relative(root, f).startsWith(join('src', 'ledger')))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(WRITE)].map((m) => `${relative(root, f)}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });

  it('the scan finds a write when there is one (the check can fail)', () => {
    expect('UPDATE ledger_accounts SET posted_debits = 1'.match(WRITE)).not.toBeNull();
    expect('insert into postings (entry_id) values (1)'.match(WRITE)).not.toBeNull();
    expect('SELECT * FROM postings'.match(WRITE)).toBeNull();
  });
});
