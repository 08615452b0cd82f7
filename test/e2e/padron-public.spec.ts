import { parse } from 'csv-parse/sync';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries } from '../support/cycle-fixtures';
import { programFromFixture } from '../support/payout-fixtures';

/** The public padrón (X2, U18, P47–P48) streamed page by page: every row once, in folio order, nothing reserved. */
describe('public padrón export', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-09-01T18:00:00Z') });
  });
  afterAll(() => t.close());

  it('X2, U18: 12,001 pupils stream over several pages as CSV and JSON, each once, without CURP, birth date or address', async () => {
    const program = await programFromFixture(t, 'UNIFORMES');
    await addBeneficiaries(t.db, program.id, 12_001, { instrument: 'none', incorporatedOn: '2016-08-01' });
    const folios: string[] = (await t.db.query(`SELECT folio FROM beneficiaries WHERE program_id = $1 ORDER BY folio`, [program.id])).map((r: { folio: string }) => r.folio);

    const csv = await t.http.get(`/v1/programs/${program.id}/padron.csv`).expect(200);
    expect(csv.headers['transfer-encoding']).toBe('chunked');
    const rows: string[][] = parse(csv.text);
    expect(rows[0]).toEqual(['folio', 'given_names', 'surnames', 'sex', 'municipality', 'state', 'status', 'incorporated_on']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(folios);
    expect(csv.text).not.toMatch(/1940-01-01|[A-Z0-9]{16}X\d/);

    const json = await t.http.get(`/v1/programs/${program.id}/padron.json`).expect(200);
    const list: Array<Record<string, string>> = JSON.parse(json.text);
    expect(list.map((r) => r.folio)).toEqual(folios);
    expect(list[0]).toEqual({ folio: folios[0], givenNames: 'Nombre', surnames: 'Apellido', sex: expect.any(String), municipality: '', state: 'DF', status: 'active', incorporatedOn: '2016-08-01' });

    const empty = await programFromFixture(t, 'UTILES');
    expect((await t.http.get(`/v1/programs/${empty.id}/padron.json`).expect(200)).body).toEqual([]);
    expect((await t.http.get(`/v1/programs/${empty.id}/padron.csv`).expect(200)).text).toBe('folio,given_names,surnames,sex,municipality,state,status,incorporated_on\r\n');
  });

  it('X2: a confidential program (Seguro VF) is excluded', async () => {
    const program = await programFromFixture(t, 'SEGURO-VF');
    await addBeneficiaries(t.db, program.id, 2, { instrument: 'none' });
    expect((await t.http.get(`/v1/programs/${program.id}/padron.csv`).expect(403)).body.code).toBe('forbidden');
    await t.http.get(`/v1/programs/${program.id}/padron.json`).expect(403);
  });
});
