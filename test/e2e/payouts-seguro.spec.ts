// Own BullMQ prefix (under the run's prefix, so global setup clears it) for this file's workers.
process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:payouts-seguro`;

import { parse } from 'csv-parse/sync';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, meetObligations } from '../support/cycle-fixtures';
import {
  approveBatch,
  balanceByCode,
  batchLines,
  clabe,
  draftBatch,
  payableOf,
  payoutEntries,
  postResults,
  programFromFixture,
  runCycle,
  transitOf,
} from '../support/payout-fixtures';

/**
 * Seguro contra la Violencia Familiar (fixtures/programs/04-seguro-vf.json) end to end to the
 * bank and back: S-bank («se le depositarán en su cuenta bancaria», @230797) and S9 (the $37
 * premium paid to the insurer).
 */
describe('payouts: Seguro contra la Violencia Familiar', () => {
  let t: TestApp;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;
  let officer: Awaited<ReturnType<TestApp['staff']>>;
  let auditor: Awaited<ReturnType<TestApp['staff']>>;

  beforeAll(async () => {
    t = await createTestApp({ role: 'all', now: new Date('2016-02-25T18:00:00Z') });
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
    officer = await t.staff('program_officer');
    auditor = await t.staff('auditor');
  });
  afterAll(() => t.close());

  it('S-bank, S9, W11: a Seguro month is paid as $1,500 to her own account and $37 to the insurer; a rejected transfer is retried after her CLABE is fixed, then paid', async () => {
    const program = await programFromFixture(t, 'SEGURO-VF', { budget: '100000.00' });
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const [ana, berta, carla] = await addBeneficiaries(t.db, program.id, 3, { instrument: 'none' });
    await meetObligations(t.db, program.id, '2016-12');
    const putBank = (id: string, body: object, who = officer) => t.http.put(`/v1/beneficiaries/${id}/bank-account`).set(who.auth).send(body);

    // Bank details: check digit (400 invalid_clabe), the confidential program's officers only.
    expect((await putBank(ana.beneficiaryId, { clabe: '012180000000000011', holderName: 'ANA' }).expect(400)).body.code).toBe('invalid_clabe');
    expect((await putBank(ana.beneficiaryId, { clabe: '01218000000000001', holderName: 'ANA' }).expect(400)).body.code).toBe('invalid_clabe');
    const stranger = await t.staff('program_officer');
    await putBank(ana.beneficiaryId, { clabe: clabe(1), holderName: 'ANA' }, stranger).expect(403);
    await putBank(ana.beneficiaryId, { clabe: clabe(1), holderName: 'ANA LÓPEZ' }).expect(200);
    const wrongBerta = clabe(2);
    await putBank(berta.beneficiaryId, { clabe: wrongBerta, holderName: 'BERTA RUIZ' }).expect(200);
    // No bank details for Carla: she is left out of the cycle (the period stays owed: arrears).
    await t.http.post(`/v1/beneficiaries/${carla.beneficiaryId}/instruments`).set(officer.auth).expect(422).expect((r) => expect(r.body.code).toBe('instrument_not_supported'));

    const cycle = await runCycle(t, program.id, '2016-03', operator, approver);
    expect(cycle).toMatchObject({ status: 'completed', controlCount: 2, controlTotal: '3074.00', postedTotal: '3074.00', exclusions: { missing_bank_account: 1 } });
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', ana.beneficiaryId))).toBe('1500.00');
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', berta.beneficiaryId))).toBe('1500.00');
    expect(await balanceByCode(t, payableOf(program.id, 'insurer', program.id))).toBe('74.00');

    // Draft: control totals of every unpaid beneficiary payable; maker-checker on approval.
    const admin = await t.staff('admin');
    const draft = await draftBatch(t, program.id, 'beneficiaries', admin).expect(201);
    expect(draft.body).toMatchObject({ kind: 'beneficiaries', status: 'draft', controlCount: 2, controlTotal: '3000.00', file: null });
    expect((await draftBatch(t, program.id, 'beneficiaries', operator).expect(409)).body).toMatchObject({ code: 'payout_batch_exists', batchId: draft.body.id });
    expect((await approveBatch(t, draft.body.id, admin).expect(403)).body.code).toBe('same_user_cannot_approve');
    await t.http.get(`/v1/payout-batches/${draft.body.id}/file`).set(operator.auth).expect(409);

    const sent = await approveBatch(t, draft.body.id, approver).expect(200);
    expect(sent.body).toMatchObject({ status: 'sent', sentCount: 2, sentTotal: '3000.00', exceptionCount: 0, pendingCount: 2 });
    // Money in transit between the approval and the bank's answer.
    expect(await balanceByCode(t, transitOf(program.id))).toBe('3000.00');
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', ana.beneficiaryId))).toBe('0.00');

    // The bank file: whole CLABEs (it is for the bank), a totals line, the same bytes every download.
    const file1 = await t.http.get(`/v1/payout-batches/${draft.body.id}/file`).set(operator.auth).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    const file2 = await t.http.get(`/v1/payout-batches/${draft.body.id}/file`).set(approver.auth).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(file1.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(Buffer.compare(file1.body, file2.body)).toBe(0);
    expect(file1.headers.etag).toBe(`"${sent.body.file.sha256}"`);
    const rows = parse(file1.body.toString('utf8')) as string[][];
    expect(rows[0]).toEqual(['line_id', 'clabe', 'holder', 'amount', 'reference']);
    expect(rows.slice(1, 3).map((r) => [r[1], r[2], r[3]]).sort()).toEqual([[clabe(1), 'ANA LÓPEZ', '1500.00'], [wrongBerta, 'BERTA RUIZ', '1500.00']].sort());
    expect(rows[3]).toEqual(['TOTAL', '', '2', '3000.00', sent.body.number]);
    // Finance and auditors see the lines with the CLABE masked.
    const lines = await batchLines(t, draft.body.id, auditor);
    expect(lines.map((l) => l.clabe).every((c) => /^\*{14}\d{4}$/.test(c))).toBe(true);
    const lineOf = (beneficiaryId: string) => lines.find((l) => l.payeeId === beneficiaryId)!;

    // The bank pays Ana and rejects Berta's transfer (CSV).
    const csv = `line_id,status,reason,amount\r\n${lineOf(ana.beneficiaryId).id},paid,,1500.00\r\n${lineOf(berta.beneficiaryId).id},rejected,cuenta inexistente,1500.00\r\n`;
    const applied = await postResults(t, draft.body.id, operator, csv).expect(200);
    expect(applied.body).toMatchObject({ paid: 1, paidTotal: '1500.00', rejected: 1, rejectedTotal: '1500.00', reintegrated: 0, unchanged: 0 });
    expect(applied.body.batch).toMatchObject({ status: 'completed', paidCount: 1, rejectedCount: 1, pendingCount: 0 });
    expect(await balanceByCode(t, transitOf(program.id))).toBe('0.00');
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', berta.beneficiaryId))).toBe('1500.00');

    // The same results again change nothing.
    const entries = await payoutEntries(t, program.id);
    const again = await postResults(t, draft.body.id, approver, csv).expect(200);
    expect(again.body).toMatchObject({ paid: 0, rejected: 0, unchanged: 2 });
    expect(await payoutEntries(t, program.id)).toBe(entries);

    // Rejected money waits until her CLABE is fixed, then goes in a later batch (attempt 2).
    const waiting = await draftBatch(t, program.id, 'beneficiaries', operator).expect(422);
    expect(waiting.body).toMatchObject({ code: 'nothing_to_pay', exclusions: { bank_account_rejected: 1 } });
    await putBank(berta.beneficiaryId, { clabe: clabe(3), holderName: 'BERTA RUIZ' }).expect(200);
    const retry = await draftBatch(t, program.id, 'beneficiaries', operator).expect(201);
    expect(retry.body).toMatchObject({ controlCount: 1, controlTotal: '1500.00' });
    await approveBatch(t, retry.body.id, approver).expect(200);
    const [retryLine] = await batchLines(t, retry.body.id, operator);
    expect(retryLine).toMatchObject({ payeeId: berta.beneficiaryId, attempt: 2, amount: '1500.00', clabe: `**************${clabe(3).slice(-4)}` });
    await postResults(t, retry.body.id, operator, [{ lineId: retryLine.id, status: 'paid' }]).expect(200);
    expect(await balanceByCode(t, payableOf(program.id, 'beneficiary', berta.beneficiaryId))).toBe('0.00');
    const [first] = (await batchLines(t, draft.body.id, operator)).filter((l) => l.payeeId === berta.beneficiaryId);
    expect(first).toMatchObject({ status: 'rejected', resultReason: 'cuenta inexistente', followup: 'retried', followupLineId: retryLine.id });

    // S9: the insurer's premiums, paid to the insurer of the rules (a placeholder the operator replaces).
    const placeholder = await t.http.get(`/v1/programs/${program.id}/insurer/bank-account/history`).set(auditor.auth).expect(200);
    expect(placeholder.body.data).toMatchObject([{ version: 1, source: 'program_rules', clabe: '**************0001', holderName: 'ASEGURADORA POR DESIGNAR (placeholder)' }]);
    const premiums = await draftBatch(t, program.id, 'insurer', operator).expect(201);
    expect(premiums.body).toMatchObject({ controlCount: 1, controlTotal: '74.00' });
    // The operator replaces the placeholder: the draft's line was frozen with it, so it becomes an exception at approval.
    await t.http.put(`/v1/programs/${program.id}/insurer/bank-account`).set(operator.auth).send({ clabe: clabe(9), holderName: 'SEGUROS EJEMPLO SA' }).expect(200);
    const stale = await approveBatch(t, premiums.body.id, approver).expect(200);
    expect(stale.body).toMatchObject({ status: 'completed', sentCount: 0, exceptionCount: 1, exceptionTotal: '74.00' });
    expect(await balanceByCode(t, payableOf(program.id, 'insurer', program.id))).toBe('74.00');
    const premiums2 = await draftBatch(t, program.id, 'insurer', operator).expect(201);
    await approveBatch(t, premiums2.body.id, approver).expect(200);
    const [premiumLine] = await batchLines(t, premiums2.body.id, operator);
    expect(premiumLine).toMatchObject({ payeeKind: 'insurer', amount: '74.00', clabe: `**************${clabe(9).slice(-4)}` });
    await postResults(t, premiums2.body.id, operator, [{ lineId: premiumLine.id, status: 'paid', amount: '74.00' }]).expect(200);
    expect(await balanceByCode(t, payableOf(program.id, 'insurer', program.id))).toBe('0.00');
    expect(await balanceByCode(t, `bank:payouts:MXN`)).not.toBe('0.00');

    // Reconciliation: every peso disbursed is paid out, to the centavo.
    const rec = await t.http.get(`/v1/audit/programs/${program.id}/reconciliation`).set(auditor.auth).expect(200);
    expect(rec.body).toMatchObject({ ok: true, payoutsOk: true, disbursed: '3074.00', paidOut: '3074.00', payables: '0.00', inTransit: '0.00', instrumentBalances: '0.00' });
    expect(rec.body.payoutBatches).toHaveLength(4);
  });

  it('bank details: masked for everyone but the program officers, every change kept with who and when', async () => {
    const program = await programFromFixture(t, 'SEGURO-VF');
    await t.db.query(`INSERT INTO staff_program_access (user_id, program_id) VALUES ($1, $2)`, [officer.id, program.id]);
    const [woman] = await addBeneficiaries(t.db, program.id, 1, { instrument: 'none' });
    await t.http.get(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(officer.auth).expect(404);
    t.clock.set('2016-02-25T18:00:00Z');
    await t.http.put(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(officer.auth).send({ clabe: clabe(41), holderName: 'ROSA' }).expect(200);
    t.clock.set('2016-02-26T10:00:00Z');
    const changed = await t.http.put(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(officer.auth).send({ clabe: clabe(42), holderName: 'ROSA MARÍA' }).expect(200);
    expect(changed.body).toMatchObject({ clabe: clabe(42), clabeMasked: false, version: 2, updatedBy: `user:${officer.username}` });

    const seen = (await t.http.get(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(officer.auth).expect(200)).body;
    expect(seen).toMatchObject({ clabe: clabe(42), holderName: 'ROSA MARÍA' });
    // Finance: masked, and (S11, a confidential program) no name.
    const finance = (await t.http.get(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(operator.auth).expect(200)).body;
    expect(finance).toMatchObject({ clabe: `**************${clabe(42).slice(-4)}`, clabeMasked: true, holderName: null, identityWithheld: true });
    // Auditors see identities, never a whole CLABE; neither does an officer of other programs.
    const audit = (await t.http.get(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account/history`).set(auditor.auth).expect(200)).body.data;
    expect(audit.map((h: Record<string, unknown>) => [h.version, h.clabe, h.holderName, h.updatedBy, h.updatedAt])).toEqual([
      [1, `**************${clabe(41).slice(-4)}`, 'ROSA', `user:${officer.username}`, '2016-02-25T18:00:00.000Z'],
      [2, `**************${clabe(42).slice(-4)}`, 'ROSA MARÍA', `user:${officer.username}`, '2016-02-26T10:00:00.000Z'],
    ]);
    const stranger = await t.staff('program_officer');
    const other = (await t.http.get(`/v1/beneficiaries/${woman.beneficiaryId}/bank-account`).set(stranger.auth).expect(200)).body;
    expect(other).toMatchObject({ clabeMasked: true, identityWithheld: true });
    // The history is append-only in the database.
    await expect(t.db.query(`UPDATE payee_bank_account_history SET clabe = clabe WHERE owner_id = $1`, [woman.beneficiaryId])).rejects.toThrow(/immutable/);
    await expect(t.db.query(`INSERT INTO payee_bank_accounts (owner_kind, owner_id, program_id, clabe, holder_name, version, updated_by, updated_at)
                             VALUES ('supplier', gen_random_uuid(), $1, '012180000000000011', 'X', 1, 'sql', now())`, [program.id])).rejects.toThrow(/not a valid CLABE/);
  });
});
