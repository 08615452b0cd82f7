import fc from 'fast-check';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import { SQLSTATE, isNoNegativeViolation, sqlState } from '../../src/common/db-errors';
import { Money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { testAccount, treasury } from '../support/ledger-fixtures';

/**
 * A seeded simulator (after TigerBeetle's): random sequences of postings, holds, captures, voids,
 * expiries and reversals run against the real ledger and against a model in Decimal. After every
 * step: every entry balances, no guarded account is negative, every account's totals equal the sum
 * of its postings (and its pending equals its open holds), and everything equals the model.
 * The seed is fixed and printed (PROPERTY_SEED overrides it), so a failure replays exactly.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261201);

type Op =
  | { op: 'fund'; to: number; cents: number }
  | { op: 'transfer'; from: number; to: number; cents: number }
  | { op: 'hold'; on: number; cents: number }
  | { op: 'capture'; hold: number; fraction: number }
  | { op: 'void'; hold: number }
  | { op: 'expire'; hold: number }
  | { op: 'reverse'; entry: number }
  | { op: 'rollup' };

const GUARDED = 3; // accounts 0..2 are guarded cards; 3 is the hot merchant (deferred, unguarded)
const HOT = 3;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('fund' as const), to: fc.integer({ min: 0, max: GUARDED - 1 }), cents: fc.integer({ min: 1, max: 50000 }) }),
  fc.record({
    op: fc.constant('transfer' as const),
    from: fc.integer({ min: 0, max: GUARDED - 1 }),
    to: fc.integer({ min: 0, max: HOT }),
    cents: fc.integer({ min: 1, max: 30000 }),
  }),
  fc.record({ op: fc.constant('hold' as const), on: fc.integer({ min: 0, max: GUARDED - 1 }), cents: fc.integer({ min: 1, max: 20000 }) }),
  fc.record({ op: fc.constant('capture' as const), hold: fc.nat(), fraction: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant('void' as const), hold: fc.nat() }),
  fc.record({ op: fc.constant('expire' as const), hold: fc.nat() }),
  fc.record({ op: fc.constant('reverse' as const), entry: fc.nat() }),
  fc.record({ op: fc.constant('rollup' as const) }),
);

interface ModelHold {
  id: string;
  on: number;
  amount: Decimal;
  status: 'authorized' | 'captured' | 'voided' | 'expired';
  expiresAt: Date;
}
interface ModelEntry {
  id: string;
  debit: number; // -1 = treasury
  credit: number;
  amount: Decimal;
  reversed: boolean;
}

describe('ledger property: random operation sequences keep every invariant', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let treasuryId: string;
  beforeAll(async () => {
    t = await createTestApp();
    ledger = t.app.get(LedgerService);
    treasuryId = (await treasury(ledger)).id;
    process.stdout.write(`ledger property: seed ${SEED} (PROPERTY_SEED=${SEED} replays it)\n`);
  });
  afterAll(() => t.close());

  async function checkInvariants(ids: string[], posted: Decimal[], pending: Decimal[], guarded: boolean[]) {
    // 1. Every entry that touches these accounts balances.
    const unbalanced = await t.db.query(
      `SELECT p.entry_id FROM postings p
        WHERE p.entry_id IN (SELECT entry_id FROM postings WHERE account_id = ANY ($1))
        GROUP BY p.entry_id HAVING sum(CASE p.side WHEN 'debit' THEN p.amount ELSE -p.amount END) <> 0`,
      [ids],
    );
    expect(unbalanced).toEqual([]);
    // 2–4. Totals equal the postings, pending equals open holds, guarded ≥ 0, all equal the model.
    const rows: Array<{ id: string; posted: string; pending: string; fromPostings: string; openHolds: string }> = await t.db.query(
      `SELECT b.account_id AS id, b.posted, b.pending,
              (SELECT coalesce(sum(CASE side WHEN 'credit' THEN amount ELSE -amount END), 0)::numeric(20,2) FROM postings WHERE account_id = b.account_id) AS "fromPostings",
              (SELECT coalesce(sum(amount), 0)::numeric(20,2) FROM ledger_holds WHERE account_id = b.account_id AND status = 'authorized') AS "openHolds"
         FROM ledger_balances b WHERE b.account_id = ANY ($1)`,
      [ids],
    );
    for (const row of rows) {
      const i = ids.indexOf(row.id);
      expect(row.posted).toBe(row.fromPostings);
      expect(row.pending).toBe(row.openHolds);
      if (guarded[i]) expect(new Decimal(row.posted).minus(row.pending).gte(0)).toBe(true);
      expect([row.posted, row.pending]).toEqual([posted[i].toFixed(2), pending[i].toFixed(2)]);
    }
  }

  it('holds for 40 random sequences of up to 30 operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const accounts = [
          ...(await Promise.all(Array.from({ length: GUARDED }, () => testAccount(ledger, { label: 'prop-card' })))),
          await testAccount(ledger, { label: 'prop-merchant', deferred: true }),
        ];
        const ids = accounts.map((a) => a.id);
        const guarded = accounts.map((a) => a.noNegativeBalance);
        const posted = ids.map(() => new Money(0));
        const pending = ids.map(() => new Money(0));
        const holds: ModelHold[] = [];
        const entries: ModelEntry[] = [];
        let clock = new Date('2999-06-01T00:00:00Z').getTime();
        const available = (i: number) => posted[i].minus(pending[i]);
        const idOf = (i: number) => (i < 0 ? treasuryId : ids[i]);
        const move = (from: number, to: number, amount: Decimal) => {
          if (from >= 0) posted[from] = posted[from].minus(amount);
          if (to >= 0) posted[to] = posted[to].plus(amount);
        };
        const post = (from: number, to: number, amount: Decimal) =>
          ledger.post({
            kind: 'transfer',
            idempotencyKey: `prop:${randomUUID()}`,
            effectiveAt: new Date(clock),
            postings: [
              { accountId: idOf(from), side: 'debit', amount },
              { accountId: idOf(to), side: 'credit', amount },
            ],
          });

        for (const op of ops) {
          clock += 5000; // holds live 30 s, so some expire mid-sequence
          const now = new Date(clock);
          switch (op.op) {
            case 'fund':
            case 'transfer': {
              const from = op.op === 'fund' ? -1 : op.from;
              const to = op.to === from ? HOT : op.to;
              const amount = new Money(op.cents).div(100);
              const allowed = from < 0 || available(from).gte(amount);
              const result = await post(from, to, amount).then(
                (r) => r,
                (e: unknown) => e,
              );
              if (allowed) {
                expect(result).toMatchObject({ replayed: false });
                move(from, to, amount);
                entries.push({ id: (result as { entryId: string }).entryId, debit: from, credit: to, amount, reversed: false });
              } else {
                expect(isNoNegativeViolation(result)).toBe(true);
              }
              break;
            }
            case 'hold': {
              const amount = new Money(op.cents).div(100);
              const result = await ledger
                .authorizeHold({ accountId: ids[op.on], amount, expiresAt: new Date(clock + 30_000), now })
                .then((r) => r, (e: unknown) => e);
              if (available(op.on).gte(amount)) {
                holds.push({ id: (result as { holdId: string }).holdId, on: op.on, amount, status: 'authorized', expiresAt: new Date(clock + 30_000) });
                pending[op.on] = pending[op.on].plus(amount);
              } else {
                expect(isNoNegativeViolation(result)).toBe(true);
              }
              break;
            }
            case 'capture': {
              if (holds.length === 0) break;
              const h = holds[op.hold % holds.length];
              const amount = h.amount.times(op.fraction).div(100).toDecimalPlaces(2, Decimal.ROUND_DOWN);
              if (amount.lte(0)) break;
              const result = await ledger
                .captureHold({ holdId: h.id, amount, destinationAccountId: ids[HOT], now })
                .then((r) => r, (e: unknown) => e);
              const capturable = h.status === 'authorized' && now < h.expiresAt;
              if (capturable) {
                expect(typeof result).toBe('string');
                h.status = 'captured';
                pending[h.on] = pending[h.on].minus(h.amount);
                move(h.on, HOT, amount);
                entries.push({ id: result as string, debit: h.on, credit: HOT, amount, reversed: false });
              } else {
                expect(sqlState(result)).toBe(SQLSTATE.holdNotCapturable);
              }
              break;
            }
            case 'void':
            case 'expire': {
              if (holds.length === 0) break;
              const h = holds[op.hold % holds.length];
              const released = await ledger.releaseHold(h.id, op.op === 'void' ? 'voided' : 'expired', now);
              expect(released).toBe(h.status === 'authorized');
              if (released) {
                h.status = op.op === 'void' ? 'voided' : 'expired';
                pending[h.on] = pending[h.on].minus(h.amount);
              }
              break;
            }
            case 'reverse': {
              if (entries.length === 0) break;
              const e = entries[op.entry % entries.length];
              const result = await ledger.reverse(e.id, { effectiveAt: now }).then((r) => r, (x: unknown) => x);
              if (e.reversed) {
                expect(result).toMatchObject({ replayed: true });
              } else if (e.credit >= 0 && guarded[e.credit] && available(e.credit).lt(e.amount)) {
                expect(isNoNegativeViolation(result)).toBe(true);
              } else {
                expect(result).toMatchObject({ replayed: false });
                e.reversed = true;
                move(e.credit, e.debit, e.amount);
              }
              break;
            }
            case 'rollup':
              await ledger.rollup(ids[HOT]);
              break;
          }
          await checkInvariants(ids, posted, pending, guarded);
        }
      }),
      { numRuns: 40, seed: SEED },
    );
  });
});
