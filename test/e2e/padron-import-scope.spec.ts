import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { PadronImportService } from '../../src/beneficiaries/padron-import.service';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { createTestApp, TestApp } from '../support/app';

/**
 * Issue 22 item 5: `padron:import --issue-instruments` (PadronImportService with issueInstruments,
 * which the CLI command calls) issues and delivers, with the importer's PIN, only to the people the
 * file imported: never to other beneficiaries of the program without a card.
 */
const pension = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;
let homoclave = 0;
const curpFor = (birthDate: string) => buildCurp({ givenNames: 'Luis', firstSurname: 'Gómez', secondSurname: 'Ruiz', birthDate, sex: 'H', state: 'DF', homoclave: String(homoclave++ % 10) });

describe('padrón import with --issue-instruments touches only the rows of its file (issue 22 item 5)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-06-15T17:00:00Z') });
  });
  afterAll(() => t.close());

  it('people enrolled earlier through the API, and rows refused from the file, get no card', async () => {
    const admin = (await t.staff('admin')).auth;
    const officer = (await t.staff('program_officer')).auth;
    const code = `PENSION-S${randomUUID().slice(0, 6).toUpperCase().replace(/[^A-Z0-9]/g, 'X')}`;
    const program = (await t.http.post('/v1/programs').set(admin).send({ code, name: pension.name, fiscalYear: 2016, instrumentType: 'card', rules: pension.rules }).expect(201)).body;
    const earlier: string[] = [];
    for (const birthDate of ['1940-01-01', '1941-01-01']) {
      const res = await t.http
        .post(`/v1/programs/${program.id}/beneficiaries`)
        .set(officer)
        .send({ curp: curpFor(birthDate), givenNames: 'Ya', surnames: 'Inscrita', birthDate, address: { state: 'DF' }, applicationDate: '2016-03-01', attributes: { residenceSince: '1990-01-01' } })
        .expect(201);
      earlier.push(res.body.id);
    }
    const dir = mkdtempSync(join(tmpdir(), 'padron-scope-'));
    const file = join(dir, 'padron.csv');
    writeFileSync(
      file,
      [
        'curp,given_names,surnames,birth_date,state,application_date,residence_since',
        `${curpFor('1942-02-02')},Ana,Ruiz,1942-02-02,DF,2016-03-01,1990-01-01`,
        `${curpFor('1943-03-03')},Eva,Paz,1943-03-03,DF,2016-03-01,1990-01-01`,
        `${curpFor('1990-01-01')},Joven,Paz,1990-01-01,DF,2016-03-01,1990-01-01`, // too young: refused
      ].join('\n') + '\n',
    );
    const numbers: string[] = [];
    const report = await t.app.get(PadronImportService).importFile(program.id, file, {
      actor: 'cli:padron:import',
      issueInstruments: { pin: '2468', onNumbers: (rows) => void numbers.push(...rows.map((r) => r.number)) },
    });
    expect(report).toMatchObject({ imported: 2, rejected: 1, instrumentsIssued: 2 });
    expect(numbers).toHaveLength(2);

    const cards = await t.db.query(
      `SELECT b.id, b.import_id AS "importId", i.status FROM beneficiaries b LEFT JOIN instruments i ON i.beneficiary_id = b.id WHERE b.program_id = $1`,
      [program.id],
    );
    const fromFile = cards.filter((c: { importId: string | null }) => c.importId === report.importId);
    expect(fromFile).toHaveLength(2);
    expect(fromFile.every((c: { status: string }) => c.status === 'active')).toBe(true);
    const others = cards.filter((c: { id: string }) => earlier.includes(c.id));
    expect(others).toHaveLength(earlier.length);
    expect(others.map((c: { status: string | null }) => c.status)).toEqual([null, null]);
  });
});
