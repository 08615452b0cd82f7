import { Client } from 'pg';
import { readSqlSources } from '../../src/database/sql-source';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';

/**
 * SQL is source (docs/architecture.md): what a freshly migrated database runs is exactly what
 * src/<module>/sql/*.sql says, object for object.
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

  it('defines every function, view and trigger of a migrated database exactly once', async () => {
    const inDatabase = [...(await definitions()).keys()].sort();
    const inSources = sources
      .flatMap((s) => s.defines.map((d) => (s.kind === 'triggers' ? `trigger ${d}` : `${s.kind === 'view' ? 'view' : 'function'} ${d}`)))
      .sort();
    expect(new Set(inSources).size).toBe(inSources.length);
    expect(inSources).toEqual(inDatabase);
  });

  it('names each file after what it defines, in the module that owns it', () => {
    for (const s of sources) {
      const base = s.path.split('/').pop()!.replace(/\.sql$/, '');
      if (s.kind === 'triggers') expect(s.defines.every((d) => d.startsWith(`${base.replace(/\.triggers$/, '')}.`))).toBe(true);
      else expect(s.defines).toEqual([base]);
    }
  });

  it('matches the migrated database: applying the source files again changes no definition', async () => {
    const migrated = await definitions();
    await db.query('BEGIN');
    try {
      for (const s of sources) {
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
