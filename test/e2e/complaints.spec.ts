import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries } from '../support/cycle-fixtures';
import { key, programFromFixture } from '../support/payout-fixtures';

type Staff = Awaited<ReturnType<TestApp['staff']>>;

/** Complaints (quejas) with their business-day deadlines per program (complaints.rules.ts), escalation, answers and commitments. */
describe('complaints', () => {
  let t: TestApp;
  let officer: Staff;
  let auditor: Staff;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-03-01T18:00:00Z') });
    officer = await t.staff('program_officer');
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  const file = (body: Record<string, unknown>, who: Staff = officer, idempotencyKey = key()) =>
    t.http.post('/v1/complaints').set(who.auth).set('Idempotency-Key', idempotencyKey).send({ channel: 'writing', description: 'No llegó el depósito de marzo', ...body });
  const countOf = async (programId: string) => (await t.db.query(`SELECT count(*)::int AS n FROM complaints WHERE program_id = $1`, [programId]))[0].n as number;

  it('P51, P52, X6: a Pensión complaint is due in 10 business days, shows as overdue after, then escalates; every step is in the staff action log', async () => {
    t.clock.set('2016-03-01T18:00:00Z');
    const program = await programFromFixture(t, 'PENSION-AM');
    const created = await file({ programId: program.id, subject: 'card_balance' }).expect(201);
    expect(created.body).toMatchObject({ status: 'open', dueOn: '2016-03-15', deadlineRule: 'P52', folio: expect.stringMatching(/^Q-2016-\d{6}$/) });
    // P51: Pensión's subjects are its own three (and other).
    expect((await file({ programId: program.id, subject: 'payment' }).expect(400)).body.code).toBe('validation_failed');
    await file({ programId: program.id, subject: 'wrongful_baja', channel: 'fax' }).expect(400);

    // Not escalable while the unit is within its deadline.
    const early = await t.http.post(`/v1/complaints/${created.body.id}/escalate`).set(officer.auth).send({ to: 'locatel' }).expect(409);
    expect(early.body.code).toBe('complaint_not_escalable');

    t.clock.set('2016-03-15T23:00:00Z');
    expect((await t.http.get(`/v1/complaints?programId=${program.id}&status=overdue`).set(auditor.auth).expect(200)).body.data).toEqual([]);
    t.clock.set('2016-03-17T18:00:00Z');
    const overdue = await t.http.get(`/v1/complaints?programId=${program.id}&status=overdue`).set(auditor.auth).expect(200);
    expect(overdue.body.data.map((c: { id: string; overdue: boolean }) => [c.id, c.overdue])).toEqual([[created.body.id, true]]);
    // The program's time zone comes with each complaint: the console shows when it was registered in it.
    expect(overdue.body.data[0]).toMatchObject({ timeZone: 'America/Mexico_City', createdAt: '2016-03-01T18:00:00.000Z' });
    const report = await t.http.get(`/v1/complaints/report?programId=${program.id}`).set(auditor.auth).expect(200);
    expect(report.body.overdue).toEqual([expect.objectContaining({ folio: created.body.folio, dueOn: '2016-03-15', businessDaysLate: 2 })]);
    expect(report.body).toMatchObject({ overdueTotal: 1, overdueNextCursor: null, openCommitmentsTotal: 0 });
    // The complete list, keyset-paged with its total (no silent cut-off; test/e2e/list-paging.spec.ts pages 2,000).
    const all = await t.http.get(`/v1/complaints/report/overdue?programId=${program.id}&limit=1`).set(auditor.auth).expect(200);
    expect(all.body).toEqual({ asOf: '2016-03-17', total: 1, data: report.body.overdue, nextCursor: null });
    expect(report.body.byArea).toEqual([{ area: 'Instituto para la Atención de los Adultos Mayores', total: 1, open: 1, overdue: 1, escalated: 0, share: '100.00' }]);

    await t.http.post(`/v1/complaints/${created.body.id}/escalate`).set(officer.auth).send({ to: 'ministerio' }).expect(400);
    const escalated = await t.http.post(`/v1/complaints/${created.body.id}/escalate`).set(officer.auth).send({ to: 'procuraduria_social' }).expect(200);
    expect(escalated.body).toMatchObject({ status: 'escalated', escalatedTo: 'procuraduria_social', escalatedOn: '2016-03-17', overdue: false });
    expect((await t.http.get(`/v1/complaints?programId=${program.id}&status=escalated`).set(auditor.auth).expect(200)).body.data).toHaveLength(1);

    const events = await t.http.get(`/v1/audit/events?actor=${officer.username}&action=POST /v1/complaints`).set(auditor.auth).expect(200);
    const actions = events.body.data.map((e: { action: string; status: number }) => `${e.action} ${e.status}`);
    expect(actions).toEqual(expect.arrayContaining(['POST /v1/complaints 201', 'POST /v1/complaints/:id/escalate 200', 'POST /v1/complaints/:id/escalate 409']));
  });

  it('S13, P53: Seguro VF steps 5/3/5/5; a confidential beneficiary stays confidential; the answer and its commitments; auditors cannot change anything', async () => {
    t.clock.set('2016-03-01T18:00:00Z');
    const program = await programFromFixture(t, 'SEGURO-VF');
    const [woman] = await addBeneficiaries(t.db, program.id, 1, { instrument: 'none' });
    const body = { programId: program.id, subject: 'payment', beneficiaryId: woman.beneficiaryId, area: 'Dirección General de Igualdad y Diversidad Social' };
    await file(body).expect(403);
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const created = await file(body).expect(201);
    expect(created.body.steps.map((s: { step: string; dueOn: string }) => [s.step, s.dueOn])).toEqual([
      ['appearance', '2016-03-08'],
      ['report', '2016-03-11'],
      ['resolution', '2016-03-18'],
      ['notification', '2016-03-28'],
    ]);
    expect(created.body).toMatchObject({ dueOn: '2016-03-28', deadlineRule: 'S13' });

    const stranger = await t.staff('program_officer');
    const hidden = await t.http.get(`/v1/complaints/${created.body.id}`).set(stranger.auth).expect(200);
    expect(hidden.body).toMatchObject({ beneficiaryId: null, description: null, identityWithheld: true });
    await t.http.post(`/v1/complaints/${created.body.id}/answer`).set(stranger.auth).send({ answer: 'x', outcome: 'confirm' }).expect(403);
    const seen = await t.http.get(`/v1/complaints/${created.body.id}`).set(officer.auth).expect(200);
    expect(seen.body).toMatchObject({ beneficiaryId: woman.beneficiaryId, identityWithheld: false });

    await t.http.post(`/v1/complaints/${created.body.id}/answer`).set(auditor.auth).send({ answer: 'x', outcome: 'confirm' }).expect(403);
    await t.http.post(`/v1/complaints/${created.body.id}/answer`).set(officer.auth).send({ answer: 'x', outcome: 'maybe' }).expect(400);

    t.clock.set('2016-03-10T18:00:00Z');
    // Many answers at once: exactly one lands.
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.http.post(`/v1/complaints/${created.body.id}/answer`).set(officer.auth).send({
          answer: 'Se repone el depósito de marzo.',
          outcome: 'remedy',
          commitments: [{ description: 'Depositar marzo', dueOn: '2016-03-20' }],
        }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const answered = answers.find((r) => r.status === 200)!.body;
    expect(answered).toMatchObject({ status: 'answered', outcome: 'remedy', answeredOn: '2016-03-10', commitments: [{ commitmentNo: 1, description: 'Depositar marzo', dueOn: '2016-03-20', fulfilledOn: null }] });

    const open = await t.http.get(`/v1/complaints/report?programId=${program.id}`).set(auditor.auth).expect(200);
    expect(open.body.openCommitments).toEqual([{ folio: created.body.folio, commitmentNo: 1, description: 'Depositar marzo', dueOn: '2016-03-20', overdue: false }]);
    expect(open.body.openCommitmentsTotal).toBe(1);
    expect((await t.http.get(`/v1/complaints/report/open-commitments?programId=${program.id}`).set(auditor.auth).expect(200)).body).toMatchObject({ total: 1, data: open.body.openCommitments, nextCursor: null });
    await t.http.post(`/v1/complaints/${created.body.id}/commitments/1/fulfil`).set(officer.auth).expect(200);
    await t.http.post(`/v1/complaints/${created.body.id}/commitments/1/fulfil`).set(officer.auth).expect(409);
    await t.http.post(`/v1/complaints/${created.body.id}/commitments/2/fulfil`).set(officer.auth).expect(404);
    expect((await t.http.get(`/v1/complaints/report?programId=${program.id}`).set(auditor.auth).expect(200)).body.openCommitments).toEqual([]);
  });

  it('folios stay unique under parallel intake', async () => {
    t.clock.set('2016-04-01T18:00:00Z');
    const program = await programFromFixture(t, 'UNIFORMES');
    const res = await Promise.all(Array.from({ length: 12 }, () => file({ programId: program.id, subject: 'service', channel: 'mailbox' })));
    expect(res.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(res.map((r) => r.body.folio)).size).toBe(12);
    // Uniformes' seed gives no deadline: the documented default of ten business days.
    expect(res[0].body).toMatchObject({ deadlineRule: 'default', dueOn: '2016-04-15' });
  });

  it('intake honours an Idempotency-Key when sent (none required): a retry answers the first complaint again; 50 concurrent retries make one complaint', async () => {
    t.clock.set('2016-05-02T18:00:00Z');
    const program = await programFromFixture(t, 'PENSION-AM');
    const body = { programId: program.id, subject: 'card_balance' };
    // The contract names no key for an intake (API.md): without one, each request files its own complaint.
    const plain = () => t.http.post('/v1/complaints').set(officer.auth).send({ channel: 'writing', description: 'x', ...body }).expect(201);
    expect((await plain()).body.id).not.toBe((await plain()).body.id);
    await t.db.query(`DELETE FROM complaints WHERE program_id = $1`, [program.id]);

    const k = key();
    const first = await file(body, officer, k).expect(201);
    const retry = await file(body, officer, k).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await file({ ...body, subject: 'wrongful_baja' }, officer, k).expect(422)).body.code).toBe('idempotency_key_reused');
    expect(await countOf(program.id)).toBe(1);

    const burstKey = key();
    const burst = await Promise.all(Array.from({ length: 50 }, () => file(body, officer, burstKey)));
    expect(burst.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'request_in_progress'))).toBe(true);
    expect(new Set(burst.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    expect(await countOf(program.id)).toBe(2);

    // The key's record lost (its lease taken over after a crash between the insert and the
    // record's completion): the complaint's own unique intake key still answers the same complaint.
    const lostKey = key();
    const original = await file(body, officer, lostKey).expect(201);
    await t.db.query(`DELETE FROM idempotency_keys WHERE key = $1`, [lostKey]);
    const again = await file(body, officer, lostKey).expect(201);
    expect(again.body).toEqual(original.body);
    expect(await countOf(program.id)).toBe(3);
  });
});
