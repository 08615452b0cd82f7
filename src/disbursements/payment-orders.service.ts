import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { isNoNegativeViolation } from '../common/db-errors';
import { formatMoney, money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { PayoutsService } from '../payouts/payouts.service';
import { isBankPaid } from '../payouts/payouts.rules';
import { assertOrderDraft, PaymentOrderStatus } from './arrears.rules';
import { incorporationCutoff, paymentDate, PERIOD_PATTERN } from './cycles.rules';
import { Actor, CyclesService } from './cycles.service';

const ORDER_COLUMNS = `id, program_id AS "programId", beneficiary_id AS "beneficiaryId", amount::text AS amount, period, load_no AS "loadNo",
  reason, status, account_id AS "accountId", journal_entry_id AS "journalEntryId", prepared_by AS "preparedBy",
  prepared_by_user_id AS "preparedByUserId", approved_by AS "approvedBy", approved_at AS "approvedAt",
  cancelled_by AS "cancelledBy", cancelled_at AS "cancelledAt", created_at AS "createdAt"`;

interface OrderRow {
  id: string;
  programId: string;
  beneficiaryId: string;
  amount: string;
  period: string | null;
  loadNo: number;
  reason: string;
  status: PaymentOrderStatus;
  accountId: string | null;
  journalEntryId: string | null;
  preparedBy: string;
  preparedByUserId: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  createdAt: Date;
}

/**
 * Payment orders (API.md "Money owed"): a single maker-checker payment from the program budget to
 * one beneficiary's instrument (or bank payable), for corrections and resolutions. An order for a
 * period claims it in paid_periods in the same transaction as its journal entry, so it can never
 * pay a period a cycle or another order paid, concurrent ones included.
 */
@Injectable()
export class PaymentOrdersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cycles: CyclesService,
    private readonly ledger: LedgerService,
    private readonly payouts: PayoutsService,
    private readonly clock: Clock,
  ) {}

  async create(input: { programId: string; beneficiaryId: string; amount: string; period?: string; reason: string }, actor: Actor) {
    if (input.period !== undefined && !PERIOD_PATTERN.test(input.period)) throw problems.validation('period must be YYYY-MM');
    const program = await this.cycles.findProgram(input.programId);
    const [b] = await this.db.query(
      `SELECT id, status, to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn", coalesce(curp, rfc, id::text) AS key FROM beneficiaries WHERE id = $1 AND program_id = $2`,
      [input.beneficiaryId, program.id],
    );
    if (!b) throw problems.notFound('beneficiary');
    if (b.status !== 'active') throw new ApiProblem(422, 'beneficiary_inactive', 'the beneficiary is not active in this program');
    const amount = money(input.amount);
    let loadNo = 0;
    if (input.period) {
      // A voucher load is the load whose deposit cycle has that period.
      const [load] = await this.db.query(
        `SELECT load_number AS n FROM disbursement_cycles WHERE program_id = $1 AND kind = 'deposit' AND period = $2 AND status <> 'cancelled' AND load_number IS NOT NULL`,
        [program.id, input.period],
      );
      loadNo = load?.n ?? 0;
      const cutoff = incorporationCutoff(program.rules, input.period, paymentDate(program.rules, input.period, { loadNumber: loadNo || null }));
      if (b.incorporatedOn > cutoff) {
        throw new ApiProblem(422, 'period_before_incorporation', `the beneficiary was incorporated on ${b.incorporatedOn}, after ${input.period} (P20: never retroactive)`);
      }
      await this.assertNotPaid(program.lineage, b.key, input.period, loadNo, this.db);
    }
    const available = (await this.ledger.balance(program.budgetAccountId)).available;
    if (amount.gt(available)) throw new ApiProblem(422, 'insufficient_budget', `the amount ${formatMoney(amount)} exceeds the available budget ${formatMoney(available)}`);
    const rows = await this.db.query(
      `INSERT INTO payment_orders (id, program_id, beneficiary_id, amount, period, load_no, reason, status, prepared_by, prepared_by_user_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10) RETURNING ${ORDER_COLUMNS}`,
      [randomUUID(), program.id, b.id, amount.toFixed(2), input.period ?? null, loadNo, input.reason, actor.name, actor.userId, this.clock.now()],
    );
    return orderView(rows[0]);
  }

  async find(id: string, q: Queryable = this.db, lock = false): Promise<OrderRow> {
    const rows = await q.query(`SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (!rows[0]) throw problems.notFound('payment order');
    return rows[0];
  }

  async get(id: string) {
    return orderView(await this.find(id));
  }

  /**
   * Maker-checker: posts budget → the beneficiary's active instrument (or bank payable) and, for
   * an order with a period, claims the period in the same transaction (409 period_already_paid).
   */
  async approve(id: string, actor: Actor) {
    const order = await withTransaction(this.db, async (tx) => {
      const o = await this.find(id, tx, true);
      assertOrderDraft(o.status, 'approve');
      if (o.preparedByUserId && actor.userId && o.preparedByUserId === actor.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who prepared the payment order cannot approve it');
      }
      const program = await this.cycles.findProgram(o.programId, tx);
      const [b] = await tx.query(`SELECT status, coalesce(curp, rfc, id::text) AS key FROM beneficiaries WHERE id = $1`, [o.beneficiaryId]);
      if (b.status !== 'active') throw new ApiProblem(422, 'beneficiary_inactive', 'the beneficiary is not active in this program');
      const accountId = await this.targetAccount(tx, program, o.beneficiaryId);
      const now = this.clock.now();
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'payment_order',
              idempotencyKey: `payment-order:${o.id}`,
              effectiveAt: now,
              description: `payment order${o.period ? ` for ${o.period}` : ''}`,
              metadata: { paymentOrderId: o.id, beneficiaryId: o.beneficiaryId, period: o.period },
              createdBy: actor.name,
              postings: [
                { accountId: program.budgetAccountId, side: 'debit', amount: money(o.amount) },
                { accountId, side: 'credit', amount: money(o.amount) },
              ],
            },
            tx,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) throw new ApiProblem(422, 'insufficient_budget', `the amount ${formatMoney(o.amount)} exceeds the available budget`);
        throw error;
      }
      if (o.period) {
        // Waits on a concurrent claim of the same period; refused (and the entry rolled back) if it commits.
        const claimed = await tx.query(
          `INSERT INTO paid_periods (lineage, beneficiary_key, period, load_no, program_id, beneficiary_id, amount, payment_order_id, journal_entry_id, paid_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (lineage, beneficiary_key, period, load_no) DO NOTHING RETURNING period`,
          [program.lineage, b.key, o.period, o.loadNo, program.id, o.beneficiaryId, o.amount, o.id, entryId, now],
        );
        if (!claimed.length) throw alreadyPaid(o.period);
      }
      await tx.query(
        `UPDATE payment_orders SET status = 'posted', approved_by = $2, approved_by_user_id = $3, approved_at = $4, account_id = $5, journal_entry_id = $6 WHERE id = $1`,
        [o.id, actor.name, actor.userId, now, accountId, entryId],
      );
      return this.find(o.id, tx);
    });
    return orderView(order);
  }

  async cancel(id: string, actor: Actor) {
    const order = await withTransaction(this.db, async (tx) => {
      const o = await this.find(id, tx, true);
      assertOrderDraft(o.status, 'cancel');
      await tx.query(`UPDATE payment_orders SET status = 'cancelled', cancelled_by = $2, cancelled_at = $3 WHERE id = $1`, [o.id, actor.name, this.clock.now()]);
      return this.find(o.id, tx);
    });
    return orderView(order);
  }

  private async assertNotPaid(lineage: string, key: string, period: string, loadNo: number, q: Queryable): Promise<void> {
    const paid = await q.query(`SELECT 1 FROM paid_periods WHERE lineage = $1 AND beneficiary_key = $2 AND period = $3 AND load_no = $4`, [lineage, key, period, loadNo]);
    if (paid.length) throw alreadyPaid(period);
  }

  /** The beneficiary's latest active instrument, or the bank payable of a bank-paid program. */
  private async targetAccount(tx: Queryable, program: Awaited<ReturnType<CyclesService['findProgram']>>, beneficiaryId: string): Promise<string> {
    if (isBankPaid(program)) return this.payouts.payableAccount(program.id, 'beneficiary', beneficiaryId, tx);
    const [i] = await tx.query(
      `SELECT account_id FROM instruments WHERE beneficiary_id = $1 AND program_id = $2 AND status = 'active' AND (expires_at IS NULL OR expires_at > $3)
        ORDER BY issued_at DESC, id LIMIT 1`,
      [beneficiaryId, program.id, this.clock.now()],
    );
    if (!i) throw new ApiProblem(422, 'instrument_not_active', 'the beneficiary has no active instrument to pay into');
    return i.account_id;
  }
}

function alreadyPaid(period: string): ApiProblem {
  return new ApiProblem(409, 'period_already_paid', `${period} was already paid to this beneficiary`);
}

function orderView(o: OrderRow) {
  const { preparedByUserId: _p, loadNo, ...rest } = o;
  return { ...rest, loadNumber: loadNo || null, amount: formatMoney(o.amount) };
}
