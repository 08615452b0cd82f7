import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Money } from '../common/money';
import { problems } from '../common/problem';
import { businessDate } from '../common/clock';

/** value / base × 100 with two decimals (null when there is no base). */
export function percent(value: number, base: number | null | undefined): string | null {
  if (!base) return null;
  return new Money(value).times(100).dividedBy(base).toFixed(2);
}

/** Ageing buckets of tranches awaiting proof, in days since release. */
export const AGEING_BUCKETS = [
  { label: '0-30', max: 30 },
  { label: '31-45', max: 45 },
  { label: '46-90', max: 90 },
  { label: '90+', max: Infinity },
];

export function bucketOf(days: number): string {
  return AGEING_BUCKETS.find((b) => days <= b.max)!.label;
}

/**
 * The indicators of the rules of operation (DOMAIN.md "Reports"): coverage vs meta física (P56),
 * vouchers dispersed vs eligible (U20), average card delivery days (P57, reported in days),
 * reintegros by cause, tranches awaiting proof and their ageing, balances expiring, and
 * disbursements by school level (Útiles).
 */
@Injectable()
export class IndicatorsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async program(programId: string, now: Date) {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const p = (await m.query(
        `SELECT id, code, time_zone AS "timeZone", reintegro_account_id AS "reintegroAccountId", budget_account_id AS "budgetAccountId",
                (rules->>'targetBeneficiaries')::bigint AS target
           FROM programs WHERE id = $1`,
        [programId],
      ))[0];
      if (!p) throw problems.notFound('program');
      const today = businessDate(now, p.timeZone);
      const [pad] = await m.query(
        `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*)::int AS registered FROM beneficiaries WHERE program_id = $1`,
        [programId],
      );
      const target = p.target === null ? null : Number(p.target);
      const [vouchers] = await m.query(
        `SELECT count(*)::int AS issued,
                count(*) FILTER (WHERE EXISTS (
                  SELECT 1 FROM postings x JOIN journal_entries e ON e.id = x.entry_id
                   WHERE x.account_id = i.account_id AND x.side = 'credit' AND e.kind IN ('voucher_load', 'deposit')))::int AS dispersed
           FROM instruments i WHERE i.program_id = $1 AND i.kind = 'voucher'`,
        [programId],
      );
      const [cards] = await m.query(
        `SELECT count(*)::int AS issued, count(delivered_at)::int AS delivered,
                round(avg(extract(epoch FROM delivered_at - issued_at) / 86400)::numeric, 2)::text AS "averageDays",
                max(extract(epoch FROM delivered_at - issued_at) / 86400)::numeric(12,2)::text AS "maxDays"
           FROM instruments WHERE program_id = $1 AND kind = 'card'`,
        [programId],
      );
      // Treasury (issue 6): reintegros are read from the reintegros table (cause, or the baja cause
      // for bajas); credits to the reintegro account without a reintegros row (posted outside the
      // treasury service) are still counted from the ledger as before.
      const reintegros = await m.query(
        `SELECT cause, "hasCause", sum(count)::int AS count, sum(amount)::text AS amount, min(source) AS source FROM (
           SELECT coalesce(r.baja_cause, r.cause) AS cause, true AS "hasCause", count(*) AS count, sum(r.amount) AS amount, 'reintegros' AS source
             FROM reintegros r WHERE r.program_id = $2 GROUP BY 1
           UNION ALL
           SELECT coalesce(e.metadata->>'cause', o.metadata->>'cause', e.kind), coalesce(e.metadata->>'cause', o.metadata->>'cause') IS NOT NULL,
                  count(DISTINCT coalesce(o.id, e.id)) FILTER (WHERE x.side = 'credit'),
                  coalesce(sum(x.amount) FILTER (WHERE x.side = 'credit'), 0) - coalesce(sum(x.amount) FILTER (WHERE x.side = 'debit'), 0), NULL
             FROM postings x JOIN journal_entries e ON e.id = x.entry_id
             LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
            WHERE x.account_id = $1 AND e.kind <> 'remittance' AND coalesce(o.kind, '') <> 'remittance'
              AND NOT EXISTS (SELECT 1 FROM reintegros r WHERE r.journal_entry_id = coalesce(o.id, e.id))
            GROUP BY 1, 2) u
          GROUP BY 1, 2 ORDER BY 1`,
        [p.reintegroAccountId, p.id],
      );
      const tranches = await this.tranches(m, programId, today);
      const expiring = await m.query(
        `SELECT (i.expires_at AT TIME ZONE $2)::date::text AS "expiresOn", count(*)::int AS instruments, sum(b.posted)::text AS balance
           FROM instruments i JOIN ledger_balances b ON b.account_id = i.account_id
          WHERE i.program_id = $1 AND i.expires_at IS NOT NULL AND i.expires_at > $3 AND b.posted > 0
          GROUP BY 1 ORDER BY 1`,
        [programId, p.timeZone, now],
      );
      const byLevel = await m.query(
        `SELECT coalesce(b.attributes->>'schoolLevel', '(none)') AS level, count(DISTINCT i.beneficiary_id)::int AS beneficiaries,
                sum(x.amount)::text AS disbursed
           FROM instruments i JOIN beneficiaries b ON b.id = i.beneficiary_id
           JOIN postings x ON x.account_id = i.account_id AND x.side = 'credit'
           JOIN journal_entries e ON e.id = x.entry_id AND e.kind IN ('deposit', 'voucher_load')
          WHERE i.program_id = $1 GROUP BY 1 ORDER BY 1`,
        [programId],
      );
      return {
        programId,
        code: p.code,
        asOf: today,
        coverage: { beneficiaries: pad.active, registered: pad.registered, target, percent: percent(pad.active, target) },
        vouchersDispersed: { dispersed: vouchers.dispersed, issued: vouchers.issued, eligible: pad.active, percent: percent(vouchers.dispersed, pad.active) },
        cardDelivery: { issued: cards.issued, delivered: cards.delivered, averageDays: cards.averageDays, maxDays: cards.maxDays },
        reintegrosByCause: reintegros.map((r: { cause: string; hasCause: boolean; count: number; amount: string; source: string | null }) => ({
          cause: r.cause,
          source: r.source ?? (r.hasCause ? 'metadata.cause' : 'entry kind'),
          count: r.count,
          amount: new Money(r.amount).toFixed(2),
        })),
        tranchesAwaitingProof: tranches,
        expiringBalances: expiring.map((r: { expiresOn: string; instruments: number; balance: string }) => ({ ...r, balance: new Money(r.balance).toFixed(2) })),
        disbursedByLevel: byLevel.map((r: { level: string; beneficiaries: number; disbursed: string }) => ({ ...r, disbursed: new Money(r.disbursed).toFixed(2) })),
      };
    });
  }

  /** Tranches released and not proven (grant_tranches when present, else tranche entries of the ledger). */
  private async tranches(m: EntityManager, programId: string, today: string) {
    const [{ present }] = await m.query(`SELECT to_regclass('grant_tranches') IS NOT NULL AND to_regclass('grants') IS NOT NULL AS present`);
    const rows: Array<{ grantId: string | null; trancheNo: number | null; amount: string; releasedOn: string; proofDueOn: string | null; entryId: string | null }> = present
      ? await m.query(
          `SELECT t.grant_id AS "grantId", t.tranche_no AS "trancheNo", t.amount::text, t.released_on::text AS "releasedOn",
                  t.proof_due_on::text AS "proofDueOn", t.journal_entry_id AS "entryId"
             FROM grant_tranches t JOIN grants g ON g.id = t.grant_id
            WHERE g.program_id = $1 AND t.status = 'released' ORDER BY t.released_on, t.grant_id, t.tranche_no`,
          [programId],
        )
      : await m.query(
          `SELECT NULL AS "grantId", NULL AS "trancheNo", sum(x.amount)::text AS amount, (e.effective_at AT TIME ZONE 'UTC')::date::text AS "releasedOn",
                  NULL AS "proofDueOn", e.id AS "entryId"
             FROM journal_entries e JOIN postings x ON x.entry_id = e.id AND x.side = 'credit'
             JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id = $1 AND a.category IN ('grant', 'instrument')
            WHERE e.kind = 'tranche' GROUP BY e.id ORDER BY e.effective_at`,
          [programId],
        );
    const buckets = new Map(AGEING_BUCKETS.map((b) => [b.label, { bucket: b.label, count: 0, amount: new Money(0) }]));
    const items = rows.map((r) => {
      const ageDays = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${r.releasedOn}T00:00:00Z`)) / 86_400_000);
      const bucket = bucketOf(ageDays);
      const b = buckets.get(bucket)!;
      b.count++;
      b.amount = b.amount.plus(r.amount);
      return { ...r, amount: new Money(r.amount).toFixed(2), ageDays, bucket, overdue: r.proofDueOn !== null && r.proofDueOn < today };
    });
    return {
      source: present ? 'grant_tranches' : 'ledger (no proof records yet: every tranche is counted)',
      count: items.length,
      overdue: items.filter((i) => i.overdue).length,
      ageing: [...buckets.values()].map((b) => ({ ...b, amount: b.amount.toFixed(2) })),
      items: items.slice(0, 500),
    };
  }

  /** The indicators flattened to CSV rows. */
  static csvRows(r: Awaited<ReturnType<IndicatorsService['program']>>): unknown[][] {
    const rows: unknown[][] = [['program', 'indicator', 'dimension', 'value', 'numerator', 'denominator']];
    rows.push([r.code, 'coverage_percent', 'meta_fisica', r.coverage.percent ?? '', r.coverage.beneficiaries, r.coverage.target ?? '']);
    rows.push([r.code, 'vouchers_dispersed_percent', 'eligible', r.vouchersDispersed.percent ?? '', r.vouchersDispersed.dispersed, r.vouchersDispersed.eligible]);
    rows.push([r.code, 'card_delivery_average_days', 'delivered', r.cardDelivery.averageDays ?? '', r.cardDelivery.delivered, r.cardDelivery.issued]);
    for (const x of r.reintegrosByCause) rows.push([r.code, 'reintegro_amount', x.cause, x.amount, x.count, '']);
    rows.push([r.code, 'tranches_awaiting_proof', 'total', r.tranchesAwaitingProof.count, r.tranchesAwaitingProof.overdue, '']);
    for (const b of r.tranchesAwaitingProof.ageing) rows.push([r.code, 'tranches_awaiting_proof_amount', `age_${b.bucket}`, b.amount, b.count, '']);
    for (const e of r.expiringBalances) rows.push([r.code, 'expiring_balance', e.expiresOn, e.balance, e.instruments, '']);
    for (const l of r.disbursedByLevel) rows.push([r.code, 'disbursed_by_level', l.level, l.disbursed, l.beneficiaries, '']);
    return rows;
  }
}
