import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { formatMoney, sumMoney } from '../common/money';
import { problems } from '../common/problem';
import { decodeCursor, pageOf } from '../common/pagination';
import { ApprovalScope, approvalsUnionSql } from './approval-sources';

export interface ApprovalsQuery {
  scope?: ApprovalScope;
  kind?: string;
  programId?: string;
  limit: number;
  cursor?: string;
}

interface ApprovalRow {
  kind: string;
  id: string;
  programId: string;
  programCode: string;
  programName: string;
  currency: string;
  timeZone: string;
  reference: string;
  detail: string | null;
  controlCount: number;
  controlTotal: string;
  preparedBy: string;
  preparedByUserId: string | null;
  createdAt: Date;
  cursorAt: string;
  scheduledFor: Date | null;
}

/**
 * Read models the console needs beyond the contract. The approvals inbox: every draft of every maker-checker kind (approval-sources.ts),
 * oldest first, keyset-paged on (created_at, kind, id), with the number that match.
 */
@Injectable()
export class ConsoleService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(q: ApprovalsQuery, me: { userId: string }) {
    const after = decodeCursor(q.cursor, ['timestamp', 'text', 'uuid'] as const);
    const where = `WHERE ($1::text IS NULL OR a.kind = $1) AND ($2::uuid IS NULL OR a.program_id = $2)
                     AND CASE $3::text WHEN 'to_approve' THEN a.prepared_by_user_id IS DISTINCT FROM $4::uuid
                                       WHEN 'sent' THEN a.prepared_by_user_id = $4::uuid ELSE true END`;
    const params = [q.kind ?? null, q.programId ?? null, q.scope ?? 'all', me.userId];
    const rows: ApprovalRow[] = await this.db.query(
      `SELECT a.kind, a.id, a.program_id AS "programId", p.code AS "programCode", p.name AS "programName", p.currency, p.time_zone AS "timeZone",
              a.reference, a.detail, a.control_count AS "controlCount", a.control_total::text AS "controlTotal",
              a.prepared_by AS "preparedBy", a.prepared_by_user_id AS "preparedByUserId", a.created_at AS "createdAt",
              a.created_at::text AS "cursorAt", a.scheduled_for AS "scheduledFor"
         FROM (${approvalsUnionSql()}) a JOIN programs p ON p.id = a.program_id
        ${where}
          AND ($5::timestamptz IS NULL OR (a.created_at, a.kind, a.id) > ($5::timestamptz, $6::text, $7::uuid))
        ORDER BY a.created_at, a.kind, a.id
        LIMIT $8`,
      [...params, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, q.limit + 1],
    );
    const [count] = await this.db.query(`SELECT count(*)::int AS n FROM (${approvalsUnionSql()}) a ${where}`, params);
    const page = pageOf(rows, q.limit, (r) => [r.cursorAt, r.kind, r.id], (r) => ({
      kind: r.kind,
      id: r.id,
      programId: r.programId,
      programCode: r.programCode,
      programName: r.programName,
      currency: r.currency,
      timeZone: r.timeZone,
      reference: r.reference,
      detail: r.detail,
      controlCount: r.controlCount,
      controlTotal: formatMoney(r.controlTotal),
      preparedBy: r.preparedBy,
      preparedByMe: r.preparedByUserId === me.userId,
      createdAt: new Date(r.createdAt).toISOString(),
      scheduledFor: r.scheduledFor ? new Date(r.scheduledFor).toISOString() : null,
    }));
    return { ...page, total: count.n };
  }

  /** A program's reintegros counted and summed by status (the totals above the paged list). */
  async reintegroTotals(programId: string) {
    const exists = await this.db.query(`SELECT 1 FROM programs WHERE id = $1`, [programId]);
    if (!exists[0]) throw problems.notFound('program');
    const rows: Array<{ status: string; count: number; total: string }> = await this.db.query(
      `SELECT status, count(*)::int AS count, sum(amount)::text AS total FROM reintegros WHERE program_id = $1 GROUP BY status ORDER BY status`,
      [programId],
    );
    return {
      byStatus: rows.map((r) => ({ status: r.status, count: r.count, total: formatMoney(r.total) })),
      count: rows.reduce((n, r) => n + r.count, 0),
      total: formatMoney(sumMoney(rows.map((r) => r.total))),
    };
  }

  /**
   * A program's loans, oldest number first, keyset-paged on the number, with the number that
   * match: the borrower by folio (and by name for those who may read names), the money lent,
   * repaid and outstanding, and whether a write-off waits for approval.
   */
  async loans(programId: string, q: { status?: string; limit: number; cursor?: string }, viewer: { withNames: boolean }) {
    const exists = await this.db.query(`SELECT 1 FROM programs WHERE id = $1`, [programId]);
    if (!exists[0]) throw problems.notFound('program');
    const after = decodeCursor(q.cursor, ['text'] as const);
    const rows: LoanListRow[] = await this.db.query(
      `SELECT l.id, l.number, l.status, l.line, l.principal::text AS principal, l.repaid::text AS repaid, l.written_off::text AS "writtenOff",
              CASE WHEN l.disbursed_at IS NULL THEN 0 ELSE l.principal - l.repaid - l.written_off END::text AS outstanding,
              to_char(l.applied_on, 'YYYY-MM-DD') AS "appliedOn", l.applied_by AS "appliedBy", l.approved_by AS "approvedBy",
              to_char(l.disbursed_on, 'YYYY-MM-DD') AS "disbursedOn", to_char(l.past_due_since, 'YYYY-MM-DD') AS "pastDueSince",
              (l.write_off_requested_at IS NOT NULL AND l.written_off_at IS NULL) AS "writeOffRequested",
              l.beneficiary_id AS "beneficiaryId", b.folio,
              CASE WHEN $5::boolean THEN coalesce(b.legal_name, concat_ws(' ', b.given_names, b.surnames)) END AS name
         FROM loans l JOIN beneficiaries b ON b.id = l.beneficiary_id
        WHERE l.program_id = $1 AND ($2::text IS NULL OR l.status = $2) AND ($3::text IS NULL OR l.number > $3)
        ORDER BY l.number LIMIT $4`,
      [programId, q.status ?? null, after?.[0] ?? null, q.limit + 1, viewer.withNames],
    );
    const [count] = await this.db.query(`SELECT count(*)::int AS n FROM loans WHERE program_id = $1 AND ($2::text IS NULL OR status = $2)`, [programId, q.status ?? null]);
    const page = pageOf(rows, q.limit, (r) => [r.number], (r) => ({
      ...r,
      principal: formatMoney(r.principal),
      repaid: formatMoney(r.repaid),
      writtenOff: formatMoney(r.writtenOff),
      outstanding: formatMoney(r.outstanding),
    }));
    return { ...page, total: count.n };
  }

  /** Who a beneficiary is, for pages that hold only the id (a loan, a payment order): folio, and the name for name readers. */
  async beneficiaryLabel(id: string, viewer: { withNames: boolean }) {
    const [b] = await this.db.query(
      `SELECT b.id, b.folio, b.program_id AS "programId", b.status,
              CASE WHEN $2::boolean THEN coalesce(b.legal_name, concat_ws(' ', b.given_names, b.surnames)) END AS name
         FROM beneficiaries b WHERE b.id = $1`,
      [id, viewer.withNames],
    );
    if (!b) throw problems.notFound('beneficiary');
    return b as { id: string; folio: string; programId: string; status: string; name: string | null };
  }
}

interface LoanListRow {
  id: string;
  number: string;
  status: string;
  line: string | null;
  principal: string;
  repaid: string;
  writtenOff: string;
  outstanding: string;
  appliedOn: string;
  appliedBy: string;
  approvedBy: string | null;
  disbursedOn: string | null;
  pastDueSince: string | null;
  writeOffRequested: boolean;
  beneficiaryId: string;
  folio: string;
  name: string | null;
}
