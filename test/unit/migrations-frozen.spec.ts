import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A migration that has landed is never edited again, not even to fold or tidy (a database
 * migrated in between would keep what the old text applied): migrations/frozen.sha256 holds the
 * checksum of every migration file, in `sha256sum` format. A new migration adds its line
 * (`cd migrations && sha256sum <file>.ts >> frozen.sha256`); an edited one fails here.
 */
describe('landed migrations are frozen', () => {
  const dir = join(__dirname, '../../migrations');
  const listed = new Map(
    readFileSync(join(dir, 'frozen.sha256'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, file] = line.split(/\s+\*?/);
        return [file, sha] as const;
      }),
  );
  const files = readdirSync(dir).filter((f) => /^\d{13}-.+\.ts$/.test(f));

  it('every migration file has a checksum line, and no line names a file that is gone', () => {
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
    expect([...listed.keys()].filter((f) => !files.includes(f))).toEqual([]);
  });

  it('no migration file differs from its recorded checksum', () => {
    const edited = files.filter((f) => listed.has(f) && createHash('sha256').update(readFileSync(join(dir, f))).digest('hex') !== listed.get(f));
    expect(edited).toEqual([]);
  });
});
