import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import { ProgramAccessService } from '../programs/program-access.service';
import type { InKindBenefit } from '../programs/conditional-rules';
import { benefitOfType } from '../programs/parse-rules';
import { Program, ProgramsService } from '../programs/programs.service';
import { deliveryValue, progressPercent } from './deliveries.rules';

/**
 * Deliveries in kind (docs/in-kind.md): rations, packages and services recorded with their count
 * and value; a summary per kind against the meta física for the indicators. Nothing here touches
 * the ledger: no cash reaches a beneficiary of these programs.
 */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
  ) {}

  async record(programId: string, input: { kind: string; deliveredOn: string; count: number; value?: string; beneficiaryId?: string; site?: string }, staff: StaffPrincipal) {
    const { program, benefit } = await this.inKindProgram(programId);
    await this.access.assertMayManage(staff, program);
    if (!isDate(input.deliveredOn)) throw problems.validation('deliveredOn is not a real date');
    if (input.deliveredOn > businessDate(this.clock.now(), program.timeZone)) throw new ApiProblem(422, 'record_not_allowed', 'deliveredOn is in the future');
    const v = deliveryValue(benefit, input);
    if (!v.ok) throw new ApiProblem(422, v.code, v.reason);
    if (input.beneficiaryId) {
      const [b] = await this.db.query(`SELECT status FROM beneficiaries WHERE id = $1 AND program_id = $2`, [input.beneficiaryId, program.id]);
      if (!b) throw problems.notFound('beneficiary');
      if (b.status !== 'active') throw problems.conflict('invalid_status_transition', 'the beneficiary is inactive');
    }
    const id = randomUUID();
    await this.db.query(
      `INSERT INTO in_kind_deliveries (id, program_id, kind, delivered_on, count, value, beneficiary_id, site, recorded_by, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, program.id, input.kind, input.deliveredOn, input.count, v.value?.toFixed(2) ?? null, input.beneficiaryId ?? null, input.site ?? null, `user:${staff.username}`, this.clock.now()],
    );
    return {
      id, programId: program.id, kind: input.kind, deliveredOn: input.deliveredOn, count: input.count, value: v.value ? formatMoney(v.value) : null,
      beneficiaryId: input.beneficiaryId ?? null, site: input.site ?? null, recordedBy: `user:${staff.username}`, recordedAt: this.clock.now().toISOString(),
    };
  }

  /** Per kind: units and value delivered in [from, to], the meta física and the progress against it. */
  async summary(programId: string, range: { from?: string; to?: string }) {
    const { program, benefit } = await this.inKindProgram(programId);
    const rows: Array<{ kind: string; count: string; value: string; beneficiaries: number; sites: number }> = await this.db.query(
      `SELECT kind, sum(count)::text AS count, coalesce(sum(value), 0)::text AS value,
              count(DISTINCT beneficiary_id)::int AS beneficiaries, count(DISTINCT site)::int AS sites
         FROM in_kind_deliveries
        WHERE program_id = $1 AND ($2::date IS NULL OR delivered_on >= $2::date) AND ($3::date IS NULL OR delivered_on <= $3::date)
        GROUP BY kind`,
      [program.id, range.from ?? null, range.to ?? null],
    );
    const byKind = new Map(rows.map((r) => [r.kind, r]));
    return {
      programId: program.id,
      from: range.from ?? null,
      to: range.to ?? null,
      kinds: Object.entries(benefit.deliveries).map(([kind, k]) => {
        const r = byKind.get(kind);
        const delivered = r ? Number(r.count) : 0;
        return {
          kind, label: k.label, delivered, value: formatMoney(r?.value ?? '0'), beneficiaries: r?.beneficiaries ?? 0, sites: r?.sites ?? 0,
          target: k.target ?? null, progressPercent: progressPercent(delivered, k.target),
        };
      }),
    };
  }

  private async inKindProgram(programId: string): Promise<{ program: Program; benefit: InKindBenefit }> {
    const program = await this.programs.getById(programId);
    return { program, benefit: benefitOfType(program, 'in_kind', 'does not deliver in kind') };
  }
}
