import { withTransaction } from '../database/transaction';
import { decodeCursor, pageOf } from '../common/pagination';
import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { FlowProducer, Queue } from 'bullmq';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { businessDate, startOfBusinessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { isNoNegativeViolation } from '../common/db-errors';
import { formatMoney, money } from '../common/money';
import type { CsvRow } from '../common/csv';
import { exceptionReasonEs, LineSearch, lineSearch, LineStatus, lineStatusEs, linesCsvHeader } from './cycle-lines.rules';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { QUEUES } from '../jobs/queues';
import { LedgerService } from '../ledger/ledger.service';
import { MetricsService } from '../ops/metrics.service';
import { ConditionalService, DraftInputs } from '../conditional/conditional.service';
import { PayoutsService } from '../payouts/payouts.service';
import { isBankPaid } from '../payouts/payouts.rules';
import { parseProgramRules } from '../programs/parse-rules';
import { ProgramRules } from '../programs/program-rules';
import { APP_CONFIG, AppConfig } from '../config/config';
import { lineAmountSql } from './line-amount.sql';
import { ArrearsService } from './arrears.service';
import {
  chunkRanges,
  CycleKind,
  CycleStatus,
  entryKind,
  finalStatus,
  incorporationCutoff,
  jobIds,
  lineAmountRule,
  monthLimits,
  nextPeriod,
  paymentDate,
  periodOf,
  PERIOD_PATTERN,
  proofDueOn,
  startDelayMs,
} from './cycles.rules';

export const CYCLES_FLOW = 'cycles-flow';

/** Who acts: a staff user (maker-checker compares user ids) or the scheduler. */
export interface Actor {
  userId: string | null;
  name: string;
}

export interface ProgramRow {
  id: string;
  code: string;
  instrumentType: string;
  currency: string;
  timeZone: string;
  fiscalYear: number;
  budgetAccountId: string;
  /** The base code shared by a program's fiscal years (PENSION-AM for PENSION-AM-2016): caps and paid periods count across it. */
  lineage: string;
  rules: ProgramRules;
}

const CYCLE_COLUMNS = `id, program_id AS "programId", kind, period, load_number AS "loadNumber", to_char(payment_date, 'YYYY-MM-DD') AS "paymentDate",
  scheduled_for AS "scheduledFor", status, control_count AS "controlCount", control_total AS "controlTotal",
  posted_count AS "postedCount", posted_total AS "postedTotal", exception_count AS "exceptionCount", exception_total AS "exceptionTotal",
  exclusions, chunk_size AS "chunkSize", entry_kind AS "entryKind", currency, budget_account_id AS "budgetAccountId",
  insurer_account_id AS "insurerAccountId", commitment_account_id AS "commitmentAccountId",
  commitment_entry_id AS "commitmentEntryId", release_entry_id AS "releaseEntryId",
  prepared_by AS "preparedBy", prepared_by_user_id AS "preparedByUserId", approved_by AS "approvedBy", approved_at AS "approvedAt",
  cancelled_by AS "cancelledBy", cancelled_at AS "cancelledAt", cancel_reason AS "cancelReason", started_at AS "startedAt", completed_at AS "completedAt", created_at AS "createdAt"`;

export interface CycleRow {
  id: string;
  programId: string;
  kind: CycleKind;
  period: string;
  loadNumber: number | null;
  paymentDate: string;
  scheduledFor: Date | null;
  status: CycleStatus;
  controlCount: number;
  controlTotal: string;
  postedCount: number;
  postedTotal: string;
  exceptionCount: number;
  exceptionTotal: string;
  exclusions: Record<string, number>;
  chunkSize: number;
  entryKind: string;
  currency: string;
  budgetAccountId: string;
  insurerAccountId: string | null;
  commitmentAccountId: string | null;
  commitmentEntryId: string | null;
  releaseEntryId: string | null;
  preparedBy: string;
  preparedByUserId: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
}

/**
 * Disbursement cycles: drafts from the padrón and the rules (set-based SQL), maker-checker
 * approval that commits the budget, execution as BullMQ flows (cycles.processor.ts), finish.
 */
@Injectable()
export class CyclesService {
  private readonly log = new Logger(CyclesService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    @InjectQueue(QUEUES.cycles) private readonly queue: Queue,
    @InjectFlowProducer(CYCLES_FLOW) private readonly flow: FlowProducer,
    private readonly payouts: PayoutsService,
    private readonly conditional: ConditionalService,
    private readonly arrears: ArrearsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Absent in CLI contexts (no OpsModule): nothing is counted there.
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async findProgram(programId: string, q: Queryable = this.db): Promise<ProgramRow> {
    const rows = await q.query(
      `SELECT id, code, instrument_type AS "instrumentType", currency, time_zone AS "timeZone", fiscal_year AS "fiscalYear",
              budget_account_id AS "budgetAccountId", lineage, rules
         FROM programs WHERE id = $1`,
      [programId],
    );
    if (!rows[0]) throw problems.notFound('program');
    return { ...rows[0], rules: parseProgramRules(rows[0].rules) };
  }

  /**
   * Makes a draft: one line per payable beneficiary, control totals frozen. Refused with 409
   * cycle_exists when a live cycle of the same kind exists for the program and period.
   */
  async createDraft(programId: string, input: { period: string; kind: CycleKind; scheduledFor?: string | null }, actor: Actor): Promise<CycleRow> {
    if (!PERIOD_PATTERN.test(input.period)) throw problems.validation('period must be YYYY-MM');
    const program = await this.findProgram(programId);
    const rules = program.rules;
    const amountRule = lineAmountRule(rules);
    if (input.kind === 'tranche' && (!rules.tranchePlan || program.instrumentType !== 'grant')) {
      throw new ApiProblem(422, 'cycle_kind_not_supported', 'tranche cycles are for grant programs with a tranche plan');
    }
    if (input.kind !== 'tranche' && amountRule.mode === 'per_award') {
      throw new ApiProblem(422, 'cycle_kind_not_supported', 'this program pays per award: use a tranche cycle');
    }
    const scheduledFor = input.scheduledFor ? new Date(input.scheduledFor) : null;
    const scheduledDate = scheduledFor ? businessDate(scheduledFor, program.timeZone) : null;
    const id = randomUUID();
    // Obligations (Reinserción R7, Seguro S6): N periods missed in a row end the benefit before the
    // draft reads the padrón; each baja is its own transaction, as an officer's would be.
    if (input.kind === 'deposit' && rules.obligations) {
      await this.conditional.applyObligationBajas(program, paymentDate(rules, input.period, { scheduledDate }));
    }

    try {
      const draft = await withTransaction(this.db, async (tx) => {
        // Serialises drafts of one program and kind (period uniqueness and load numbering).
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('cycle-draft'), hashtext($1))`, [`${programId}:${input.kind}`]);
        const existing = await tx.query(
          `SELECT id, period FROM disbursement_cycles WHERE program_id = $1 AND kind = $2 AND status <> 'cancelled' ORDER BY period`,
          [programId, input.kind],
        );
        if (existing.some((c: { period: string }) => c.period === input.period)) {
          throw new ApiProblem(409, 'cycle_exists', `a ${input.kind} cycle for ${input.period} already exists for this program`, {
            cycleId: existing.find((c: { period: string }) => c.period === input.period).id,
          });
        }
        // Voucher loads (Uniformes: 2) are identified by their period; load n is the n-th live deposit cycle.
        let loadNumber: number | null = null;
        if (input.kind === 'deposit' && rules.schedule?.frequency === 'loads') {
          loadNumber = existing.filter((c: { period: string }) => c.period < input.period).length + 1;
          if (existing.length >= rules.schedule.count) {
            throw new ApiProblem(422, 'load_limit_reached', `this program has ${rules.schedule.count} load(s) a year; they all have cycles`);
          }
          if (existing.some((c: { period: string }) => c.period > input.period)) {
            throw new ApiProblem(422, 'load_out_of_order', 'loads are made in period order');
          }
        }
        const payDate = paymentDate(rules, input.period, { loadNumber, scheduledDate });
        const cutoff = incorporationCutoff(rules, input.period, payDate);
        const payInstant = startOfBusinessDate(payDate, program.timeZone);

        // The premium of a split line (Seguro: $37) waits on the insurer's payable for an insurer payout batch.
        const insurerAccountId =
          amountRule.mode === 'fixed' && amountRule.insurerAmount.gt(0) ? await this.payouts.payableAccount(programId, 'insurer', programId, tx) : null;

        // Record-based amounts (attendance, events) and suspensions (missed obligations) for a deposit.
        const records = input.kind === 'deposit' ? await this.conditional.draftInputs(tx, program, input.period, payDate) : null;
        const totals =
          input.kind === 'tranche'
            ? await this.insertTrancheLines(tx, id, program, payDate)
            : input.kind === 'arrears'
              ? await this.arrears.insertLines(tx, id, program, input.period, await this.lineTarget(tx, program))
              : await this.insertDepositLines(tx, id, program, { cutoff, payInstant, records });

        const rows = await tx.query(
          `INSERT INTO disbursement_cycles (id, program_id, kind, period, load_number, payment_date, scheduled_for, status, entry_kind, currency,
             control_count, control_total, exclusions, chunk_size, budget_account_id, insurer_account_id, prepared_by, prepared_by_user_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
           RETURNING ${CYCLE_COLUMNS}`,
          [
            id, programId, input.kind, input.period, loadNumber, payDate, scheduledFor, entryKind(input.kind, program.instrumentType),
            program.currency, totals.count, totals.total, totals.exclusions, this.config.CYCLE_CHUNK_SIZE, program.budgetAccountId,
            insurerAccountId, actor.name, actor.userId, this.clock.now(),
          ],
        );
        if (records) await this.conditional.claim(tx, id, records.claims);
        return rows[0] as CycleRow;
      });
      // A big draft changes cycle_lines a lot: fresh statistics keep the chunk queries on their indexes.
      if (draft.controlCount >= 10000) await this.db.query('ANALYZE cycle_lines');
      return draft;
    } catch (error) {
      if ((error as { code?: string }).code === '23505' && /one_per_period/.test((error as { constraint?: string }).constraint ?? '')) {
        throw new ApiProblem(409, 'cycle_exists', `a ${input.kind} cycle for ${input.period} already exists for this program`);
      }
      throw error;
    }
  }

  /** Deposits and voucher loads: active beneficiaries with an active instrument, set-based. */
  private async insertDepositLines(
    tx: Queryable,
    cycleId: string,
    program: ProgramRow,
    opts: { cutoff: string; payInstant: Date; records: DraftInputs | null },
  ): Promise<{ count: number; total: string; exclusions: Record<string, number> }> {
    const rules = program.rules;
    const rule = lineAmountRule(rules);
    const params: unknown[] = [cycleId, program.id, opts.cutoff, opts.payInstant];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const { amount, beneficiaryAmount, insurerAmount, noAmount } = lineAmountSql(rule, p, opts.records?.amounts ?? undefined);
    // Left out by their records: suspended by a missed obligation, or a record the rules cannot price.
    const excluded = opts.records && Object.keys(opts.records.excluded).length > 0 ? `${p(JSON.stringify(opts.records.excluded))}::jsonb` : null;
    const excludedCase = excluded ? `WHEN ${excluded} ->> b.id::text IS NOT NULL THEN ${excluded} ->> b.id::text` : '';
    // Limits counted by CURP (a re-alta is the same person) over the live lines of earlier deposit and
    // arrears cycles that are not exceptions, plus periods paid by payment orders: maxMonths (Desempleo 6;
    // Seguro 12, or 18 with an authorisation record) across the whole lineage (every fiscal year of the
    // base code, W9); loads (Uniformes 2) within this program's year.
    const limits = monthLimits(rules);
    const loads = rules.schedule?.frequency === 'loads' ? rules.schedule.count : null;
    let priorJoin = '';
    let limitCase = '';
    if (limits || loads) {
      const scope = limits ? `IN (SELECT pl.id FROM programs pl WHERE pl.lineage = ${p(program.lineage)})` : '= $2';
      priorJoin = `
        LEFT JOIN (SELECT k.curp, count(*) AS n FROM (
                     SELECT b2.curp
                       FROM cycle_lines l
                       JOIN disbursement_cycles c ON c.id = l.cycle_id
                       JOIN beneficiaries b2 ON b2.id = l.beneficiary_id
                      WHERE c.program_id ${scope} AND c.kind IN ('deposit', 'arrears') AND c.status <> 'cancelled' AND c.id <> $1
                        AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x WHERE x.cycle_id = l.cycle_id AND x.line_no = l.line_no)
                     UNION ALL
                     SELECT pp.beneficiary_key FROM paid_periods pp WHERE pp.program_id ${scope} AND pp.payment_order_id IS NOT NULL) k
                    GROUP BY k.curp) prior ON prior.curp = b.curp
        LEFT JOIN cycle_extension_authorizations au ON au.program_id = b.program_id AND au.beneficiary_id = b.id`;
      const clauses: string[] = [];
      if (limits) {
        clauses.push(`WHEN coalesce(prior.n, 0) >= CASE WHEN au.id IS NULL THEN ${p(limits.default)}::int ELSE ${p(limits.withAuthorization)}::int END THEN 'max_months_reached'`);
      }
      if (loads) clauses.push(`WHEN coalesce(prior.n, 0) >= ${p(loads)}::int THEN 'loads_complete'`);
      limitCase = clauses.join('\n');
    }
    const target = await this.lineTarget(tx, program);
    const rows = await tx.query(
      `WITH cand AS MATERIALIZED (
         SELECT b.id AS beneficiary_id, i.id AS instrument_id, i.account_id,
                ${amount} AS amount, ${beneficiaryAmount} AS beneficiary_amount, ${insurerAmount} AS insurer_amount,
                CASE
                  WHEN i.account_id IS NULL THEN ${target.missing}
                  WHEN b.incorporated_on > $3::date THEN 'not_yet_incorporated'
                  ${excludedCase}
                  WHEN i.expires_at IS NOT NULL AND i.expires_at <= $4::timestamptz THEN 'instrument_expired'
                  WHEN ${amount} IS NULL OR ${amount} <= 0 THEN ${noAmount}
                  ${limitCase}
                END AS reason
           FROM beneficiaries b
           ${target.join}
           ${priorJoin}
          WHERE b.program_id = $2 AND b.status = 'active'),
       ins AS (
         INSERT INTO cycle_lines (cycle_id, line_no, beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount)
         SELECT $1, row_number() OVER (ORDER BY beneficiary_id), beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount
           FROM cand WHERE reason IS NULL
         RETURNING amount)
       SELECT (SELECT count(*)::int FROM ins) AS count, (SELECT coalesce(sum(amount), 0)::text FROM ins) AS total,
              (SELECT coalesce(jsonb_object_agg(reason, n), '{}') FROM (SELECT reason, count(*)::int AS n FROM cand WHERE reason IS NOT NULL GROUP BY reason) r) AS exclusions`,
      params,
    );
    return rows[0];
  }

  /**
   * Where a deposit line goes and why a beneficiary has none, as SQL for the draft (a LEFT JOIN
   * aliased `i` with `id`, `account_id`, `expires_at`): the latest active instrument of
   * the program (else `no_active_instrument`), or, for programs paid through a bank, the
   * beneficiary's payable (else `missing_bank_account`; docs/payouts.md).
   */
  private async lineTarget(tx: Queryable, program: ProgramRow): Promise<{ join: string; missing: string }> {
    if (isBankPaid(program)) return this.payouts.depositTarget(tx, program);
    return {
      join: `LEFT JOIN LATERAL (
               SELECT i.id, i.account_id, i.expires_at FROM instruments i
                WHERE i.beneficiary_id = b.id AND i.program_id = b.program_id AND i.status = 'active'
                ORDER BY i.issued_at DESC, i.id LIMIT 1) i ON true`,
      missing: `'no_active_instrument'`,
    };
  }

  /**
   * Grant tranches: for each active grant the next tranche of its plan, released only when the
   * previous tranche's proof of spending was accepted (PROFACE: comprobación before the next
   * ministración). A line draws from the grant's award reserve (grant:<id>:award), where the
   * award put its money; a grant awarded before reserves existed draws from the cycle's commitment.
   */
  private async insertTrancheLines(
    tx: Queryable,
    cycleId: string,
    program: ProgramRow,
    payDate: string,
  ): Promise<{ count: number; total: string; exclusions: Record<string, number> }> {
    const due: Record<string, string | null> = {};
    program.rules.tranchePlan!.forEach((t, i) => {
      due[String(i + 1)] = proofDueOn(
        { trancheNo: i + 1, amount: '0', proofDueBusinessDays: t.proofDueBusinessDays ?? null, proofDueCalendarDays: t.proofDueCalendarDays ?? null },
        payDate,
      );
    });
    const rows = await tx.query(
      `WITH cand AS MATERIALIZED (
         SELECT g.beneficiary_id, g.id AS grant_id, g.account_id, g.award_account_id AS source_account_id, nx.n AS tranche_no,
                (g.plan -> (nx.n - 1) ->> 'amount')::numeric AS amount,
                ($3::jsonb ->> nx.n::text)::date AS proof_due_on,
                CASE
                  WHEN nx.n > jsonb_array_length(g.plan) THEN 'plan_complete'
                  WHEN nx.n > 1 AND NOT EXISTS (SELECT 1 FROM grant_tranches t WHERE t.grant_id = g.id AND t.tranche_no = nx.n - 1 AND t.status = 'proven')
                    THEN 'awaiting_proof'
                  WHEN EXISTS (SELECT 1 FROM cycle_lines l JOIN disbursement_cycles c ON c.id = l.cycle_id
                                WHERE l.grant_id = g.id AND l.tranche_no = nx.n AND c.status <> 'cancelled'
                                  AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x WHERE x.cycle_id = l.cycle_id AND x.line_no = l.line_no))
                    THEN 'tranche_in_another_cycle'
                END AS reason
           FROM grants g
           JOIN beneficiaries b ON b.id = g.beneficiary_id AND b.status = 'active'
           CROSS JOIN LATERAL (SELECT coalesce(max(t.tranche_no), 0) + 1 AS n FROM grant_tranches t WHERE t.grant_id = g.id) nx
          WHERE g.program_id = $2 AND g.status = 'active'),
       ins AS (
         INSERT INTO cycle_lines (cycle_id, line_no, beneficiary_id, grant_id, tranche_no, proof_due_on, account_id, source_account_id, amount, beneficiary_amount)
         SELECT $1, row_number() OVER (ORDER BY beneficiary_id), beneficiary_id, grant_id, tranche_no, proof_due_on, account_id, source_account_id, amount, amount
           FROM cand WHERE reason IS NULL
         RETURNING amount)
       SELECT (SELECT count(*)::int FROM ins) AS count, (SELECT coalesce(sum(amount), 0)::text FROM ins) AS total,
              (SELECT coalesce(jsonb_object_agg(reason, n), '{}') FROM (SELECT reason, count(*)::int AS n FROM cand WHERE reason IS NOT NULL GROUP BY reason) r) AS exclusions`,
      [cycleId, program.id, JSON.stringify(due)],
    );
    return rows[0];
  }

  async find(cycleId: string, q: Queryable = this.db, lock = false): Promise<CycleRow> {
    const rows = await q.query(`SELECT ${CYCLE_COLUMNS} FROM disbursement_cycles WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [cycleId]);
    if (!rows[0]) throw problems.notFound('cycle');
    return rows[0];
  }

  /**
   * Maker-checker approval: the preparer cannot approve; the control total moves from the
   * program budget to the cycle's commitment account in one guarded entry, so two racing cycles
   * can never both draw the same money (the budget's no-negative CHECK refuses the loser).
   */
  async approve(cycleId: string, actor: Actor): Promise<CycleRow> {
    const cycle = await withTransaction(this.db, async (tx) => {
      const c = await this.find(cycleId, tx, true);
      if (c.status !== 'draft') throw new ApiProblem(409, 'invalid_cycle_state', `the cycle is ${c.status}; only a draft can be approved`);
      if (c.preparedByUserId && actor.userId && c.preparedByUserId === actor.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who prepared the cycle cannot approve it');
      }
      const now = this.clock.now();
      let commitmentAccountId: string | null = null;
      let commitmentEntryId: string | null = null;
      // Lines that draw from an account of their own (a grant's award reserve) need no commitment.
      const total = await this.commitTotal(c.id, tx);
      if (total.gt(0)) {
        const available = (await this.ledger.balance(c.budgetAccountId, tx)).available;
        if (total.gt(available)) throw insufficientBudget(total, available);
        const commitment = await this.ledger.ensureAccount(
          {
            code: `cycle:${c.id}:commitment`,
            name: `cycle ${c.period} ${c.kind} commitment`,
            category: 'cycle_commitment',
            programId: c.programId,
            ownerType: 'cycle',
            ownerId: c.id,
            currency: c.currency,
            noNegativeBalance: true,
          },
          tx,
        );
        commitmentAccountId = commitment.id;
        try {
          const posted = await this.ledger.post(
            {
              kind: 'cycle_commitment',
              idempotencyKey: `cycle:${c.id}:commitment`,
              effectiveAt: now,
              description: `commitment of cycle ${c.period} (${c.kind})`,
              metadata: { cycleId: c.id, period: c.period },
              createdBy: actor.name,
              postings: [
                { accountId: c.budgetAccountId, side: 'debit', amount: total },
                { accountId: commitment.id, side: 'credit', amount: total },
              ],
            },
            tx,
          );
          commitmentEntryId = posted.entryId;
        } catch (error) {
          if (isNoNegativeViolation(error)) throw insufficientBudget(total, null);
          throw error;
        }
      }
      await tx.query(
        `UPDATE disbursement_cycles SET status = 'approved', approved_by = $2, approved_by_user_id = $3, approved_at = $4,
                commitment_account_id = $5, commitment_entry_id = $6
          WHERE id = $1`,
        [c.id, actor.name, actor.userId, now, commitmentAccountId, commitmentEntryId],
      );
      return this.find(c.id, tx);
    });
    // The approval is committed; if Redis is down now, the scheduler tick re-queues the start job.
    await this.enqueueStart(cycle).catch((error: unknown) => this.log.warn({ err: error, cycleId: cycle.id }, 'start job not queued yet'));
    return cycle;
  }

  /** What an approval commits from the budget: the lines without a source account of their own. */
  private async commitTotal(cycleId: string, q: Queryable): Promise<Decimal> {
    const [r] = await q.query(`SELECT coalesce(sum(amount), 0)::text AS total FROM cycle_lines WHERE cycle_id = $1 AND source_account_id IS NULL`, [cycleId]);
    return money(r.total);
  }

  /** Queues the start of an approved cycle at scheduledFor (now if absent or past); the job id makes it idempotent. */
  async enqueueStart(cycle: Pick<CycleRow, 'id' | 'scheduledFor'>): Promise<void> {
    const delay = startDelayMs(cycle.scheduledFor ? new Date(cycle.scheduledFor) : null, this.clock.now());
    await this.queue.add('start', { cycleId: cycle.id }, { jobId: jobIds.start(cycle.id), delay });
  }

  /** Cancels a draft or an approved cycle; an approved one returns its commitment to the budget. */
  async cancel(cycleId: string, actor: Actor, reason: string | null = null): Promise<CycleRow> {
    const cycle = await withTransaction(this.db, async (tx) => {
      const c = await this.find(cycleId, tx, true);
      if (c.status !== 'draft' && c.status !== 'approved') {
        throw new ApiProblem(409, 'cycle_not_cancellable', `the cycle is ${c.status}; only draft or approved cycles can be cancelled`);
      }
      const now = this.clock.now();
      const releaseEntryId = c.status === 'approved' ? await this.releaseCommitment(tx, c, now, actor.name) : null;
      await tx.query(
        `UPDATE disbursement_cycles SET status = 'cancelled', cancelled_by = $2, cancelled_at = $3, release_entry_id = $4, cancel_reason = $5 WHERE id = $1`,
        [c.id, actor.name, now, releaseEntryId, reason],
      );
      return this.find(c.id, tx);
    });
    await this.queue.remove(jobIds.start(cycle.id)).catch(() => undefined);
    return cycle;
  }

  /** Returns whatever is left on the commitment to the budget (one entry, idempotent). */
  private async releaseCommitment(tx: Queryable, c: CycleRow, now: Date, actor: string): Promise<string | null> {
    if (!c.commitmentAccountId) return null;
    const left = (await this.ledger.balance(c.commitmentAccountId, tx)).posted;
    if (left.lte(0)) return null;
    const posted = await this.ledger.post(
      {
        kind: 'cycle_release',
        idempotencyKey: `cycle:${c.id}:release`,
        effectiveAt: now,
        description: `unposted remainder of cycle ${c.period} (${c.kind}) back to the budget`,
        metadata: { cycleId: c.id, period: c.period },
        createdBy: actor,
        postings: [
          { accountId: c.commitmentAccountId, side: 'debit', amount: left },
          { accountId: c.budgetAccountId, side: 'credit', amount: left },
        ],
      },
      tx,
    );
    return posted.entryId;
  }

  /**
   * Start job: approved → running (the same guarded UPDATE as cancel, so exactly one wins), then
   * one BullMQ flow: a parent `finish` job and a child `chunk` job per chunk, deterministic ids.
   */
  async start(cycleId: string): Promise<'started' | 'skipped'> {
    const rows = await this.db.query(
      `WITH u AS (UPDATE disbursement_cycles SET status = 'running', started_at = coalesce(started_at, $2)
                   WHERE id = $1 AND status IN ('approved', 'running') RETURNING *)
       SELECT ${CYCLE_COLUMNS} FROM u`,
      [cycleId, this.clock.now()],
    );
    const c: CycleRow | undefined = rows[0];
    if (!c) return 'skipped';
    if (c.controlCount === 0) {
      await this.finish(c.id);
      return 'started';
    }
    await this.flow.add({
      name: 'finish',
      queueName: QUEUES.cycles,
      data: { cycleId: c.id },
      opts: { jobId: jobIds.parent(c.id) },
      children: chunkRanges(c.controlCount, c.chunkSize).map((r) => ({
        name: 'chunk',
        queueName: QUEUES.cycles,
        data: { cycleId: c.id, ...r },
        // A chunk that keeps failing does not block the cycle: finish turns its lines into exceptions.
        opts: { jobId: jobIds.chunk(c.id, r.chunk), ignoreDependencyOnFailure: true },
      })),
    });
    return 'started';
  }

  /** Posts lines from..to of a running cycle (one SQL call; see cycle_post_chunk in the migration). */
  async postChunk(cycleId: string, from: number, to: number): Promise<{ posted: number; postedTotal: string; exceptions: number; exceptionsTotal: string }> {
    const rows = await this.db.query(
      `SELECT posted, posted_total::text AS "postedTotal", exceptions, exceptions_total::text AS "exceptionsTotal",
              (SELECT entry_kind FROM disbursement_cycles WHERE id = $1) AS "entryKind"
         FROM cycle_post_chunk($1, $2, $3, $4)`,
      [cycleId, from, to, this.clock.now()],
    );
    const { entryKind, ...result } = rows[0];
    // monedero_cycle_lines_posted_total{kind}: kind is the entry kind (cycle_deposit, cycle_voucher_load, cycle_tranche).
    if (result.posted > 0) this.metrics?.cycleLinesPosted.inc({ kind: entryKind }, result.posted);
    return result;
  }

  /**
   * Parent job: once every chunk ran, lines still pending (a chunk that failed all its attempts)
   * become exceptions, the unposted remainder returns to the budget and the status is final.
   */
  async finish(cycleId: string): Promise<CycleRow> {
    return this.db.transaction(async (tx) => {
      const head = await this.find(cycleId, tx);
      // Wait for any chunk still in flight (a zombie worker): take every chunk lock, in order.
      await tx.query(
        `SELECT count(pg_advisory_xact_lock(hashtext('cycle-chunk'), hashtext($1 || ':' || f))) FROM generate_series(1, $2::int, $3::int) f`,
        [head.id, head.controlCount, head.chunkSize],
      );
      const c = await this.find(cycleId, tx, true);
      if (c.status !== 'running') return c;
      const now = this.clock.now();
      if (c.postedCount + c.exceptionCount < c.controlCount) {
        await tx.query(
          `WITH x AS (
             INSERT INTO cycle_line_exceptions (cycle_id, line_no, beneficiary_id, reason, amount, created_at)
             SELECT l.cycle_id, l.line_no, l.beneficiary_id, 'not_posted', l.amount, $2 FROM cycle_lines l
              WHERE l.cycle_id = $1
                AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = 'cycle:' || $1 || ':line:' || l.beneficiary_id || coalesce(':' || l.owed_period, ''))
                AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions e WHERE e.cycle_id = l.cycle_id AND e.line_no = l.line_no)
             RETURNING amount)
           UPDATE disbursement_cycles SET exception_count = exception_count + (SELECT count(*) FROM x),
                  exception_total = exception_total + (SELECT coalesce(sum(amount), 0) FROM x)
            WHERE id = $1`,
          [c.id, now],
        );
      }
      const done = await this.find(cycleId, tx);
      if (done.postedCount + done.exceptionCount !== done.controlCount || !money(done.postedTotal).plus(money(done.exceptionTotal)).eq(money(done.controlTotal))) {
        throw new Error(`cycle ${c.id}: posted + exceptions do not match the control totals`);
      }
      if (done.commitmentAccountId) {
        const left = (await this.ledger.balance(done.commitmentAccountId, tx)).posted;
        const [x] = await tx.query(
          `SELECT coalesce(sum(x.amount), 0)::text AS total FROM cycle_line_exceptions x JOIN cycle_lines l USING (cycle_id, line_no)
            WHERE x.cycle_id = $1 AND l.source_account_id IS NULL`,
          [c.id],
        );
        if (!left.eq(money(x.total))) throw new Error(`cycle ${c.id}: commitment remainder ${left.toFixed(2)} ≠ exceptions ${x.total} of the committed lines`);
      }
      const releaseEntryId = await this.releaseCommitment(tx, done, now, 'system:cycles');
      await tx.query(`UPDATE disbursement_cycles SET status = $2, completed_at = $3, release_entry_id = $4 WHERE id = $1`, [
        c.id,
        finalStatus(done.exceptionCount),
        now,
        releaseEntryId,
      ]);
      this.log.log({ cycleId: c.id, posted: done.postedCount, exceptions: done.exceptionCount }, 'cycle finished');
      return this.find(c.id, tx);
    });
  }

  /**
   * A program's cycles, latest period first (then newest), one query for the page (the console's
   * cycle list). Keyset on (period, created_at, id), all descending; the index
   * disbursement_cycles_program_page serves it.
   */
  async listForProgram(programId: string, q: { status?: CycleStatus; limit: number; cursor?: string }) {
    const after = decodeCursor(q.cursor, ['text', 'timestamp', 'uuid'] as const);
    const exists = await this.db.query(`SELECT 1 FROM programs WHERE id = $1`, [programId]);
    if (!exists[0]) throw problems.notFound('program');
    const rows: Array<CycleRow & { cursorAt: string }> = await this.db.query(
      `SELECT ${CYCLE_COLUMNS}, created_at::text AS "cursorAt"
         FROM disbursement_cycles
        WHERE program_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::text IS NULL OR (period, created_at, id) < ($3::text, $4::timestamptz, $5::uuid))
        ORDER BY period DESC, created_at DESC, id DESC
        LIMIT $6`,
      [programId, q.status ?? null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, q.limit + 1],
    );
    return pageOf(rows, q.limit, (r) => [r.period, r.cursorAt, r.id], cycleView);
  }

  /**
   * GET /v1/cycles/{id}/lines: one line per beneficiary with its outcome, keyset on the line
   * number, filtered on the server by outcome (`status`) and by folio / CURP / name (`q`), with the
   * number of lines that match (`total`). Names only for roles that may read the padrón.
   */
  async lines(cycleId: string, q: LinesFilter & { limit: number; cursor?: string }, viewer: LinesViewer) {
    const c = await this.find(cycleId);
    const after = Number(decodeCursor(q.cursor, ['int'] as const)?.[0] ?? 0);
    const search = viewerSearch(q.q, viewer);
    const rows = await this.db.query(linesSql(`LIMIT $8`), [...linesParams(cycleId, q.status, search, viewer), after, q.limit + 1]);
    const total = search ? await this.countLines(cycleId, q.status, search, viewer) : countByStatus(c, q.status ?? null);
    return { ...pageOf(rows as LineRow[], q.limit, (r) => [r.lineNo], lineView), total };
  }

  /** The lines that match, as CSV rows in Spanish (header first), read in keyset pages of 2,000. */
  async *linesCsv(cycleId: string, q: LinesFilter, viewer: LinesViewer): AsyncGenerator<CsvRow> {
    const search = viewerSearch(q.q, viewer);
    yield linesCsvHeader(viewer.withNames);
    let after = 0;
    for (;;) {
      const rows: LineRow[] = await this.db.query(linesSql(`LIMIT 2000`), [...linesParams(cycleId, q.status, search, viewer), after]);
      for (const r of rows) {
        yield [r.lineNo, r.folio, ...(viewer.withNames ? [r.name ?? ''] : []), formatMoney(r.amount), lineStatusEs(r.status), exceptionReasonEs(r.exceptionReason), r.journalEntryId ?? ''];
      }
      if (rows.length < 2000) return;
      after = rows[rows.length - 1].lineNo;
    }
  }

  private async countLines(cycleId: string, status: LineStatus | undefined, search: LineSearch | null, viewer: LinesViewer): Promise<number> {
    const [r] = await this.db.query(`SELECT count(*)::int AS n FROM (${linesSql('')}) t`, [...linesParams(cycleId, status, search, viewer), 0]);
    return r.n;
  }

  /** Authorisation record allowing months beyond maxMonths.default (Seguro: up to 18). */
  async authorizeExtension(beneficiaryId: string, input: { reference: string; note?: string }, actor: Actor) {
    const b = await this.db.query(`SELECT id, program_id AS "programId" FROM beneficiaries WHERE id = $1`, [beneficiaryId]);
    if (!b[0]) throw problems.notFound('beneficiary');
    const program = await this.findProgram(b[0].programId);
    if (!program.rules.maxMonths?.withAuthorization) {
      throw new ApiProblem(422, 'extension_not_allowed', 'this program has no extension of its maximum months');
    }
    const rows = await this.db.query(
      `INSERT INTO cycle_extension_authorizations (program_id, beneficiary_id, reference, note, authorized_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (program_id, beneficiary_id) DO NOTHING
       RETURNING id, program_id AS "programId", beneficiary_id AS "beneficiaryId", reference, note, authorized_by AS "authorizedBy", created_at AS "createdAt"`,
      [b[0].programId, beneficiaryId, input.reference, input.note ?? null, actor.name, this.clock.now()],
    );
    if (!rows[0]) throw new ApiProblem(409, 'authorization_exists', 'this beneficiary already has an extension authorisation');
    return { ...rows[0], maxMonths: program.rules.maxMonths.withAuthorization };
  }

  /**
   * Scheduler tick (Job Scheduler `cycle-drafts`): for monthly programs, makes the draft of the
   * next payment `leadDays` ahead of its payment date (design: late enough that recent altas are
   * in it, early enough to approve), and re-queues approved cycles whose start job was lost.
   */
  async createScheduledDrafts(leadDays = this.config.CYCLE_DRAFT_LEAD_DAYS, onlyPrograms: string[] | null = null): Promise<string[]> {
    const now = this.clock.now();
    const programs: Array<{ id: string; timeZone: string; fiscalYear: number }> = await this.db.query(
      `SELECT id, time_zone AS "timeZone", fiscal_year AS "fiscalYear" FROM programs
        WHERE rules -> 'schedule' ->> 'frequency' = 'monthly' AND ($1::uuid[] IS NULL OR id = ANY ($1::uuid[]))`,
      [onlyPrograms],
    );
    const created: string[] = [];
    for (const p of programs) {
      const program = await this.findProgram(p.id).catch(() => null);
      if (!program || program.rules.schedule?.frequency !== 'monthly') continue;
      const today = businessDate(now, p.timeZone);
      let period = periodOf(today);
      if (paymentDate(program.rules, period) < today) period = nextPeriod(period);
      const payDate = paymentDate(program.rules, period);
      const daysAhead = (Date.parse(`${payDate}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000;
      if (daysAhead > leadDays || Number(period.slice(0, 4)) !== p.fiscalYear) continue;
      try {
        const c = await this.createDraft(
          p.id,
          { period, kind: 'deposit', scheduledFor: startOfBusinessDate(payDate, p.timeZone).toISOString() },
          { userId: null, name: 'system:scheduler' },
        );
        created.push(c.id);
      } catch (error) {
        if (!(error instanceof ApiProblem && error.code === 'cycle_exists')) throw error;
      }
    }
    const approved: Array<{ id: string; scheduledFor: Date | null }> = await this.db.query(
      `SELECT id, scheduled_for AS "scheduledFor" FROM disbursement_cycles WHERE status = 'approved' AND ($1::uuid[] IS NULL OR program_id = ANY ($1::uuid[]))`,
      [onlyPrograms],
    );
    for (const c of approved) await this.enqueueStart(c);
    return created;
  }
}

function insufficientBudget(total: Decimal, available: Decimal | null): ApiProblem {
  return new ApiProblem(
    422,
    'insufficient_budget',
    available
      ? `the control total ${formatMoney(total)} exceeds the available budget ${formatMoney(available)}`
      : `the control total ${formatMoney(total)} exceeds the available budget`,
  );
}

export function cycleView(c: CycleRow) {
  return {
    id: c.id,
    programId: c.programId,
    kind: c.kind,
    period: c.period,
    loadNumber: c.loadNumber,
    paymentDate: c.paymentDate,
    scheduledFor: c.scheduledFor,
    status: c.status,
    controlCount: c.controlCount,
    controlTotal: formatMoney(c.controlTotal),
    postedCount: c.postedCount,
    postedTotal: formatMoney(c.postedTotal),
    exceptionCount: c.exceptionCount,
    exceptionTotal: formatMoney(c.exceptionTotal),
    exclusions: c.exclusions,
    chunkSize: c.chunkSize,
    chunkCount: Math.ceil(c.controlCount / c.chunkSize),
    commitmentAccountId: c.commitmentAccountId,
    preparedBy: c.preparedBy,
    approvedBy: c.approvedBy,
    approvedAt: c.approvedAt,
    cancelledBy: c.cancelledBy,
    cancelledAt: c.cancelledAt,
    cancelReason: c.cancelReason,
    startedAt: c.startedAt,
    completedAt: c.completedAt,
    createdAt: c.createdAt,
  };
}

export interface LinesFilter {
  status?: LineStatus;
  q?: string;
}

/** Who reads the lines: names (and searching by name) only for roles that read the padrón. */
export interface LinesViewer {
  withNames: boolean;
}

interface LineRow {
  lineNo: number;
  beneficiaryId: string;
  folio: string;
  name: string | null;
  amount: string;
  beneficiaryAmount: string;
  insurerAmount: string;
  status: LineStatus;
  exceptionReason: string | null;
  journalEntryId: string | null;
  /** Arrears lines: the owed period, its load and why it was owed (null on other lines). */
  period: string | null;
  loadNo: number | null;
  reason: string | null;
  [more: string]: unknown;
}

/** The viewer's search: a name search only for those who may read names (the others match folio or CURP). */
function viewerSearch(q: string | undefined, viewer: LinesViewer): LineSearch | null {
  const search = lineSearch(q);
  return search && !viewer.withNames ? { ...search, nameWords: [] } : search;
}

/**
 * The lines of a cycle with their outcome; $1 cycle, $2 status, $3 folio text, $4 CURP, $5 name
 * words, $6 names shown, $7 after this line number. `tail` limits it.
 */
function linesSql(tail: string): string {
  return `SELECT * FROM (
    SELECT l.line_no AS "lineNo", l.beneficiary_id AS "beneficiaryId", b.folio,
           CASE WHEN $6::boolean THEN coalesce(b.legal_name, concat_ws(' ', b.given_names, b.surnames)) END AS name,
           l.instrument_id AS "instrumentId", l.grant_id AS "grantId",
           l.tranche_no AS "trancheNo", l.account_id AS "accountId", l.amount::text AS amount,
           l.beneficiary_amount::text AS "beneficiaryAmount", l.insurer_amount::text AS "insurerAmount",
           CASE WHEN e.id IS NOT NULL THEN 'posted' WHEN x.reason IS NOT NULL THEN 'exception'
                WHEN c.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END AS status,
           x.reason AS "exceptionReason", e.id AS "journalEntryId",
           l.owed_period AS period, l.owed_load AS "loadNo", l.owed_reason AS reason
      FROM cycle_lines l
      JOIN disbursement_cycles c ON c.id = l.cycle_id
      JOIN beneficiaries b ON b.id = l.beneficiary_id
      LEFT JOIN journal_entries e ON e.idempotency_key = 'cycle:' || l.cycle_id || ':line:' || l.beneficiary_id || coalesce(':' || l.owed_period, '')
      LEFT JOIN cycle_line_exceptions x ON x.cycle_id = l.cycle_id AND x.line_no = l.line_no
     WHERE l.cycle_id = $1 AND l.line_no > $7
       AND ($3::text IS NULL
            OR b.folio ILIKE '%' || $3 || '%'
            OR b.curp = $4::text
            OR (cardinality($5::text[]) > 0 AND (SELECT bool_and(concat_ws(' ', b.given_names, b.surnames, b.legal_name) ILIKE '%' || w || '%') FROM unnest($5::text[]) w)))
  ) t
  WHERE ($2::text IS NULL OR t.status = $2)
  ORDER BY t."lineNo" ${tail}`;
}

function linesParams(cycleId: string, status: LineStatus | undefined, search: LineSearch | null, viewer: LinesViewer): unknown[] {
  return [cycleId, status ?? null, search?.folio ?? null, search?.curp ?? null, search?.nameWords ?? [], viewer.withNames];
}

/** Without a search the cycle's own counters say how many lines have each outcome. */
function countByStatus(c: CycleRow, status: LineStatus | null): number {
  const open = c.controlCount - c.postedCount - c.exceptionCount;
  switch (status) {
    case null:
      return c.controlCount;
    case 'posted':
      return c.postedCount;
    case 'exception':
      return c.exceptionCount;
    case 'cancelled':
      return c.status === 'cancelled' ? open : 0;
    case 'pending':
      return c.status === 'cancelled' ? 0 : open;
  }
}

function lineView({ period, loadNo, reason, ...r }: LineRow) {
  return {
    ...r,
    ...(period ? { period, loadNumber: Number(loadNo) || null, reason } : {}),
    amount: formatMoney(r.amount),
    beneficiaryAmount: formatMoney(r.beneficiaryAmount),
    insurerAmount: formatMoney(r.insurerAmount),
  };
}
