import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate, businessDaysBetween, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { decodeCursor, LIST_DEFAULT_LIMIT, pageOf } from '../common/pagination';
import { ApiProblem, problems } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Queryable } from '../database/queryable';
import { returnedRows } from '../database/returning';
import { withTransaction } from '../database/transaction';
import { ProgramAccessService } from '../programs/program-access.service';
import { ProgramsService } from '../programs/programs.service';
import { complaintRulesOf, complaintSchedule, ComplaintStatus, escalationRefusal, isOverdue, Outcome, ReceiptSigner } from './complaints.rules';

interface ComplaintRow {
  id: string;
  folio: string;
  programId: string;
  programCode: string;
  /** The program's time zone, in which the console shows `createdAt`. */
  timeZone: string;
  confidential: boolean;
  beneficiaryId: string | null;
  channel: string;
  subject: string;
  description: string;
  area: string;
  owner: string;
  receivedOn: string;
  steps: Array<{ step: string; businessDays: number; dueOn: string }>;
  deadlineRule: string;
  dueOn: string;
  status: ComplaintStatus;
  answer: string | null;
  outcome: Outcome | null;
  answeredOn: string | null;
  answeredBy: string | null;
  escalatedTo: string | null;
  escalatedOn: string | null;
  receiptSignedBy: ReceiptSigner | null;
  receiptOn: string | null;
  createdAt: Date;
  cursorAt: string;
}

const COLUMNS = `c.id, c.folio, c.program_id AS "programId", p.code AS "programCode", p.time_zone AS "timeZone", p.confidential, c.beneficiary_id AS "beneficiaryId",
  c.channel, c.subject, c.description, c.area, c.owner, to_char(c.received_on, 'YYYY-MM-DD') AS "receivedOn", c.steps,
  c.deadline_rule AS "deadlineRule", to_char(c.due_on, 'YYYY-MM-DD') AS "dueOn", c.status, c.answer, c.outcome,
  to_char(c.answered_on, 'YYYY-MM-DD') AS "answeredOn", c.answered_by AS "answeredBy", c.escalated_to AS "escalatedTo",
  to_char(c.escalated_on, 'YYYY-MM-DD') AS "escalatedOn", c.receipt_signed_by AS "receiptSignedBy", to_char(c.receipt_on, 'YYYY-MM-DD') AS "receiptOn", c.created_at AS "createdAt", c.created_at::text AS "cursorAt"`;

export interface ComplaintInput {
  programId: string;
  channel: string;
  subject: string;
  description: string;
  beneficiaryId?: string;
  area?: string;
}

/**
 * Complaints (docs/complaints.md): intake, the deadline of each step in business days from the
 * program's rules (complaints.rules.ts), the written answer with its commitments, escalation,
 * and the overdue and by-area report. Handled by program officers (assigned ones for a
 * confidential program); auditors read. Every step is a request, so it is in the staff action log.
 */
@Injectable()
export class ComplaintsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Files a complaint once per `intakeKey` (caller + Idempotency-Key): a second request with the
   * key, even one the idempotency record did not stop, answers the complaint already filed.
   */
  async create(input: ComplaintInput, staff: StaffPrincipal, intakeKey: string | null) {
    const program = await this.programs.getById(input.programId);
    const rules = complaintRulesOf(program.code);
    if (!(rules.subjects as readonly string[]).includes(input.subject)) {
      throw problems.validation(`subject must be one of ${rules.subjects.join(', ')} for this program`);
    }
    if (input.beneficiaryId) {
      // A complaint naming a person of a confidential program is taken only by its assigned staff.
      await this.access.assertMayManage(staff, program);
      const [b] = await this.db.query(`SELECT program_id AS "programId" FROM beneficiaries WHERE id = $1`, [input.beneficiaryId]);
      if (!b || b.programId !== program.id) throw problems.notFound('beneficiary of this program');
    }
    const receivedOn = businessDate(this.clock.now(), program.timeZone);
    const schedule = complaintSchedule(receivedOn, rules);
    const [row] = await this.db.query(
      `INSERT INTO complaints (folio, program_id, beneficiary_id, channel, subject, description, area, owner, received_on, steps, deadline_rule, due_on, created_by, created_at, intake_key)
       VALUES ('Q-' || $1 || '-' || lpad(nextval('complaint_folio_seq')::text, 6, '0'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $8, $13, $14)
       ON CONFLICT (intake_key) WHERE intake_key IS NOT NULL DO NOTHING
       RETURNING id, folio`,
      [receivedOn.slice(0, 4), program.id, input.beneficiaryId ?? null, input.channel, input.subject, input.description, input.area ?? rules.firstInstance,
        staff.username, receivedOn, JSON.stringify(schedule.steps), rules.seedId, schedule.dueOn, this.clock.now(), intakeKey],
    );
    if (!row) return this.filed(intakeKey!);
    return { id: row.id as string, folio: row.folio as string, status: 'open' as const, receivedOn, dueOn: schedule.dueOn, steps: schedule.steps, deadlineRule: rules.seedId };
  }

  /** The intake answer of the complaint already filed under `intakeKey`, as it was first given. */
  private async filed(intakeKey: string) {
    const [c] = await this.db.query(
      `SELECT id, folio, to_char(received_on, 'YYYY-MM-DD') AS "receivedOn", to_char(due_on, 'YYYY-MM-DD') AS "dueOn", steps, deadline_rule AS "deadlineRule"
         FROM complaints WHERE intake_key = $1`,
      [intakeKey],
    );
    return { id: c.id as string, folio: c.folio as string, status: 'open' as const, receivedOn: c.receivedOn as string, dueOn: c.dueOn as string, steps: c.steps as Array<{ step: string; businessDays: number; dueOn: string }>, deadlineRule: c.deadlineRule as string };
  }

  async get(id: string, staff: StaffPrincipal) {
    const c = await this.find(id, this.db);
    return this.view(c, await this.commitments([c.id]), staff, this.today(c.timeZone));
  }

  /** P53: the written, reasoned answer (refute, confirm or remedy), with the commitments it makes. */
  async answer(id: string, input: { answer: string; outcome: Outcome; commitments?: Array<{ description: string; dueOn: string }> }, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const c = await this.lockForChange(id, staff, m);
      if (c.status !== 'open') throw problems.conflict('invalid_status_transition', `the complaint is ${c.status}`);
      const today = this.today(c.timeZone);
      for (const k of input.commitments ?? []) if (!isDate(k.dueOn)) throw problems.validation('commitment dueOn is not a real date');
      for (const k of input.commitments ?? []) if (k.dueOn < today) throw problems.validation('a commitment cannot be due before today');
      await m.query(`UPDATE complaints SET status = 'answered', answer = $2, outcome = $3, answered_on = $4, answered_by = $5 WHERE id = $1`, [id, input.answer, input.outcome, today, staff.username]);
      let n = 0;
      for (const k of input.commitments ?? []) {
        await m.query(`INSERT INTO complaint_commitments (complaint_id, commitment_no, description, due_on) VALUES ($1, $2, $3, $4)`, [id, ++n, k.description, k.dueOn]);
      }
      const after = await this.find(id, m);
      return this.view(after, await this.commitments([id], m), staff, today);
    });
  }

  /** P54: the holder or their Representante Solidario signed the receipt of the answer (once, after the answer). */
  async receipt(id: string, signedBy: ReceiptSigner, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const c = await this.lockForChange(id, staff, m);
      if (c.answeredOn === null) throw problems.conflict('invalid_status_transition', 'the complaint has no answer to sign for');
      if (c.receiptOn !== null) throw problems.conflict('invalid_status_transition', 'the receipt of the answer is already recorded');
      const today = this.today(c.timeZone);
      await m.query(`UPDATE complaints SET receipt_signed_by = $2, receipt_on = $3 WHERE id = $1`, [id, signedBy, today]);
      return this.view(await this.find(id, m), await this.commitments([id], m), staff, today);
    });
  }

  /** X6: to the body the person takes it to, once the unit answered or let the deadline pass. */
  async escalate(id: string, to: string, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const c = await this.lockForChange(id, staff, m);
      const today = this.today(c.timeZone);
      const refusal = escalationRefusal(c.status, c.dueOn, today, to, complaintRulesOf(c.programCode));
      if (refusal) throw new ApiProblem(refusal.code === 'escalation_target_not_allowed' ? 422 : 409, refusal.code, refusal.detail);
      await m.query(`UPDATE complaints SET status = 'escalated', escalated_to = $2, escalated_on = $3, escalated_by = $4 WHERE id = $1`, [id, to, today, staff.username]);
      const after = await this.find(id, m);
      return this.view(after, await this.commitments([id], m), staff, today);
    });
  }

  async fulfil(id: string, commitmentNo: number, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const c = await this.lockForChange(id, staff, m);
      const today = this.today(c.timeZone);
      const rows = returnedRows(await m.query(
        `UPDATE complaint_commitments SET fulfilled_on = $3, fulfilled_by = $4 WHERE complaint_id = $1 AND commitment_no = $2 AND fulfilled_on IS NULL RETURNING 1`,
        [id, commitmentNo, today, staff.username],
      ));
      if (!rows.length) {
        const [k] = await m.query(`SELECT 1 FROM complaint_commitments WHERE complaint_id = $1 AND commitment_no = $2`, [id, commitmentNo]);
        if (!k) throw problems.notFound('commitment');
        throw problems.conflict('invalid_status_transition', 'the commitment is already fulfilled');
      }
      return this.view(await this.find(id, m), await this.commitments([id], m), staff, today);
    });
  }

  /** Newest first, keyset-paged; `overdue` = open and past its due date. */
  async list(q: { programId?: string; status?: string; limit: number; cursor?: string }, staff: StaffPrincipal) {
    const today = this.today(q.programId ? await this.timeZoneOf(q.programId) : null);
    const after = decodeCursor(q.cursor, ['timestamp', 'uuid'] as const);
    const status = q.status === 'overdue' ? 'open' : q.status ?? null;
    const rows: ComplaintRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM complaints c JOIN programs p ON p.id = c.program_id
        WHERE ($1::uuid IS NULL OR c.program_id = $1) AND ($2::text IS NULL OR c.status = $2)
          AND (NOT $3::boolean OR c.due_on < $4::date)
          AND ($5::timestamptz IS NULL OR (c.created_at, c.id) < ($5, $6::uuid))
        ORDER BY c.created_at DESC, c.id DESC LIMIT $7`,
      [q.programId ?? null, status, q.status === 'overdue', today, after?.[0] ?? null, after?.[1] ?? null, q.limit + 1],
    );
    const page = pageOf(rows, q.limit, (r) => [r.cursorAt, r.id]);
    const commitments = await this.commitments(page.data.map((r) => r.id));
    const data = [];
    for (const r of page.data) data.push(await this.view(r, commitments, staff, today));
    return { data, nextCursor: page.nextCursor };
  }

  /**
   * As of today: the first page of the overdue complaints (with business days late) and of the
   * commitments not yet fulfilled, each with its total and the cursor of the rest
   * (GET /v1/complaints/report/overdue and /open-commitments), and the share of complaints by area
   * (total, open, overdue, share of all).
   */
  async report(programId: string | undefined) {
    const overdue = await this.overdue({ programId, limit: LIST_DEFAULT_LIMIT });
    const open = await this.openCommitments({ programId, limit: LIST_DEFAULT_LIMIT });
    const areas = await this.db.query(
      `SELECT c.area, count(*)::int AS total, count(*) FILTER (WHERE c.status = 'open')::int AS open,
              count(*) FILTER (WHERE c.status = 'open' AND c.due_on < $2)::int AS overdue,
              count(*) FILTER (WHERE c.status = 'escalated')::int AS escalated,
              round(100.0 * count(*) / sum(count(*)) OVER (), 2)::text AS share
         FROM complaints c WHERE ($1::uuid IS NULL OR c.program_id = $1)
        GROUP BY c.area ORDER BY total DESC, c.area`,
      [programId ?? null, overdue.asOf],
    );
    return {
      asOf: overdue.asOf,
      overdue: overdue.data,
      overdueTotal: overdue.total,
      overdueNextCursor: overdue.nextCursor,
      byArea: areas,
      openCommitments: open.data,
      openCommitmentsTotal: open.total,
      openCommitmentsNextCursor: open.nextCursor,
    };
  }

  /** Every open complaint past its due date as of today, oldest due first (due date, folio), keyset-paged, with their total. */
  async overdue(q: { programId?: string; limit: number; cursor?: string }) {
    const today = this.today(q.programId ? await this.timeZoneOf(q.programId) : null);
    const after = decodeCursor(q.cursor, ['date', 'text'] as const);
    const where = `c.status = 'open' AND c.due_on < $2 AND ($1::uuid IS NULL OR c.program_id = $1)`;
    const rows: Array<{ folio: string; dueOn: string }> = await this.db.query(
      `SELECT c.id, c.folio, p.code AS "programCode", c.area, c.owner, c.subject, to_char(c.due_on, 'YYYY-MM-DD') AS "dueOn"
         FROM complaints c JOIN programs p ON p.id = c.program_id
        WHERE ${where} AND ($3::date IS NULL OR (c.due_on, c.folio) > ($3, $4::text))
        ORDER BY c.due_on, c.folio LIMIT $5`,
      [q.programId ?? null, today, after?.[0] ?? null, after?.[1] ?? null, q.limit + 1],
    );
    const [{ total }] = await this.db.query(`SELECT count(*)::int AS total FROM complaints c WHERE ${where}`, [q.programId ?? null, today]);
    const page = pageOf(rows, q.limit, (r) => [r.dueOn, r.folio], (r) => ({ ...r, businessDaysLate: businessDaysBetween(r.dueOn, today) }));
    return { asOf: today, total: total as number, ...page };
  }

  /** Every commitment not yet fulfilled (`overdue` once past its date), by due date, folio and number, keyset-paged, with their total. */
  async openCommitments(q: { programId?: string; limit: number; cursor?: string }) {
    const today = this.today(q.programId ? await this.timeZoneOf(q.programId) : null);
    const after = decodeCursor(q.cursor, ['date', 'text', 'int'] as const);
    const where = `k.fulfilled_on IS NULL AND ($1::uuid IS NULL OR c.program_id = $1)`;
    const rows: Array<{ folio: string; commitmentNo: number; dueOn: string }> = await this.db.query(
      `SELECT c.folio, k.commitment_no AS "commitmentNo", k.description, to_char(k.due_on, 'YYYY-MM-DD') AS "dueOn", k.due_on < $2 AS overdue
         FROM complaint_commitments k JOIN complaints c ON c.id = k.complaint_id
        WHERE ${where} AND ($3::date IS NULL OR (k.due_on, c.folio, k.commitment_no) > ($3, $4::text, $5::int))
        ORDER BY k.due_on, c.folio, k.commitment_no LIMIT $6`,
      [q.programId ?? null, today, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, q.limit + 1],
    );
    const [{ total }] = await this.db.query(
      `SELECT count(*)::int AS total FROM complaint_commitments k JOIN complaints c ON c.id = k.complaint_id WHERE ${where}`,
      [q.programId ?? null],
    );
    return { asOf: today, total: total as number, ...pageOf(rows, q.limit, (r) => [r.dueOn, r.folio, r.commitmentNo]) };
  }

  private today(timeZone: string | null): string {
    return businessDate(this.clock.now(), timeZone ?? this.config.DEFAULT_TIME_ZONE);
  }

  private async timeZoneOf(programId: string): Promise<string> {
    return (await this.programs.getById(programId)).timeZone;
  }

  private async find(id: string, q: Queryable): Promise<ComplaintRow> {
    const [row] = await q.query(`SELECT ${COLUMNS} FROM complaints c JOIN programs p ON p.id = c.program_id WHERE c.id = $1`, [id]);
    if (!row) throw problems.notFound('complaint');
    return row;
  }

  private async lockForChange(id: string, staff: StaffPrincipal, m: Queryable): Promise<ComplaintRow> {
    const [locked] = await m.query(`SELECT id FROM complaints WHERE id = $1 FOR UPDATE`, [id]);
    if (!locked) throw problems.notFound('complaint');
    const c = await this.find(id, m);
    await this.access.assertMayManage(staff, { id: c.programId, confidential: c.confidential, code: c.programCode });
    return c;
  }

  private async commitments(ids: string[], q: Queryable = this.db) {
    const map = new Map<string, Array<{ commitmentNo: number; description: string; dueOn: string; fulfilledOn: string | null }>>();
    if (!ids.length) return map;
    const rows = await q.query(
      `SELECT complaint_id AS "complaintId", commitment_no AS "commitmentNo", description, to_char(due_on, 'YYYY-MM-DD') AS "dueOn",
              to_char(fulfilled_on, 'YYYY-MM-DD') AS "fulfilledOn"
         FROM complaint_commitments WHERE complaint_id = ANY($1::uuid[]) ORDER BY complaint_id, commitment_no`,
      [ids],
    );
    for (const { complaintId, ...k } of rows) map.set(complaintId, [...(map.get(complaintId) ?? []), k]);
    return map;
  }

  /** The complaint as a reader sees it: a confidential program's beneficiary and description only for those who may see identity. */
  private async view(c: ComplaintRow, commitments: Map<string, unknown[]>, staff: StaffPrincipal, today: string) {
    const identity = await this.access.canSeeIdentity(staff, { id: c.programId, confidential: c.confidential });
    const { confidential, createdAt, cursorAt, ...rest } = c;
    return {
      ...rest,
      beneficiaryId: identity ? c.beneficiaryId : null,
      description: identity ? c.description : null,
      identityWithheld: !identity,
      overdue: isOverdue(c.status, c.dueOn, today),
      createdAt: createdAt.toISOString(),
      commitments: commitments.get(c.id) ?? [],
    };
  }
}
