import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { businessDate, startOfBusinessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney } from '../common/money';
import { decodeCursor, pageOf } from '../common/pagination';
import { problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { owablePeriods, OwablePeriod } from './arrears.rules';
import { lineAmountRule, monthLimits, PERIOD_PATTERN, periodOf } from './cycles.rules';
import type { ProgramRow } from './cycles.service';
import { lineAmountSql } from './line-amount.sql';

/**
 * Money owed (docs/disbursements.md "Money owed"): for each period a program paid with a deposit
 * cycle, the active beneficiaries incorporated by its cut-off (P20) whose period has no claim in
 * paid_periods for the program's lineage, with the reason it was not paid. One SQL builder serves
 * the list (GET /v1/programs/{id}/arrears) and the draft of an arrears cycle, so both say the same.
 */
@Injectable()
export class ArrearsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** The periods that can be owed up to `upTo` (deposit cycles that ran to the end). */
  async periods(program: ProgramRow, upTo: string, q: Queryable = this.db): Promise<OwablePeriod[]> {
    const cycles = await q.query(
      `SELECT id AS "cycleId", period, load_number AS "loadNumber", to_char(payment_date, 'YYYY-MM-DD') AS "paymentDate", status
         FROM disbursement_cycles WHERE program_id = $1 AND kind = 'deposit' AND status <> 'cancelled'`,
      [program.id],
    );
    return owablePeriods(program.rules, cycles, upTo);
  }

  /**
   * SQL of the owed rows (CTE body), one per beneficiary and period, with `params` filled.
   * With `target` (the draft), the instrument or payable to credit is joined as `i`.
   */
  owedSql(
    program: ProgramRow & { lineage: string },
    periods: OwablePeriod[],
    params: unknown[],
    target?: { join: string },
  ): string {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const now = this.clock.now();
    const per = `SELECT * FROM unnest(${p(periods.map((x) => x.period))}::text[], ${p(periods.map((x) => x.loadNo))}::int[], ${p(periods.map((x) => x.cutoff))}::date[],
                   ${p(periods.map((x) => startOfBusinessDate(x.paymentDate, program.timeZone)))}::timestamptz[], ${p(periods.map((x) => x.cycleId))}::uuid[])
                   AS per(period, load_no, cutoff, pay_instant, cycle_id)`;
    const programId = p(program.id);
    const lineage = p(program.lineage);
    const nowP = p(now);
    const voucherLoads = p(program.rules.schedule?.frequency === 'loads');
    const { amount, beneficiaryAmount, insurerAmount, noAmount } = lineAmountSql(lineAmountRule(program.rules), p);
    const limits = monthLimits(program.rules);
    const cap = limits ? `CASE WHEN au.id IS NULL THEN ${p(limits.default)}::int ELSE ${p(limits.withAuthorization)}::int END` : 'NULL::int';
    return `
    SELECT * FROM (
      SELECT w.*, row_number() OVER (PARTITION BY w.beneficiary_id ORDER BY w.period, w.load_no) AS rank FROM (
      SELECT b.id AS beneficiary_id, b.folio, per.period, per.load_no, per.cycle_id,
             ${amount} AS amount, ${beneficiaryAmount} AS beneficiary_amount, ${insurerAmount} AS insurer_amount, ${noAmount} AS no_amount,
             -- Why it was not paid (design: no instrument status history is kept, so the deposit line's
             -- exception and the delivery / replacement dates decide; a card delivered in time that was
             -- not paid can only have been blocked when the cycle was made).
             CASE
               WHEN dx.reason = 'instrument_replaced'
                 OR EXISTS (SELECT 1 FROM instruments r WHERE r.beneficiary_id = b.id AND r.replaces_id IS NOT NULL
                               AND r.issued_at <= per.pay_instant AND (r.delivered_at IS NULL OR r.delivered_at > per.pay_instant))
                 THEN 'instrument_replaced'
               WHEN dx.reason = 'instrument_blocked' THEN 'instrument_blocked'
               WHEN NOT EXISTS (SELECT 1 FROM instruments d WHERE d.beneficiary_id = b.id AND d.delivered_at <= per.pay_instant)
                 THEN CASE WHEN ${voucherLoads}::boolean THEN 'late_voucher' ELSE 'instrument_not_delivered' END
               ELSE 'instrument_blocked'
             END AS reason,
             pend.cycle_id AS pending_cycle_id, coalesce(paid.n, 0) AS paid_n, ${cap} AS cap
             ${target ? ', i.id AS instrument_id, i.account_id, i.expires_at' : ''}
        FROM (${per}) per
        JOIN beneficiaries b ON b.program_id = ${programId} AND b.status = 'active' AND b.incorporated_on <= per.cutoff
        LEFT JOIN LATERAL (SELECT x.reason FROM cycle_lines l JOIN cycle_line_exceptions x ON x.cycle_id = l.cycle_id AND x.line_no = l.line_no
                            WHERE l.cycle_id = per.cycle_id AND l.beneficiary_id = b.id LIMIT 1) dx ON true
        LEFT JOIN LATERAL (SELECT count(*)::int AS n FROM paid_periods pp
                            WHERE pp.lineage = ${lineage} AND pp.beneficiary_key = coalesce(b.curp, b.rfc, b.id::text)) paid ON true
        LEFT JOIN cycle_extension_authorizations au ON au.program_id = b.program_id AND au.beneficiary_id = b.id
        LEFT JOIN LATERAL (SELECT l2.cycle_id FROM cycle_lines l2 JOIN disbursement_cycles c2 ON c2.id = l2.cycle_id
                            WHERE l2.beneficiary_id = b.id AND l2.owed_period = per.period AND l2.owed_load = per.load_no
                              AND c2.kind = 'arrears' AND c2.status IN ('draft', 'approved', 'running')
                              AND NOT EXISTS (SELECT 1 FROM cycle_line_exceptions x2 WHERE x2.cycle_id = l2.cycle_id AND x2.line_no = l2.line_no)
                            LIMIT 1) pend ON true
        ${target?.join ?? ''}
       WHERE NOT EXISTS (SELECT 1 FROM paid_periods pp WHERE pp.lineage = ${lineage} AND pp.beneficiary_key = coalesce(b.curp, b.rfc, b.id::text)
                            AND pp.period = per.period AND pp.load_no = per.load_no)
         -- Owed until the instrument expires (a voucher: its expiry date), or while none was issued yet.
         AND (NOT EXISTS (SELECT 1 FROM instruments e WHERE e.beneficiary_id = b.id)
              OR EXISTS (SELECT 1 FROM instruments e WHERE e.beneficiary_id = b.id AND e.status <> 'cancelled' AND (e.expires_at IS NULL OR e.expires_at > ${nowP})))
    ) w
    ) r
    -- Never beyond the month cap, counted over the whole lineage (earliest owed periods first).
    WHERE r.cap IS NULL OR r.paid_n + r.rank <= r.cap`;
  }

  /** GET /v1/programs/{id}/arrears: who is owed which period, why and how much; keyset on (beneficiary, period, load). */
  async list(program: ProgramRow & { lineage: string }, q: { upTo?: string; limit: number; cursor?: string }) {
    if (q.upTo !== undefined && !PERIOD_PATTERN.test(q.upTo)) throw problems.validation('upTo must be YYYY-MM');
    const upTo = q.upTo ?? periodOf(businessDate(this.clock.now(), program.timeZone));
    const after = decodeCursor(q.cursor, ['uuid', 'text', 'int'] as const);
    const periods = await this.periods(program, upTo);
    if (!periods.length) return { data: [], nextCursor: null };
    const params: unknown[] = [];
    const owed = this.owedSql(program, periods, params);
    params.push(after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, q.limit + 1);
    const n = params.length;
    const rows: Array<Record<string, string | number | null>> = await this.db.query(
      `SELECT o.beneficiary_id AS "beneficiaryId", o.folio, o.period, o.load_no AS "loadNo", o.reason, o.amount::text AS amount,
              o.no_amount AS "noAmount", o.pending_cycle_id AS "pendingCycleId"
         FROM (${owed}) o
        WHERE $${n - 3}::uuid IS NULL OR (o.beneficiary_id, o.period, o.load_no) > ($${n - 3}::uuid, $${n - 2}::text, $${n - 1}::int)
        ORDER BY o.beneficiary_id, o.period, o.load_no
        LIMIT $${n}`,
      params,
    );
    return pageOf(
      rows,
      q.limit,
      (r) => [r.beneficiaryId as string, r.period as string, r.loadNo as number],
      (r) => ({
        beneficiaryId: r.beneficiaryId,
        folio: r.folio,
        period: r.period,
        loadNumber: r.loadNo === 0 ? null : r.loadNo,
        reason: r.reason,
        amount: r.amount === null ? null : formatMoney(r.amount as string),
        pendingCycleId: r.pendingCycleId,
      }),
    );
  }

  /**
   * Lines of an arrears cycle: every owed period up to the cycle's period whose beneficiary has an
   * instrument (or bank payable) to credit now, one line per period, set-based like a deposit draft.
   */
  async insertLines(
    tx: Queryable,
    cycleId: string,
    program: ProgramRow & { lineage: string },
    upTo: string,
    target: { join: string; missing: string },
  ): Promise<{ count: number; total: string; exclusions: Record<string, number> }> {
    const periods = await this.periods(program, upTo, tx);
    if (!periods.length) return { count: 0, total: '0', exclusions: {} };
    const params: unknown[] = [cycleId];
    const owed = this.owedSql(program, periods, params, target);
    params.push(this.clock.now());
    const rows = await tx.query(
      `WITH cand AS MATERIALIZED (
         SELECT o.*, CASE
                       WHEN o.account_id IS NULL THEN ${target.missing}
                       WHEN o.expires_at IS NOT NULL AND o.expires_at <= $${params.length}::timestamptz THEN 'instrument_expired'
                       WHEN o.amount IS NULL OR o.amount <= 0 THEN o.no_amount
                       WHEN o.pending_cycle_id IS NOT NULL THEN 'in_another_cycle'
                     END AS excluded
           FROM (${owed}) o),
       ins AS (
         INSERT INTO cycle_lines (cycle_id, line_no, beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount, owed_period, owed_load, owed_reason)
         SELECT $1, row_number() OVER (ORDER BY beneficiary_id, period, load_no), beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount,
                period, load_no, reason
           FROM cand WHERE excluded IS NULL
         RETURNING amount)
       SELECT (SELECT count(*)::int FROM ins) AS count, (SELECT coalesce(sum(amount), 0)::text FROM ins) AS total,
              (SELECT coalesce(jsonb_object_agg(excluded, n), '{}') FROM (SELECT excluded, count(*)::int AS n FROM cand WHERE excluded IS NOT NULL GROUP BY excluded) r) AS exclusions`,
      params,
    );
    return rows[0];
  }
}
