process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:treasury-tranches`;

import { CyclesService } from '../../src/disbursements/cycles.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { SweepsService } from '../../src/treasury/sweeps.service';
import { createTestApp, TestApp } from '../support/app';
import { addBeneficiaries, balanceOf, createProgram } from '../support/cycle-fixtures';

/** Cooperativas: one transfer per stage, proof due in 45 calendar days, reminder at day 30, warning at day 45. */
const COOPERATIVAS = {
  benefit: { type: 'per_award' },
  schedule: { frequency: 'tranches' },
  tranchePlan: [{ share: '1', proofDueCalendarDays: 45, reminderDays: [30, 45, 52] }],
  awardMax: '150000.00',
};

describe('treasury: unproven tranches become reintegro demands', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let cycles: CyclesService;
  let sweeps: SweepsService;
  let operator: Awaited<ReturnType<TestApp['staff']>>;
  let approver: Awaited<ReturnType<TestApp['staff']>>;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2016-03-01T18:00:00Z') });
    ledger = t.app.get(LedgerService);
    cycles = t.app.get(CyclesService);
    sweeps = t.app.get(SweepsService);
    operator = await t.staff('finance_operator');
    approver = await t.staff('finance_approver');
  });
  afterAll(() => t.close());

  it('reminder at day 30, warning at day 45, then the unproven amount (late or short proof) is demanded, once', async () => {
    const program = await createProgram(t.db, ledger, { rules: COOPERATIVAS, budget: '1000000.00' });
    const [late, short, proven] = await addBeneficiaries(t.db, program.id, 3, { instrument: 'none' });
    const grants: Record<string, any> = {};
    for (const [name, b, amount] of [['late', late, '50000.00'], ['short', short, '100000.00'], ['proven', proven, '60000.00']] as const) {
      grants[name] = (await t.http.post(`/v1/programs/${program.id}/grants`).set(operator.auth).send({ beneficiaryId: b.beneficiaryId, awardAmount: amount }).expect(201)).body;
    }
    const d = await cycles.createDraft(program.id, { period: '2016-03', kind: 'tranche' }, { userId: null, name: 'test:preparer' });
    await cycles.approve(d.id, { userId: null, name: 'test:approver' });
    await cycles.start(d.id);
    await cycles.postChunk(d.id, 1, d.controlCount);
    await cycles.finish(d.id);
    const view = (await t.http.get(`/v1/grants/${grants.late.id}`).set(approver.auth).expect(200)).body;
    expect(view.tranches[0]).toMatchObject({ releasedOn: '2016-03-01', proofDueOn: '2016-04-15', amount: '50000.00' });

    const proof = async (grantId: string, amount: string, accept = true) => {
      const p = await t.http.post(`/v1/grants/${grantId}/tranches/1/proofs`).set(operator.auth).send({ amount, documents: [{ reference: `FAC-${amount}` }] }).expect(201);
      if (accept) await t.http.post(`/v1/grant-proofs/${p.body.id}/accept`).set(approver.auth).send({}).expect(200);
    };
    t.clock.set('2016-04-20T18:00:00Z');
    await proof(grants.short.id, '61234.56');
    await proof(grants.proven.id, '60000.00');

    const events = async (grantId: string) =>
      (await t.db.query(`SELECT kind, day, to_char(due_on, 'YYYY-MM-DD') AS "dueOn" FROM tranche_proof_events WHERE grant_id = $1 ORDER BY created_at, due_on`, [grantId])) as Array<{ kind: string }>;
    const day29 = await sweeps.trancheProofs({ programId: program.id, date: '2016-03-29' });
    expect(day29).toMatchObject({ events: 0, demands: [] });
    await sweeps.trancheProofs({ programId: program.id, date: '2016-03-31' });
    expect(await events(grants.late.id)).toEqual([{ kind: 'reminder', day: 30, dueOn: '2016-03-31' }]);
    // Day 45 is the deadline itself: warning, no demand yet.
    const day45 = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-14' });
    expect(day45.demands).toEqual([]);
    expect((await events(grants.late.id)).map((e) => e.kind)).toEqual(['reminder', 'warning']);

    const after = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-15' });
    expect(after.demands.map((x: Record<string, unknown>) => [x.grantId, x.amount]).sort()).toEqual(
      [
        [grants.late.id, '50000.00'],
        [grants.short.id, '38765.44'],
      ].sort(),
    );
    expect(await balanceOf(t.db, grants.late.accountId)).toBe('0.00');
    expect(await balanceOf(t.db, grants.short.accountId)).toBe('61234.56');
    expect(await balanceOf(t.db, grants.proven.accountId)).toBe('60000.00');
    const list = (await t.http.get(`/v1/reintegros?programId=${program.id}&cause=unproven_tranche`).set(operator.auth).expect(200)).body.data;
    const shortR = list.find((r: { grantId: string }) => r.grantId === grants.short.id);
    expect(shortR).toMatchObject({ amount: '38765.44', source: 'grant', trancheNo: 1, sourceAccountIds: [grants.short.accountId], details: { demand: true, reason: 'short_proof', accepted: '61234.56' } });
    expect((await events(grants.late.id)).map((e) => e.kind)).toEqual(['reminder', 'warning', 'reintegro_demand']);

    // Re-runs post nothing more (after the demand the letters stop).
    const again = await sweeps.trancheProofs({ programId: program.id, date: '2016-04-19' });
    expect(again.demands).toEqual([]);
    const [n] = await t.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind = 'unproven_tranche' AND metadata->>'grantId' = ANY($1)`, [[grants.late.id, grants.short.id, grants.proven.id]]);
    expect(n.n).toBe(2);
    expect(await balanceOf(t.db, program.reintegroAccountId)).toBe('88765.44');
  });
});
