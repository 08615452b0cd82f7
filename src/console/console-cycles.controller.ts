import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Roles } from '../common/auth/principal';
import { problems } from '../common/problem';
import { CyclesService, cycleView } from '../disbursements/cycles.service';

export const CYCLE_STATUSES = ['draft', 'approved', 'running', 'completed', 'completed_with_exceptions', 'cancelled'] as const;

/** Cursor of the cycles list: the last row's (period, created_at, id), base64url. */
export function encodeCycleCursor(period: string, createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([period, createdAt, id])).toString('base64url');
}

export function decodeCycleCursor(cursor: string): [string, string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      typeof v[0] === 'string' &&
      /^\d{4}-\d{2}$/.test(v[0]) &&
      typeof v[1] === 'string' &&
      /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(v[1]) &&
      !Number.isNaN(Date.parse(v[1])) &&
      typeof v[2] === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v[2])
    ) {
      return [v[0], v[1], v[2]];
    }
  } catch {
    /* fall through */
  }
  throw problems.validation('cursor is not valid');
}

/**
 * Read endpoints the console needs and the contract does not list (API.md allows more endpoints).
 * Under /v1/console so they can never collide with a route another module adds later.
 */
@ApiTags('console')
@ApiBearerAuth()
@Controller('v1/console')
export class ConsoleCyclesController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cycles: CyclesService,
  ) {}

  /** The program's disbursement cycles, latest period first (then newest), each as GET /v1/cycles/{id} shows it. */
  @Get('programs/:id/cycles')
  @Roles('finance_operator', 'finance_approver', 'auditor')
  @ApiQuery({ name: 'status', required: false, enum: CYCLE_STATUSES })
  @ApiQuery({ name: 'limit', required: false, description: '1–200, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async programCycles(
    @Param('id', new ParseUUIDPipe()) programId: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    if (status !== undefined && !(CYCLE_STATUSES as readonly string[]).includes(status)) {
      throw problems.validation(`status must be one of ${CYCLE_STATUSES.join(', ')}`);
    }
    if (limit !== undefined && (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 200)) {
      throw problems.validation('limit must be an integer from 1 to 200');
    }
    const n = limit === undefined ? 50 : Number(limit);
    const after = cursor === undefined ? null : decodeCycleCursor(cursor);
    const exists = await this.db.query(`SELECT 1 FROM programs WHERE id = $1`, [programId]);
    if (!exists[0]) throw problems.notFound('program');
    const rows: Array<{ id: string; period: string; createdAt: string }> = await this.db.query(
      `SELECT id, period, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt"
         FROM disbursement_cycles
        WHERE program_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::text IS NULL OR (period, created_at, id) < ($3::text, $4::timestamptz, $5::uuid))
        ORDER BY period DESC, created_at DESC, id DESC
        LIMIT $6`,
      [programId, status ?? null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, n + 1],
    );
    const page = rows.slice(0, n);
    const data = [];
    for (const r of page) data.push(cycleView(await this.cycles.find(r.id)));
    const last = page[page.length - 1];
    return { data, nextCursor: rows.length > n && last ? encodeCycleCursor(last.period, last.createdAt, last.id) : null };
  }
}
