import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { decodeCursor, pageOf } from '../common/pagination';
import { ApiProblem, problems } from '../common/problem';
import { returnedRows } from '../database/returning';
import { ProgramAccessService } from '../programs/program-access.service';
import { ProgramsService } from '../programs/programs.service';
import { isRealDate } from './curp.rules';
import { assessPerson, BeneficiariesService, EnrolInput } from './beneficiaries.service';
import { assertIncorporation, roomInTarget, waitStatus } from './waiting-list.rules';

interface WaitingRow {
  id: string;
  programId: string;
  applicationDate: string;
  applicant: EnrolInput;
  status: 'waiting' | 'incorporated' | 'withdrawn';
  beneficiaryId: string | null;
  incorporatedOn: string | null;
  priorityReason: string | null;
  createdAt: Date;
}

const COLUMNS = `id, program_id AS "programId", to_char(application_date, 'YYYY-MM-DD') AS "applicationDate", applicant, status,
  beneficiary_id AS "beneficiaryId", to_char(incorporated_on, 'YYYY-MM-DD') AS "incorporatedOn", priority_reason AS "priorityReason", created_at AS "createdAt"`;

/**
 * The waiting list (P16–P18, P20; docs/programs-padron.md "Waiting list"): a filed application
 * waits in filing order and is incorporated later on a date of record, which is its incorporation
 * date (payments start at the first period on or after it, never before). Applicants waiting longer
 * than the six months the RO allows are reported.
 */
@Injectable()
export class WaitingListService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly beneficiaries: BeneficiariesService,
  ) {}

  async file(programId: string, input: EnrolInput, staff: StaffPrincipal) {
    const program = await this.programs.getById(programId);
    await this.access.assertMayManage(staff, program);
    if ((input.kind ?? 'person') !== 'person') throw problems.validation('the waiting list is for persons');
    const today = this.beneficiaries.today(program);
    const applicationDate = input.applicationDate ?? today;
    if (!isRealDate(applicationDate)) throw problems.validation('applicationDate is not a real date');
    if (applicationDate > today) throw problems.validation('applicationDate cannot be in the future');
    const { person } = assessPerson(program, input, applicationDate);
    const rows = await this.db.query(
      `INSERT INTO waiting_list (id, program_id, curp, application_date, applicant, status, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, 'waiting', $6, now())
       ON CONFLICT (program_id, curp) WHERE status = 'waiting' DO NOTHING
       RETURNING ${COLUMNS}`,
      [randomUUID(), program.id, person.curp, applicationDate, { ...input, applicationDate }, `user:${staff.username}`],
    );
    if (!rows[0]) throw problems.conflict('duplicate_applicant', `this CURP is already waiting for ${program.code}`);
    return this.view(rows[0], today);
  }

  /** Incorporation on a date of record (P17, P20); in filing order unless a priority reason is given (P18); within the meta física. */
  async incorporate(id: string, input: { incorporatedOn: string; priorityReason?: string }, staff: StaffPrincipal) {
    const w = await this.find(id);
    if (w.status !== 'waiting') throw new ApiProblem(409, 'applicant_not_waiting', `the applicant is ${w.status}`);
    const program = await this.programs.getById(w.programId);
    await this.access.assertMayManage(staff, program);
    if (!isRealDate(input.incorporatedOn)) throw problems.validation('incorporatedOn is not a real date');
    const today = this.beneficiaries.today(program);
    const [{ earlier, active }] = await this.db.query(
      `SELECT (SELECT count(*)::int FROM waiting_list e WHERE e.program_id = $1 AND e.status = 'waiting' AND (e.application_date, e.created_at, e.id) < ($2::date, $3::timestamptz, $4::uuid)) AS earlier,
              (SELECT count(*)::int FROM beneficiaries b WHERE b.program_id = $1 AND b.status = 'active') AS active`,
      [program.id, w.applicationDate, w.createdAt, w.id],
    );
    assertIncorporation({ applicationDate: w.applicationDate, incorporatedOn: input.incorporatedOn, today, earlierWaiting: earlier, priorityReason: input.priorityReason });
    if (!roomInTarget(program.rules.targetBeneficiaries, active)) {
      throw new ApiProblem(422, 'meta_fisica_reached', `${program.code} has its ${program.rules.targetBeneficiaries} beneficiaries (meta física)`);
    }
    const enrolled = await this.beneficiaries.enrol(program.id, w.applicant, staff, input.incorporatedOn);
    // A concurrent incorporation of the same applicant lost on the padrón's one-active-CURP key already (409 duplicate_beneficiary).
    const rows = returnedRows<WaitingRow>(
      await this.db.query(
        `UPDATE waiting_list SET status = 'incorporated', beneficiary_id = $2, incorporated_on = $3, priority_reason = $4 WHERE id = $1 AND status = 'waiting' RETURNING ${COLUMNS}`,
        [w.id, enrolled.id, input.incorporatedOn, input.priorityReason ?? null],
      ),
    );
    return { ...this.view(rows[0], today), folio: enrolled.folio };
  }

  /** GET /v1/programs/{id}/waiting-list: applicants still waiting, in filing order; `overdueOnly` lists those past the six months (P17). */
  async list(programId: string, staff: StaffPrincipal, q: { overdueOnly?: boolean; limit: number; cursor?: string }) {
    const program = await this.programs.getById(programId);
    await this.access.assertMayManage(staff, program);
    const today = this.beneficiaries.today(program);
    const after = decodeCursor(q.cursor, ['text', 'timestamp', 'uuid'] as const);
    // Past the deadline: filed on or before today minus six months (the deadline is the same day six months later).
    const rows: Array<WaitingRow & { cursorAt: string }> = await this.db.query(
      `SELECT ${COLUMNS}, created_at::text AS "cursorAt" FROM waiting_list
        WHERE program_id = $1 AND status = 'waiting'
          AND (NOT $2::boolean OR application_date < ($3::date - interval '6 months'))
          AND ($4::text IS NULL OR (application_date, created_at, id) > ($4::date, $5::timestamptz, $6::uuid))
        ORDER BY application_date, created_at, id LIMIT $7`,
      [program.id, q.overdueOnly ?? false, today, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, q.limit + 1],
    );
    return pageOf(rows, q.limit, (r) => [r.applicationDate, r.cursorAt, r.id], (r) => this.view(r, today));
  }

  private async find(id: string): Promise<WaitingRow> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM waiting_list WHERE id = $1`, [id]);
    if (!rows[0]) throw problems.notFound('waiting-list applicant');
    return rows[0];
  }

  /** No CURP, birth date or address in the view (they are in the application, shown only where needed). */
  private view(w: WaitingRow, today: string) {
    return {
      id: w.id,
      programId: w.programId,
      givenNames: w.applicant.givenNames,
      surnames: w.applicant.surnames,
      applicationDate: w.applicationDate,
      status: w.status,
      ...waitStatus(w.applicationDate, w.incorporatedOn ?? today),
      beneficiaryId: w.beneficiaryId,
      incorporatedOn: w.incorporatedOn,
      priorityReason: w.priorityReason,
    };
  }
}
