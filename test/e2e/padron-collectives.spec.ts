process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:collectives`;

import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramsService } from '../../src/programs/programs.service';
import { createTestApp, TestApp } from '../support/app';
import { enrolCollective, loadGrantProgram, randomMember, randomRfc, Staff } from '../support/grant-fixtures';

/** Collective grantees (API.md "Grants", review M14): identified by RFC, with their members' CURPs. */
describe('padrón: collective grantees', () => {
  let t: TestApp;
  let officer: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-03-01T18:00:00Z') });
    officer = await t.staff('program_officer');
  });
  afterAll(() => t.close());

  const enrol = (programId: string, body: Record<string, unknown>) =>
    t.http.post(`/v1/programs/${programId}/beneficiaries`).set(officer.auth).send({ address: { state: 'DF' }, ...body });

  it('M14: refuses a bad RFC, a bad member CURP (naming its position, not the CURP), person fields, and collectives outside grant programs', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS');
    const members = [randomMember(), randomMember()];
    const rfc = randomRfc();
    const badRfc = await enrol(program.id, { kind: 'cooperative', legalName: 'X', rfc: `${rfc.slice(0, 11)}${rfc[11] === '1' ? '2' : '1'}`, members });
    expect([badRfc.status, badRfc.body.code]).toEqual([400, 'invalid_rfc']);
    const noRfc = await enrol(program.id, { kind: 'firm', legalName: 'X', members });
    expect([noRfc.status, noRfc.body.code]).toEqual([400, 'validation_failed']);
    const badMember = await enrol(program.id, { kind: 'cooperative', legalName: 'X', rfc, members: [members[0], { ...members[1], curp: `${members[1].curp.slice(0, 17)}${(Number(members[1].curp[17]) + 1) % 10}` }] });
    expect(badMember.body).toMatchObject({ code: 'invalid_curp', member: 2 });
    expect(JSON.stringify(badMember.body)).not.toContain(members[1].curp.slice(0, 17));
    const twice = await enrol(program.id, { kind: 'cooperative', legalName: 'X', rfc, members: [members[0], members[0]] });
    expect([twice.status, twice.body.code]).toEqual([400, 'validation_failed']);
    const mixed = await enrol(program.id, { kind: 'cooperative', legalName: 'X', rfc, members, curp: members[0].curp });
    expect([mixed.status, mixed.body.code]).toEqual([400, 'validation_failed']);

    const pension = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;
    const cardProgram = await t.app.get(ProgramsService).create({ code: `PENSION-T${Date.now()}-2016`, name: 'p', fiscalYear: 2016, instrumentType: 'card', rules: pension.rules }, 'test');
    const notGrant = await enrol(cardProgram.id, { kind: 'cooperative', legalName: 'X', rfc, members });
    expect([notGrant.status, notGrant.body.code]).toEqual([422, 'collective_not_allowed']);
  });

  it('M14: one active record per RFC; a group constitutes once; the public padrón shows the legal name only', async () => {
    const program = await loadGrantProgram(t, 'COOPERATIVAS');
    const coop = await enrolCollective(t, officer, program.id, { kind: 'cooperative', members: 5 });
    const dup = await enrol(program.id, { kind: 'civil_organisation', legalName: 'Y', rfc: coop.rfc, members: [randomMember()] });
    expect([dup.status, dup.body.code]).toEqual([409, 'duplicate_beneficiary']);
    const view = (await t.http.get(`/v1/beneficiaries/${coop.id}`).set(officer.auth).expect(200)).body;
    expect(view).toMatchObject({ kind: 'cooperative', rfc: coop.rfc, curp: null, members: coop.members.map((m, i) => ({ position: i + 1, ...m })) });

    const group = await enrolCollective(t, officer, program.id, { kind: 'group', members: 5 });
    const clash = await t.http.post(`/v1/beneficiaries/${group.id}/legal-constitution`).set(officer.auth).send({ kind: 'cooperative', rfc: coop.rfc, constitutedOn: '2016-02-01' });
    expect([clash.status, clash.body.code]).toEqual([409, 'duplicate_beneficiary']);
    await t.http.post(`/v1/beneficiaries/${group.id}/legal-constitution`).set(officer.auth).send({ kind: 'cooperative', rfc: randomRfc(), constitutedOn: '2016-02-01' }).expect(200);
    const twice = await t.http.post(`/v1/beneficiaries/${group.id}/legal-constitution`).set(officer.auth).send({ kind: 'firm', rfc: randomRfc(), constitutedOn: '2016-02-02' });
    expect([twice.status, twice.body.code]).toEqual([409, 'invalid_status_transition']);
    const history = (await t.http.get(`/v1/beneficiaries/${group.id}/history`).set(officer.auth).expect(200)).body.data;
    expect(history.map((h: { cause: string }) => h.cause)).toEqual(['enrolment', 'legal_constitution']);

    const csv = (await t.http.get(`/v1/programs/${program.id}/padron.csv`).expect(200)).text;
    expect(csv).toContain('Sociedad Cooperativa');
    expect(csv).not.toContain(coop.rfc!);
    expect(csv).not.toContain(coop.members[0].curp);
  });
});
