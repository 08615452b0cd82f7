import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BeneficiariesService, BeneficiaryRow } from '../beneficiaries/beneficiaries.service';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, Money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { ProgramAccessService } from '../programs/program-access.service';
import { parseProgramRules } from '../programs/parse-rules';
import { ProgramRules } from '../programs/program-rules';
import { Program, ProgramsService } from '../programs/programs.service';
import {
  attendanceAmount,
  attendanceDaysProblem,
  eventAmount,
  eventProblem,
  firstObligationPeriod,
  lastAttendancePeriodPaid,
  ObligationRecord,
  overallStanding,
  periodBefore,
} from './conditional.rules';

/** What a cycle draft needs from the records: amounts per beneficiary, who is left out and why, and the records it claims. */
export interface DraftInputs {
  /** Line amount per beneficiary id (record-based benefits only). */
  amounts: Record<string, string> | null;
  /** Beneficiary id → exclusion reason (suspended, no_amount_for_<attribute>). */
  excluded: Record<string, string>;
  claims: { table: 'beneficiary_attendance' | 'beneficiary_events'; ids: string[]; amounts: string[] } | null;
}

const FREE = `(r.cycle_id IS NULL OR EXISTS (SELECT 1 FROM disbursement_cycles c WHERE c.id = r.cycle_id AND c.status = 'cancelled'))`;

/**
 * Conditional and variable benefits (API.md "Conditional and variable benefits"): attendance,
 * events and obligations recorded per beneficiary by program officers, the standing they give
 * (active, suspended, baja), and what the next cycle draft pays from them. Pure rules are in
 * conditional.rules.ts.
 */
@Injectable()
export class ConditionalService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly beneficiaries: BeneficiariesService,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
  ) {}

  async recordAttendance(beneficiaryId: string, input: { period: string; days: number }, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const { b, program, rules, today } = await this.lockActive(beneficiaryId, staff, m);
      if (rules.benefit.type !== 'per_attendance') throw notRecorded('attendance', program);
      const benefit = rules.benefit;
      const daysProblem = attendanceDaysProblem(input.period, input.days);
      if (daysProblem) throw problems.validation(daysProblem);
      if (input.period > today.slice(0, 7)) throw refused(`${input.period} has not begun`);
      if (input.period < b.incorporatedOn.slice(0, 7)) throw refused(`${input.period} is before her or his incorporation on ${b.incorporatedOn}`);
      const amount = attendanceAmount(benefit, b.attributes, input.days);
      if (!amount.ok) throw refused(amount.reason);
      if (rules.maxMonths) {
        const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM beneficiary_attendance WHERE beneficiary_id = $1 AND days > 0`, [b.id]);
        if (input.days > 0 && n >= rules.maxMonths.default) throw refused(`attendance is paid for at most ${rules.maxMonths.default} months`);
      }
      const id = randomUUID();
      const rows = await m.query(
        `INSERT INTO beneficiary_attendance (id, program_id, beneficiary_id, period, days, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (beneficiary_id, period) DO NOTHING RETURNING id`,
        [id, program.id, b.id, input.period, input.days, `user:${staff.username}`, this.clock.now()],
      );
      if (!rows[0]) throw problems.conflict('record_exists', `attendance for ${input.period} is already recorded`);
      return {
        id, beneficiaryId: b.id, period: input.period, days: input.days, amount: formatMoney(amount.amount),
        paidByCycleOf: periodBefore(input.period, -benefit.lagMonths), recordedBy: `user:${staff.username}`, recordedAt: this.clock.now().toISOString(),
      };
    });
  }

  async recordEvent(beneficiaryId: string, input: { kind: string; occurredOn: string; evidenceRef: string }, staff: StaffPrincipal) {
    if (!isDate(input.occurredOn)) throw problems.validation('occurredOn is not a real date');
    return withTransaction(this.db, async (m) => {
      // The beneficiary row is locked: two events recorded at once are checked one after the other.
      const { b, program, rules, today } = await this.lockActive(beneficiaryId, staff, m);
      if (rules.benefit.type !== 'event') throw notRecorded('events', program);
      if (input.occurredOn > today) throw refused('occurredOn is in the future');
      if (input.occurredOn < b.incorporatedOn) throw refused(`occurredOn is before the incorporation on ${b.incorporatedOn}`);
      const history: Array<{ kind: string; occurredOn: string }> = await m.query(
        `SELECT kind, to_char(occurred_on, 'YYYY-MM-DD') AS "occurredOn" FROM beneficiary_events WHERE beneficiary_id = $1 ORDER BY occurred_on`,
        [b.id],
      );
      const problem = eventProblem(rules.benefit, b.attributes, input, history);
      if (problem) throw refused(problem);
      const amount = eventAmount(rules.benefit.events[input.kind], b.attributes);
      const id = randomUUID();
      await m.query(
        `INSERT INTO beneficiary_events (id, program_id, beneficiary_id, kind, occurred_on, evidence_ref, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, program.id, b.id, input.kind, input.occurredOn, input.evidenceRef, `user:${staff.username}`, this.clock.now()],
      );
      return {
        id, beneficiaryId: b.id, kind: input.kind, occurredOn: input.occurredOn, evidenceRef: input.evidenceRef,
        amount: amount.ok ? formatMoney(amount.amount) : null, recordedBy: `user:${staff.username}`, recordedAt: this.clock.now().toISOString(),
      };
    });
  }

  async recordObligation(beneficiaryId: string, input: { kind: string; period: string; metOn: string }, staff: StaffPrincipal) {
    if (!isDate(input.metOn)) throw problems.validation('metOn is not a real date');
    return withTransaction(this.db, async (m) => {
      const { b, program, rules, today } = await this.lockActive(beneficiaryId, staff, m);
      const rule = rules.obligations?.find((o) => o.kind === input.kind);
      if (!rule) throw notRecorded(`obligation ${input.kind}`, program);
      if (input.metOn > today) throw refused('metOn is in the future');
      if (input.metOn < `${input.period}-01`) throw refused(`metOn is before ${input.period} began`);
      const first = firstObligationPeriod(rule, b.incorporatedOn);
      if (input.period < first) throw refused(`the obligation starts with ${first}`);
      const rows = await m.query(
        `INSERT INTO beneficiary_obligations (id, program_id, beneficiary_id, kind, period, met_on, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (beneficiary_id, kind, period) DO NOTHING RETURNING id`,
        [randomUUID(), program.id, b.id, input.kind, input.period, input.metOn, `user:${staff.username}`, this.clock.now()],
      );
      if (!rows[0]) throw problems.conflict('record_exists', `${input.kind} for ${input.period} is already recorded`);
      const standing = overallStanding(rules.obligations!, b.incorporatedOn, await this.obligationRecords(m, [b.id]).then((r) => r.get(b.id) ?? []), today);
      return { id: rows[0].id, beneficiaryId: b.id, kind: input.kind, period: input.period, metOn: input.metOn, status: standing.status === 'baja' ? 'suspended' : standing.status };
    });
  }

  /**
   * A beneficiary's standing today against the program's obligations: `active`, `suspended`
   * (a period missed or awaiting its cure: no payment), or `inactive` after the baja. A standing
   * of baja not yet applied (it is applied when the next cycle is drafted) reads `suspended`.
   */
  async standing(beneficiaryId: string, staff: StaffPrincipal) {
    const b = await this.beneficiaries.findRow(beneficiaryId);
    if (!b) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(b.programId);
    if (!(await this.access.canSeeIdentity(staff, program))) throw problems.forbidden(`program ${program.code} is confidential and you are not assigned to it`);
    const rules = parseRules(program);
    if (!rules.obligations) throw notRecorded('obligations', program);
    const records = (await this.obligationRecords(this.db, [b.id])).get(b.id) ?? [];
    const today = businessDate(this.clock.now(), program.timeZone);
    const s = overallStanding(rules.obligations, b.incorporatedOn, records, today);
    return {
      beneficiaryId: b.id,
      asOf: today,
      status: b.status === 'inactive' ? 'inactive' : s.status === 'baja' ? 'suspended' : s.status,
      pendingBaja: b.status === 'active' && s.baja ? s.baja : null,
      obligations: s.obligations,
      records: records.map((r) => ({ kind: r.kind, period: r.period, metOn: r.metOn })),
    };
  }

  /**
   * Before a draft (cycles.service.ts): every active beneficiary whose obligations, on the
   * payment date, show `missedInRowForBaja` missed periods in a row gets the baja with the
   * obligation's cause, dated the day after the deadline that made it final (Reinserción R7, Seguro S6).
   */
  async applyObligationBajas(program: { id: string; rules: ProgramRules }, asOf: string): Promise<number> {
    if (!program.rules.obligations) return 0;
    const people: Array<{ id: string; incorporatedOn: string }> = await this.db.query(
      `SELECT id, to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn" FROM beneficiaries WHERE program_id = $1 AND status = 'active'`,
      [program.id],
    );
    const records = await this.obligationRecords(this.db, people.map((p) => p.id));
    let bajas = 0;
    for (const p of people) {
      const s = overallStanding(program.rules.obligations, p.incorporatedOn, records.get(p.id) ?? [], asOf);
      if (!s.baja) continue;
      const done = await this.beneficiaries.deactivateIfActive(
        p.id,
        { cause: s.baja.cause, effectiveDate: s.baja.on, note: `${s.baja.kind}: ${s.obligations.find((o) => o.kind === s.baja!.kind)!.missedInRow} periods missed in a row` },
        'system:obligations',
      );
      if (done) bajas++;
    }
    return bajas;
  }

  /**
   * Inside the draft's transaction: the amount of each beneficiary's line from the records not yet
   * paid (attendance of periods up to lagMonths before the cycle; events up to the payment date),
   * and who is suspended on the payment date by a missed obligation.
   */
  async draftInputs(tx: Queryable, program: { id: string; rules: ProgramRules }, period: string, payDate: string): Promise<DraftInputs> {
    const rules = program.rules;
    const excluded: Record<string, string> = {};
    if (rules.obligations) {
      const people: Array<{ id: string; incorporatedOn: string }> = await tx.query(
        `SELECT id, to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn" FROM beneficiaries WHERE program_id = $1 AND status = 'active'`,
        [program.id],
      );
      const records = await this.obligationRecords(tx, people.map((p) => p.id));
      for (const p of people) {
        if (overallStanding(rules.obligations, p.incorporatedOn, records.get(p.id) ?? [], payDate).status !== 'active') excluded[p.id] = 'suspended';
      }
    }
    const b = rules.benefit;
    if (b.type !== 'per_attendance' && b.type !== 'event') return { amounts: null, excluded, claims: null };

    const table = b.type === 'per_attendance' ? 'beneficiary_attendance' : 'beneficiary_events';
    const rows: Array<{ id: string; beneficiaryId: string; attributes: Record<string, unknown>; days: number | null; kind: string | null }> =
      b.type === 'per_attendance'
        ? await tx.query(
            `SELECT r.id, r.beneficiary_id AS "beneficiaryId", bn.attributes, r.days, NULL AS kind
               FROM beneficiary_attendance r JOIN beneficiaries bn ON bn.id = r.beneficiary_id
              WHERE r.program_id = $1 AND bn.status = 'active' AND r.period <= $2 AND ${FREE} ORDER BY r.period, r.id`,
            [program.id, lastAttendancePeriodPaid(b, period)],
          )
        : await tx.query(
            `SELECT r.id, r.beneficiary_id AS "beneficiaryId", bn.attributes, NULL::int AS days, r.kind
               FROM beneficiary_events r JOIN beneficiaries bn ON bn.id = r.beneficiary_id
              WHERE r.program_id = $1 AND bn.status = 'active' AND r.occurred_on <= $2::date AND ${FREE} ORDER BY r.occurred_on, r.id`,
            [program.id, payDate],
          );
    const totals = new Map<string, Decimal>();
    const ids: string[] = [];
    const amounts: string[] = [];
    for (const r of rows) {
      const a = b.type === 'per_attendance' ? attendanceAmount(b, r.attributes, r.days!) : eventAmount(b.events[r.kind!], r.attributes);
      if (!a.ok) {
        excluded[r.beneficiaryId] ??= 'no_amount_for_record';
        continue;
      }
      totals.set(r.beneficiaryId, (totals.get(r.beneficiaryId) ?? new Money(0)).plus(a.amount));
      ids.push(r.id);
      amounts.push(formatMoney(a.amount));
    }
    return {
      amounts: Object.fromEntries([...totals].map(([id, t]) => [id, formatMoney(t)])),
      excluded,
      claims: { table, ids, amounts },
    };
  }

  /** The draft claims the records its lines pay (only those of beneficiaries who got a line). */
  async claim(tx: Queryable, cycleId: string, claims: DraftInputs['claims']): Promise<void> {
    if (!claims || claims.ids.length === 0) return;
    await tx.query(
      `UPDATE ${claims.table} r SET cycle_id = $1, amount = x.amount
         FROM unnest($2::uuid[], $3::numeric[]) AS x(id, amount)
        WHERE r.id = x.id AND EXISTS (SELECT 1 FROM cycle_lines l WHERE l.cycle_id = $1 AND l.beneficiary_id = r.beneficiary_id)`,
      [cycleId, claims.ids, claims.amounts],
    );
  }

  private async obligationRecords(q: Queryable, beneficiaryIds: string[]): Promise<Map<string, Array<ObligationRecord & { kind: string }>>> {
    const out = new Map<string, Array<ObligationRecord & { kind: string }>>();
    if (beneficiaryIds.length === 0) return out;
    const rows: Array<{ beneficiaryId: string; kind: string; period: string; metOn: string }> = await q.query(
      `SELECT beneficiary_id AS "beneficiaryId", kind, period, to_char(met_on, 'YYYY-MM-DD') AS "metOn"
         FROM beneficiary_obligations WHERE beneficiary_id = ANY($1::uuid[]) ORDER BY period`,
      [beneficiaryIds],
    );
    for (const r of rows) {
      const list = out.get(r.beneficiaryId) ?? [];
      list.push({ kind: r.kind, period: r.period, metOn: r.metOn });
      out.set(r.beneficiaryId, list);
    }
    return out;
  }

  private async lockActive(id: string, staff: StaffPrincipal, m: Queryable): Promise<{ b: BeneficiaryRow; program: Program; rules: ProgramRules; today: string }> {
    const b = await this.beneficiaries.findRow(id, m, true);
    if (!b) throw problems.notFound('beneficiary');
    const program = await this.programs.getById(b.programId, m);
    await this.access.assertMayManage(staff, program, m);
    if (b.status !== 'active') throw problems.conflict('invalid_status_transition', 'the beneficiary is inactive');
    return { b, program, rules: parseRules(program), today: businessDate(this.clock.now(), program.timeZone) };
  }
}

function parseRules(program: Program): ProgramRules {
  return parseProgramRules(program.rules);
}

function refused(detail: string): ApiProblem {
  return new ApiProblem(422, 'record_not_allowed', detail);
}

function notRecorded(what: string, program: Program): ApiProblem {
  return new ApiProblem(422, 'record_not_supported', `program ${program.code} does not pay on ${what}`);
}
