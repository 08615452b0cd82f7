// Own BullMQ prefix (under the run's prefix, so global setup clears it).
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:console-lines`;

import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, createProgram, meetObligations, ProgramFixture, waitForCycle } from '../support/cycle-fixtures';
import { approveBatch, draftBatch, key, programFromFixture, runCycle } from '../support/payout-fixtures';

type Staff = Awaited<ReturnType<TestApp['staff']>>;
type Line = { lineNo: number; folio: string; name: string | null; status: string; exceptionReason: string | null };

/**
 * What finance staff look for in a cycle, found on the server: the exceptions of the whole cycle
 * across pages, a folio / CURP / name, every matching line as a Spanish CSV; cancel reasons; the
 * approvals inbox across cycles, remittances and payout batches; reintegro totals.
 */
describe('console: cycle lines filtered and exported on the server, cancel reasons, approvals inbox', () => {
  let t: TestApp;
  let operator: Staff;
  let approver: Staff;
  let auditor: Staff;
  let officer: Staff;
  let program: ProgramFixture;
  let cycleId: string;
  // Line numbers of the cards blocked after the draft: spread over the pages of 50.
  const BLOCKED_LINES = [3, 49, 50, 51, 120, 199, 250];

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    [operator, approver, auditor, officer] = await Promise.all([t.staff('finance_operator'), t.staff('finance_approver'), t.staff('auditor'), t.staff('program_officer')]);
    program = await createProgram(t.db, t.app.get(LedgerService), { rules: 'pension', budget: '1000000.00' });
    await addBeneficiaries(t.db, program.id, 250, { incorporatedOn: '2016-01-10' });
    const draft = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-03', kind: 'deposit' }).expect(201);
    cycleId = draft.body.id;
    await t.db.query(
      `UPDATE instruments SET status = 'blocked' WHERE id IN (SELECT instrument_id FROM cycle_lines WHERE cycle_id = $1 AND line_no = ANY ($2::int[]))`,
      [cycleId, BLOCKED_LINES],
    );
    await t.db.query(
      `UPDATE beneficiaries SET given_names = 'María José', surnames = 'Hernández Ruiz' WHERE id = (SELECT beneficiary_id FROM cycle_lines WHERE cycle_id = $1 AND line_no = 120)`,
      [cycleId],
    );
    await t.http.post(`/v1/cycles/${cycleId}/approve`).set(approver.auth).expect(200);
    await waitForCycle(t.db, cycleId, ['completed_with_exceptions']);
  }, 60000);
  afterAll(() => t?.close());

  const lines = (who: Staff, query: string) => t.http.get(`/v1/cycles/${cycleId}/lines?${query}`).set(who.auth);

  it('status=exception pages through the exceptions of the whole cycle, with their total, never the page already loaded', async () => {
    const seen: Line[] = [];
    let cursor = '';
    for (let guard = 0; guard < 10; guard++) {
      const page = await lines(approver, `status=exception&limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      expect(page.body.total).toBe(7);
      seen.push(...page.body.data);
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(seen.map((l) => l.lineNo)).toEqual(BLOCKED_LINES);
    expect(new Set(seen.map((l) => `${l.status}:${l.exceptionReason}`))).toEqual(new Set(['exception:instrument_blocked']));
    // Other outcomes and all lines: totals from the cycle's own counters.
    const posted = await lines(approver, 'status=posted&limit=500').expect(200);
    expect(posted.body).toMatchObject({ total: 243, nextCursor: null });
    expect(posted.body.data).toHaveLength(243);
    expect((await lines(approver, 'limit=10').expect(200)).body.total).toBe(250);
    expect((await lines(approver, 'status=pending').expect(200)).body).toEqual({ data: [], nextCursor: null, total: 0 });
    // Finance roles see folios, never names.
    expect(seen[0].folio).toMatch(/^T-/);
    expect(seen[0].name).toBeNull();
  });

  it('q finds a line by part of its folio or by exact CURP for finance staff; by name only for those who may read names', async () => {
    const [target] = await t.db.query(
      `SELECT b.folio, b.curp FROM cycle_lines l JOIN beneficiaries b ON b.id = l.beneficiary_id WHERE l.cycle_id = $1 AND l.line_no = 120`,
      [cycleId],
    );
    const byFolio = await lines(operator, `q=${encodeURIComponent(target.folio.slice(-4).toLowerCase())}`).expect(200);
    expect(byFolio.body.data.map((l: Line) => l.folio)).toContain(target.folio);
    expect(byFolio.body.total).toBe(byFolio.body.data.length);
    const byCurp = await lines(operator, `q=${target.curp.toLowerCase()}`).expect(200);
    expect(byCurp.body).toMatchObject({ total: 1, data: [{ lineNo: 120, folio: target.folio, name: null, status: 'exception' }] });
    // A name: the auditor finds it (any word order of the name's words, any case) and sees it; the operator does not search names.
    const byName = await lines(auditor, `q=${encodeURIComponent('hernández maría')}`).expect(200);
    expect(byName.body).toMatchObject({ total: 1, data: [{ lineNo: 120, name: 'María José Hernández Ruiz' }] });
    expect((await lines(operator, `q=${encodeURIComponent('hernández maría')}`).expect(200)).body.total).toBe(0);
    // Combined with the outcome filter, and LIKE wildcards stand for themselves.
    expect((await lines(auditor, `status=posted&q=${encodeURIComponent('maría')}`).expect(200)).body.total).toBe(0);
    expect((await lines(auditor, 'q=%25').expect(200)).body.total).toBe(0);
    for (const bad of ['status=paid', `q=${'x'.repeat(101)}`, 'format=xlsx']) {
      expect((await lines(auditor, bad).expect(400)).body.code).toBe('validation_failed');
    }
    await t.http.get(`/v1/cycles/${cycleId}/lines`).set(officer.auth).expect(403);
  });

  it('format=csv streams every matching line in Spanish, with a BOM and a readable file name', async () => {
    const res = await lines(approver, 'status=exception&format=csv').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="lineas-${program.code}-2016-03-deposito-excepciones.csv"`);
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe('Línea,Folio,Importe,Estado,Motivo de la excepción,Póliza');
    expect(rows).toHaveLength(1 + 7);
    expect(rows[1]).toMatch(/^3,T-[^,]+,1075\.20,Excepción,Tarjeta bloqueada,$/);
    // The auditor's export names the people; all 250 lines without a filter.
    const all = await lines(auditor, 'format=csv').expect(200);
    const allRows = all.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(allRows[0]).toBe('Línea,Folio,Nombre,Importe,Estado,Motivo de la excepción,Póliza');
    expect(allRows).toHaveLength(251);
    expect(allRows.find((r) => r.startsWith('120,'))).toContain('María José Hernández Ruiz');
    expect(allRows[1]).toMatch(/^1,T-[^,]+,Nombre Apellido,1075\.20,Abonada,,[0-9a-f-]{36}$/);
  });

  it('cancel keeps who cancelled and why; the lines of a cancelled cycle say so instead of "pending"', async () => {
    const draft = await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-04', kind: 'deposit' }).expect(201);
    const tooLong = await t.http.post(`/v1/cycles/${draft.body.id}/cancel`).set(approver.auth).send({ reason: 'x'.repeat(501) }).expect(400);
    expect(tooLong.body.code).toBe('validation_failed');
    const cancelled = await t.http.post(`/v1/cycles/${draft.body.id}/cancel`).set(approver.auth).send({ reason: 'importe equivocado' }).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelledBy: `user:${approver.username}`, cancelReason: 'importe equivocado' });
    expect((await t.http.get(`/v1/cycles/${draft.body.id}`).set(auditor.auth).expect(200)).body.cancelReason).toBe('importe equivocado');
    const l = await t.http.get(`/v1/cycles/${draft.body.id}/lines?status=cancelled&limit=5`).set(auditor.auth).expect(200);
    expect(l.body.total).toBe(243); // the seven blocked cards have no active instrument: excluded from the draft
    expect(new Set(l.body.data.map((x: Line) => x.status))).toEqual(new Set(['cancelled']));
    expect((await t.http.get(`/v1/cycles/${draft.body.id}/lines?status=pending`).set(auditor.auth).expect(200)).body.total).toBe(0);
  });

  it('the approvals inbox lists every draft of every kind, oldest first, with who sent it, paged with its total', async () => {
    const pay = await programFromFixture(t, 'DESEMPLEO', { budget: '100000.00' });
    const payees = await addBeneficiaries(t.db, pay.id, 2, { instrument: 'none', bankAccount: true });
    await meetObligations(t.db, pay.id, '2016-12');
    await runCycle(t, pay.id, '2016-03', operator, approver);
    // A baja of a paid beneficiary: a reintegro to remit.
    await t.http.post(`/v1/beneficiaries/${payees[0].beneficiaryId}/deactivate`).set(officer.auth).send({ cause: 'false_information', effectiveDate: '2016-03-30' }).expect(200);
    // Oldest first: each draft a minute after the previous one.
    t.clock.set('2016-03-31T16:00:00Z');
    const cycle = await t.http.post(`/v1/programs/${pay.id}/cycles`).set(operator.auth).set('Idempotency-Key', key()).send({ period: '2016-04', kind: 'deposit' }).expect(201);
    t.clock.set('2016-03-31T16:01:00Z');
    const remittance = await t.http.post('/v1/remittances').set(operator.auth).send({ programId: pay.id }).expect(201);
    // A payout batch cancelled with its reason, then drafted again.
    const first = await draftBatch(t, pay.id, 'beneficiaries', operator).expect(201);
    const bc = await t.http.post(`/v1/payout-batches/${first.body.id}/cancel`).set(operator.auth).send({ reason: 'CLABE por corregir' }).expect(200);
    expect(bc.body).toMatchObject({ status: 'cancelled', cancelReason: 'CLABE por corregir' });
    t.clock.set('2016-03-31T16:02:00Z');
    const batch = await draftBatch(t, pay.id, 'beneficiaries', operator).expect(201);
    const mine = await t.http.post(`/v1/programs/${program.id}/cycles`).set(approver.auth).set('Idempotency-Key', key());
    expect(mine.status).toBe(403); // approvers do not prepare: every draft here is the operator's

    const inbox = async (who: Staff, query = '') => (await t.http.get(`/v1/console/approvals?programId=${pay.id}${query}`).set(who.auth).expect(200)).body;
    const forApprover = await inbox(approver, '&scope=to_approve');
    expect(forApprover.total).toBe(3);
    expect(forApprover.data.map((a: { kind: string; id: string }) => [a.kind, a.id])).toEqual([
      ['cycle', cycle.body.id],
      ['remittance', remittance.body.id],
      ['payout_batch', batch.body.id],
    ]);
    expect(forApprover.data[0]).toMatchObject({ programCode: pay.code, reference: '2016-04', detail: 'deposit', preparedBy: `user:${operator.username}`, preparedByMe: false });
    expect(forApprover.data[1]).toMatchObject({ reference: remittance.body.number, controlCount: 1, controlTotal: remittance.body.total });
    expect(forApprover.data[2]).toMatchObject({ reference: batch.body.number, detail: 'beneficiaries', controlTotal: batch.body.controlTotal });
    // The operator sees the same three as sent for approval, none to approve.
    expect((await inbox(operator, '&scope=sent')).data.every((a: { preparedByMe: boolean }) => a.preparedByMe)).toBe(true);
    expect((await inbox(operator, '&scope=sent')).total).toBe(3);
    expect((await inbox(operator, '&scope=to_approve')).total).toBe(0);
    // Paged one at a time, nothing twice or lost; one kind at a time.
    const ids: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const p = await inbox(auditor, `&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...p.data.map((a: { id: string }) => a.id));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(ids).toEqual([cycle.body.id, remittance.body.id, batch.body.id]);
    expect((await inbox(auditor, '&kind=remittance')).data.map((a: { id: string }) => a.id)).toEqual([remittance.body.id]);
    // Approved or cancelled drafts leave the inbox; the reasons stay on them.
    await approveBatch(t, batch.body.id, approver).expect(200);
    const rc = await t.http.post(`/v1/remittances/${remittance.body.id}/cancel`).set(approver.auth).send({ reason: 'falta el oficio' }).expect(200);
    expect(rc.body).toMatchObject({ status: 'cancelled', cancelReason: 'falta el oficio' });
    expect((await inbox(approver, '&scope=to_approve')).data.map((a: { id: string }) => a.id)).toEqual([cycle.body.id]);
    for (const bad of ['scope=mine', 'kind=dinner', 'programId=x']) {
      expect((await t.http.get(`/v1/console/approvals?${bad}`).set(auditor.auth).expect(400)).body.code).toBe('validation_failed');
    }
    await t.http.get('/v1/console/approvals').set(officer.auth).expect(403);

    // Reintegro totals: counted and summed by status.
    const totals = (await t.http.get(`/v1/console/programs/${pay.id}/reintegro-totals`).set(auditor.auth).expect(200)).body;
    expect(totals).toEqual({ byStatus: [{ status: 'pending', count: 1, total: remittance.body.total }], count: 1, total: remittance.body.total });
    await t.http.get('/v1/console/programs/00000000-0000-4000-8000-000000000000/reintegro-totals').set(auditor.auth).expect(404);
  });
});
