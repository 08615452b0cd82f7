process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'monedero-test'}:bulk-property`;
import fc from 'fast-check';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import { instrumentNumberHash, pinHash } from '../../src/common/auth/secrets';
import { isNoNegativeViolation } from '../../src/common/db-errors';
import { Money } from '../../src/common/money';
import { loadConfig } from '../../src/config/config';
import { CyclesService } from '../../src/disbursements/cycles.service';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { createInstrument, createMerchant, createProgram, FixtureInstrument, FixtureMerchant, FixtureProgram } from '../support/merchant-fixtures';

/**
 * The model-based simulator of test/property/ledger.property.spec.ts, on the bulk money paths:
 * cycle chunks (cycle_post_chunk), redemption batches (merchant_redeem_batch), refunds and voucher
 * sweeps (treasury_sweep_vouchers), mixed with single postings, holds, captures, voids and
 * reversals. Every path posts through ledger_post_staged; after every step every invariant is
 * checked against the database and against a model in Decimal. The seed is fixed and printed
 * (PROPERTY_SEED overrides it), so a failure replays exactly.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261201);
const VOUCHERS = 4;
const LOAD = new Money('40.00');

type Op =
  | { op: 'spend'; v: number; cents: number }
  | { op: 'hold'; v: number; cents: number }
  | { op: 'capture'; hold: number; fraction: number }
  | { op: 'void'; hold: number }
  | { op: 'reverse'; entry: number }
  | { op: 'batch'; items: Array<{ v: number; cents: number; authorize: boolean }> }
  | { op: 'refund'; redemption: number; fraction: number }
  | { op: 'block'; v: number }
  | { op: 'unblock'; v: number }
  | { op: 'draft' }
  | { op: 'chunk' }
  | { op: 'sweep'; v: number }
  | { op: 'rollup' };

const v = fc.integer({ min: 0, max: VOUCHERS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('spend' as const), v, cents: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ op: fc.constant('hold' as const), v, cents: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ op: fc.constant('capture' as const), hold: fc.nat(), fraction: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant('void' as const), hold: fc.nat() }),
  fc.record({ op: fc.constant('reverse' as const), entry: fc.nat() }),
  fc.record({
    op: fc.constant('batch' as const),
    items: fc.uniqueArray(fc.record({ v, cents: fc.integer({ min: 1, max: 4000 }), authorize: fc.boolean() }), {
      minLength: 1,
      maxLength: VOUCHERS,
      selector: (i) => i.v,
    }),
  }),
  fc.record({ op: fc.constant('refund' as const), redemption: fc.nat(), fraction: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant('block' as const), v }),
  fc.record({ op: fc.constant('unblock' as const), v }),
  fc.record({ op: fc.constant('draft' as const) }),
  fc.record({ op: fc.constant('chunk' as const) }),
  fc.record({ op: fc.constant('sweep' as const), v }),
  fc.record({ op: fc.constant('rollup' as const) }),
);

interface Voucher extends FixtureInstrument {
  posted: Decimal;
  pending: Decimal;
  status: 'active' | 'blocked';
  swept: boolean;
}

describe('bulk money paths property: random sequences keep every invariant', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let cycles: CyclesService;
  let admin: { auth: { Authorization: string } };
  let periodSeq = 0;
  const secret = loadConfig().INSTRUMENT_NUMBER_SECRET;

  beforeAll(async () => {
    t = await createTestApp({ now: new Date('2030-06-01T12:00:00Z') });
    ledger = t.app.get(LedgerService);
    cycles = t.app.get(CyclesService);
    admin = await t.staff('admin');
    process.stdout.write(`bulk-paths property: seed ${SEED} (PROPERTY_SEED=${SEED} replays it)\n`);
  });
  afterAll(() => t.close());

  /** Every invariant, over every account of this run. */
  async function check(program: FixtureProgram, merchant: FixtureMerchant, vouchers: Voucher[], extra: string[]) {
    const ids = [...vouchers.map((x) => x.accountId), merchant.payableAccountId, program.budgetAccountId, ...extra];
    const unbalanced = await t.db.query(
      `SELECT p.entry_id FROM postings p WHERE p.entry_id IN (SELECT entry_id FROM postings WHERE account_id = ANY ($1))
        GROUP BY p.entry_id HAVING sum(CASE p.side WHEN 'debit' THEN p.amount ELSE -p.amount END) <> 0
            OR NOT bool_or(p.side = 'debit') OR NOT bool_or(p.side = 'credit')`,
      [ids],
    );
    expect(unbalanced).toEqual([]);
    const rows: Array<{ id: string; posted: string; pending: string; fromPostings: string; openHolds: string; guarded: boolean }> = await t.db.query(
      `SELECT b.account_id AS id, b.posted, b.pending, a.no_negative_balance AS guarded,
              (SELECT coalesce(sum(CASE p.side WHEN b.normal_side THEN p.amount ELSE -p.amount END), 0)::numeric(20,2)
                 FROM postings p WHERE p.account_id = b.account_id) AS "fromPostings",
              (SELECT coalesce(sum(amount), 0)::numeric(20,2) FROM ledger_holds WHERE account_id = b.account_id AND status = 'authorized') AS "openHolds"
         FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id WHERE b.account_id = ANY ($1)`,
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    for (const row of rows) {
      expect({ id: row.id, posted: row.posted }).toEqual({ id: row.id, posted: row.fromPostings });
      expect({ id: row.id, pending: row.pending }).toEqual({ id: row.id, pending: row.openHolds });
      if (row.guarded) expect(new Decimal(row.posted).minus(row.pending).gte(0)).toBe(true);
    }
    for (const x of vouchers) {
      const row = rows.find((r) => r.id === x.accountId)!;
      expect({ voucher: x.last4, posted: row.posted, pending: row.pending }).toEqual({
        voucher: x.last4,
        posted: x.posted.toFixed(2),
        pending: x.pending.toFixed(2),
      });
    }
  }

  it('holds for 25 random sequences of up to 25 operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const program = await createProgram(t.db, ledger, {
          instrumentType: 'voucher',
          rules: { benefit: { type: 'fixed', amount: LOAD.toFixed(2) }, schedule: { frequency: 'monthly', dayOfMonth: 1 } },
        });
        const merchant = await createMerchant(t, admin);
        const vouchers: Voucher[] = [];
        for (let i = 0; i < VOUCHERS; i++) {
          const f = await createInstrument(t.db, ledger, program, { kind: 'voucher', balance: '50.00' });
          vouchers.push({ ...f, posted: new Money('50.00'), pending: new Money(0), status: 'active', swept: false });
        }
        const holds: Array<{ id: string; v: number; amount: Decimal; open: boolean }> = [];
        const entries: Array<{ id: string; v: number; amount: Decimal; reversed: boolean }> = [];
        const redemptions: Array<{ id: string; v: number; captured: Decimal; refunded: Decimal }> = [];
        const commitments: string[] = [];
        let cycle: { id: string; lines: Array<{ lineNo: number; v: number }>; next: number } | null = null;
        let clock = t.clock.now().getTime();
        const available = (x: Voucher) => x.posted.minus(x.pending);
        const usable = (x: Voucher) => x.status === 'active' && !x.swept;

        for (const op of ops) {
          clock += 60_000;
          const now = new Date(clock);
          t.clock.set(now);
          switch (op.op) {
            case 'spend': {
              const x = vouchers[op.v];
              const amount = new Money(op.cents).div(100);
              const result = await ledger
                .post({
                  kind: 'transfer',
                  idempotencyKey: `bulk-prop:${randomUUID()}`,
                  effectiveAt: now,
                  postings: [
                    { accountId: x.accountId, side: 'debit', amount },
                    { accountId: merchant.payableAccountId, side: 'credit', amount },
                  ],
                })
                .then((r) => r, (e: unknown) => e);
              if (available(x).gte(amount)) {
                expect(result).toMatchObject({ replayed: false });
                x.posted = x.posted.minus(amount);
                entries.push({ id: (result as { entryId: string }).entryId, v: op.v, amount, reversed: false });
              } else {
                expect(isNoNegativeViolation(result)).toBe(true);
              }
              break;
            }
            case 'hold': {
              const x = vouchers[op.v];
              const amount = new Money(op.cents).div(100);
              const result = await ledger
                .authorizeHold({ accountId: x.accountId, amount, expiresAt: new Date(clock + 3_600_000), now })
                .then((r) => r, (e: unknown) => e);
              if (available(x).gte(amount)) {
                holds.push({ id: (result as { holdId: string }).holdId, v: op.v, amount, open: true });
                x.pending = x.pending.plus(amount);
              } else {
                expect(isNoNegativeViolation(result)).toBe(true);
              }
              break;
            }
            case 'capture':
            case 'void': {
              if (!holds.length) break;
              const h = holds[op.hold % holds.length];
              const x = vouchers[h.v];
              if (op.op === 'capture') {
                const amount = h.amount.times(op.fraction).div(100).toDecimalPlaces(2, Decimal.ROUND_DOWN);
                if (amount.lte(0)) break;
                const result = await ledger
                  .captureHold({ holdId: h.id, amount, destinationAccountId: merchant.payableAccountId, now })
                  .then((r) => r, (e: unknown) => e);
                if (h.open) {
                  expect(typeof result).toBe('string');
                  x.pending = x.pending.minus(h.amount);
                  x.posted = x.posted.minus(amount);
                  entries.push({ id: result as string, v: h.v, amount, reversed: false });
                  h.open = false;
                } else {
                  expect(result).toMatchObject({ code: 'MN004' });
                }
              } else {
                expect(await ledger.releaseHold(h.id, 'voided', now)).toBe(h.open);
                if (h.open) x.pending = x.pending.minus(h.amount);
                h.open = false;
              }
              break;
            }
            case 'reverse': {
              if (!entries.length) break;
              const e = entries[op.entry % entries.length];
              const result = await ledger.reverse(e.id, { effectiveAt: now }).then((r) => r, (x: unknown) => x);
              if (e.reversed) expect(result).toMatchObject({ replayed: true });
              else {
                expect(result).toMatchObject({ replayed: false });
                e.reversed = true;
                vouchers[e.v].posted = vouchers[e.v].posted.plus(e.amount);
              }
              break;
            }
            case 'batch': {
              const items = op.items.map((i) => ({ ...i, amount: new Money(i.cents).div(100), x: vouchers[i.v] }));
              const rows: Array<{ ord: number; outcome: string; facts: { id?: string } | null }> = await t.db.query(
                `SELECT o_ord AS ord, o_outcome AS outcome, o_facts AS facts
                   FROM merchant_redeem_batch($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::numeric[],
                                              $8::text[], $9::timestamptz[], '1 hour', $10::text[], $11::text[], $12::text[], true)`,
                [
                  items.map((i) => (i.authorize ? 'authorize' : 'redeem')),
                  items.map(() => merchant.id),
                  items.map(() => null),
                  items.map(() => merchant.apiKeyId),
                  items.map((i) => instrumentNumberHash(i.x.number, secret)),
                  items.map((i) => pinHash(instrumentNumberHash(i.x.number, secret), i.x.pin, secret)),
                  items.map((i) => i.amount.toFixed(2)),
                  items.map(() => null),
                  items.map(() => now),
                  items.map(() => `merchant:${merchant.id}`),
                  items.map(() => `bulk-${randomUUID()}`),
                  items.map(() => randomUUID()),
                ],
              );
              rows.forEach((r, k) => {
                const i = items[k];
                const expected = i.x.status !== 'active' ? 'instrument_not_active' : i.x.swept ? 'instrument_expired'
                  : available(i.x).lt(i.amount) ? 'insufficient_funds' : i.authorize ? 'authorized' : 'captured';
                expect({ v: i.v, outcome: r.outcome }).toEqual({ v: i.v, outcome: expected });
                if (expected === 'captured') {
                  i.x.posted = i.x.posted.minus(i.amount);
                  redemptions.push({ id: r.facts!.id!, v: i.v, captured: i.amount, refunded: new Money(0) });
                } else if (expected === 'authorized') {
                  i.x.pending = i.x.pending.plus(i.amount);
                  holds.push({ id: '', v: i.v, amount: i.amount, open: true });
                }
              });
              // Holds of authorizations: the ledger's ids, for captures and voids later.
              const fresh = holds.filter((h) => h.id === '');
              if (fresh.length) {
                const ids: Array<{ id: string; account: string }> = await t.db.query(
                  `SELECT h.id, h.account_id AS account FROM ledger_holds h JOIN redemptions r ON r.hold_id = h.id
                    WHERE r.merchant_id = $1 AND h.created_at = $2`,
                  [merchant.id, now],
                );
                for (const h of fresh) h.id = ids.find((x) => x.account === vouchers[h.v].accountId)!.id;
              }
              break;
            }
            case 'refund': {
              if (!redemptions.length) break;
              const r = redemptions[op.redemption % redemptions.length];
              const amount = r.captured.minus(r.refunded).times(op.fraction).div(100).toDecimalPlaces(2, Decimal.ROUND_DOWN);
              if (amount.lte(0)) break;
              const [row] = await t.db.query(`SELECT o_outcome AS outcome FROM merchant_refund($1, NULL, $2, $3::numeric, NULL, $4)`, [
                merchant.id,
                r.id,
                amount.toFixed(2),
                now,
              ]);
              expect(row.outcome).toBe('refunded');
              r.refunded = r.refunded.plus(amount);
              // A refund to a swept voucher goes on to the reintegro (late refund): its balance stays 0.
              if (!vouchers[r.v].swept) vouchers[r.v].posted = vouchers[r.v].posted.plus(amount);
              break;
            }
            case 'block':
            case 'unblock': {
              const x = vouchers[op.v];
              if (x.swept) break;
              x.status = op.op === 'block' ? 'blocked' : 'active';
              await t.db.query(`UPDATE instruments SET status = $2 WHERE id = $1`, [x.id, x.status]);
              break;
            }
            case 'draft': {
              if (cycle) break;
              const n = periodSeq++;
              const period = `${2031 + Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
              const draft = await cycles.createDraft(program.id, { period, kind: 'deposit' }, { userId: null, name: 'prop:operator' });
              const approved = await cycles.approve(draft.id, { userId: null, name: 'prop:approver' });
              if (approved.commitmentAccountId) commitments.push(approved.commitmentAccountId);
              await cycles.start(draft.id);
              const lines: Array<{ lineNo: number; instrumentId: string }> = await t.db.query(
                `SELECT line_no AS "lineNo", instrument_id AS "instrumentId" FROM cycle_lines WHERE cycle_id = $1 ORDER BY line_no`,
                [draft.id],
              );
              expect(lines.map((l) => l.instrumentId).sort()).toEqual(vouchers.filter(usable).map((x) => x.id).sort());
              cycle = { id: draft.id, lines: lines.map((l) => ({ lineNo: l.lineNo, v: vouchers.findIndex((x) => x.id === l.instrumentId) })), next: 1 };
              if (!lines.length) cycle = null;
              break;
            }
            case 'chunk': {
              if (!cycle) break;
              const from = cycle.next;
              const to = Math.min(cycle.lines.length, from + 1);
              const result = await cycles.postChunk(cycle.id, from, to);
              const expected = cycle.lines.filter((l) => l.lineNo >= from && l.lineNo <= to).filter((l) => usable(vouchers[l.v]));
              expect(result.posted).toBe(expected.length);
              for (const l of expected) vouchers[l.v].posted = vouchers[l.v].posted.plus(LOAD);
              cycle.next = to + 1;
              if (cycle.next > cycle.lines.length) {
                const done = await cycles.finish(cycle.id);
                expect(done.postedCount + done.exceptionCount).toBe(cycle.lines.length);
                cycle = null;
              }
              break;
            }
            case 'sweep': {
              const x = vouchers[op.v];
              if (x.swept) break;
              await t.db.query(`UPDATE instruments SET expires_at = $2 WHERE id = $1`, [x.id, now]);
              const [r] = await t.db.query(`SELECT r_swept AS swept, r_total::text AS total FROM treasury_sweep_vouchers($1, $2, NULL, 100)`, [
                program.id,
                now,
              ]);
              expect(r.total).toBe(x.posted.gt(0) ? x.posted.toFixed(2) : '0');
              for (const h of holds) if (h.v === op.v) h.open = false;
              x.posted = new Money(0);
              x.pending = new Money(0);
              x.swept = true;
              break;
            }
            case 'rollup':
              await ledger.rollup(merchant.payableAccountId);
              break;
          }
          await check(program, merchant, vouchers, commitments);
        }
        // A cycle left running posts its remaining lines; every commitment then ends at zero.
        if (cycle) {
          await cycles.postChunk(cycle.id, cycle.next, cycle.lines.length);
          await cycles.finish(cycle.id);
        }
        const left: Array<{ posted: string }> = await t.db.query(`SELECT posted::text FROM ledger_balances WHERE account_id = ANY ($1)`, [commitments]);
        expect(left.every((c) => c.posted === '0.00')).toBe(true);
      }),
      { numRuns: 25, seed: SEED },
    );
  });
});
