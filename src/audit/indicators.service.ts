import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Money } from '../common/money';
import { problems } from '../common/problem';
import { businessDate } from '../common/clock';
import { endOfBusinessDate, startOfBusinessDate } from '../common/calendar';
import { deliveryBusinessDays, indicatorPeriod, indicatorsOf, indicatorValue, isMeasure, IndicatorPeriod, Measure, UNRECORDED } from './indicators.rules';
import { CYCLE_KINDS, executedFromBudget } from './execution.service';

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
 * The indicators of the rules of operation of each program (indicators.rules.ts, docs/audit.md
 * "Indicators") as of a date or cumulative to the end of a quarter (P60), read from journal
 * entries and the padrón; then reintegros by cause, tranches awaiting proof and their ageing,
 * balances expiring and disbursements by school level (Útiles), which are as of now.
 */
@Injectable()
export class IndicatorsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async program(programId: string, now: Date, query: { asOf?: string; quarter?: string } = {}) {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const p = (await m.query(
        `SELECT id, code, time_zone AS "timeZone", reintegro_account_id AS "reintegroAccountId", budget_account_id AS "budgetAccountId",
                (rules->>'targetBeneficiaries')::bigint::text AS target,
                CASE WHEN rules->'benefit'->>'type' = 'by_attribute' THEN rules->'benefit'->>'attribute' END AS "byAttribute"
           FROM programs WHERE id = $1`,
        [programId],
      ))[0];
      if (!p) throw problems.notFound('program');
      const today = businessDate(now, p.timeZone);
      const period = indicatorPeriod(query, today);
      const { base, definitions } = indicatorsOf(p.code);
      const wanted = new Set<Measure>();
      for (const d of definitions) for (const k of [d.numerator, d.denominator]) if (isMeasure(k)) wanted.add(k);
      const measures = await this.measures(m, p, period, wanted);
      const indicators = definitions.map((d) => {
        const num = isMeasure(d.numerator) ? measures.get(d.numerator) ?? null : null;
        const den = isMeasure(d.denominator) ? measures.get(d.denominator) ?? null : null;
        const unrecorded = [d.numerator, d.denominator].filter((k) => !isMeasure(k)).map((k) => UNRECORDED[k as keyof typeof UNRECORDED]);
        return {
          id: d.id,
          name: d.name,
          formula: d.formula,
          seedOffset: d.seedOffset,
          unit: d.unit,
          numerator: num,
          denominator: den,
          value: indicatorValue(d.unit, num, den),
          ...(unrecorded.length ? { unrecorded } : {}),
        };
      });
      const [{ undated }] = wanted.has('cardsDelivered')
        ? await m.query(
            `SELECT count(*)::int AS undated FROM instruments i
              WHERE i.program_id = $1 AND i.kind = 'card' AND i.delivered_at >= $2 AND i.delivered_at < $3
                AND NOT EXISTS (SELECT 1 FROM instrument_card_arrivals a WHERE a.instrument_id = i.id)`,
            [p.id, startOfBusinessDate(period.from, p.timeZone), endOfBusinessDate(period.to, p.timeZone)],
          )
        : [{ undated: null }];
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
      // Útiles pays by school level (rules.benefit by_attribute): its disbursements by level.
      const byLevel = p.byAttribute === null ? [] : await m.query(
        `SELECT coalesce(b.attributes->>$3, '(none)') AS level, count(DISTINCT i.beneficiary_id)::int AS beneficiaries,
                sum(x.amount)::text AS disbursed
           FROM instruments i JOIN beneficiaries b ON b.id = i.beneficiary_id
           JOIN postings x ON x.account_id = i.account_id AND x.side = 'credit'
           JOIN journal_entries e ON e.id = x.entry_id AND e.kind = ANY($2)
          WHERE i.program_id = $1 AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = e.id)
          GROUP BY 1 ORDER BY 1`,
        [programId, CYCLE_KINDS, p.byAttribute],
      );
      return {
        programId,
        code: p.code,
        base,
        asOf: period.to,
        period,
        indicators,
        ...(undated === null ? {} : { cardsDeliveredWithoutArrival: undated }),
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

  /**
   * The measures the program's indicators read, as of the end of `period.to` (program time zone);
   * flows (payments, deliveries, bajas) count from the start of `period.from`. Counts and money as strings.
   */
  private async measures(
    m: EntityManager,
    p: { id: string; timeZone: string; target: string | null; budgetAccountId: string },
    period: IndicatorPeriod,
    wanted: Set<Measure>,
  ): Promise<Map<Measure, string | null>> {
    const out = new Map<Measure, string | null>();
    const from = startOfBusinessDate(period.from, p.timeZone);
    const to = endOfBusinessDate(period.to, p.timeZone);
    const one = async (sql: string, params: unknown[]) => String((await m.query(sql, params))[0].n);
    if (wanted.has('target')) out.set('target', p.target);
    if (wanted.has('activeBeneficiaries'))
      out.set('activeBeneficiaries', await one(
        `SELECT count(*) AS n FROM beneficiaries
          WHERE program_id = $1 AND incorporated_on <= $2 AND (status = 'active' OR deactivated_on > $2)`,
        [p.id, period.to],
      ));
    if (wanted.has('registered'))
      out.set('registered', await one(`SELECT count(*) AS n FROM beneficiaries WHERE program_id = $1 AND application_date <= $2`, [p.id, period.to]));
    if (wanted.has('complaintsAnswered'))
      out.set('complaintsAnswered', await one(`SELECT count(*) AS n FROM complaints WHERE program_id = $1 AND answered_on BETWEEN $2 AND $3`, [p.id, period.from, period.to]));
    if (wanted.has('answerReceiptsSigned'))
      out.set('answerReceiptsSigned', await one(
        `SELECT count(*) AS n FROM complaints WHERE program_id = $1 AND answered_on BETWEEN $2 AND $3 AND receipt_on <= $3`,
        [p.id, period.from, period.to],
      ));
    if (wanted.has('completedTerm'))
      out.set('completedTerm', await one(
        `SELECT count(*) AS n FROM beneficiaries
          WHERE program_id = $1 AND deactivation_cause = 'term_completed' AND deactivated_on BETWEEN $2 AND $3`,
        [p.id, period.from, period.to],
      ));
    // Accounts credited by cycle entries of the period that no reversal of the period undoes.
    const credited = (kinds: string[], select: string) =>
      one(
        `WITH c AS (
           SELECT DISTINCT x.account_id FROM journal_entries e
             JOIN postings x ON x.entry_id = e.id AND x.side = 'credit'
             JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id = $1
                                   AND (a.category = 'instrument' OR a.owner_type = 'payee:beneficiary')
            WHERE e.kind = ANY($2) AND e.effective_at >= $3 AND e.effective_at < $4
              AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = e.id AND r.effective_at < $4))
         ${select}`,
        [p.id, kinds, from, to],
      );
    if (wanted.has('paidBeneficiaries'))
      out.set('paidBeneficiaries', await credited(CYCLE_KINDS,
        `SELECT count(DISTINCT coalesce(i.beneficiary_id, a.owner_id)) AS n
           FROM c JOIN ledger_accounts a ON a.id = c.account_id LEFT JOIN instruments i ON i.account_id = c.account_id`));
    if (wanted.has('vouchersDispersed'))
      out.set('vouchersDispersed', await credited(['cycle_voucher_load'],
        `SELECT count(*) AS n FROM c JOIN instruments i ON i.account_id = c.account_id AND i.kind = 'voucher'`));
    if (wanted.has('cardsDelivered') || wanted.has('deliveryBusinessDays')) {
      const groups = await m.query(
        `SELECT to_char(a.arrived_on, 'YYYY-MM-DD') AS "arrivedOn", to_char((i.delivered_at AT TIME ZONE $4)::date, 'YYYY-MM-DD') AS "deliveredOn",
                count(*)::int AS cards
           FROM instruments i JOIN instrument_card_arrivals a ON a.instrument_id = i.id
          WHERE i.program_id = $1 AND i.kind = 'card' AND i.delivered_at >= $2 AND i.delivered_at < $3
          GROUP BY 1, 2`,
        [p.id, from, to, p.timeZone],
      );
      const d = deliveryBusinessDays(groups);
      out.set('cardsDelivered', String(d.cards));
      out.set('deliveryBusinessDays', String(d.businessDays));
    }
    if (wanted.has('appropriated'))
      out.set('appropriated', new Money(await one(
        `SELECT coalesce(sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END), 0) AS n
           FROM postings x JOIN journal_entries e ON e.id = x.entry_id LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
          WHERE x.account_id = $1 AND coalesce(o.kind, e.kind) = 'appropriation' AND x.effective_at < $2`,
        [p.budgetAccountId, to],
      )).toFixed(2));
    if (wanted.has('executed'))
      out.set('executed', new Money(await executedFromBudget(m, p.id, from, to)).toFixed(2));
    if (wanted.has('grantsAwarded'))
      out.set('grantsAwarded', await one(`SELECT count(*) AS n FROM grants WHERE program_id = $1 AND created_at < $2`, [p.id, to]));
    if (wanted.has('grantsFinished'))
      out.set('grantsFinished', await one(
        `SELECT count(*) AS n FROM grants g WHERE g.program_id = $1 AND g.created_at < $2
            AND jsonb_array_length(g.plan) = (SELECT count(*) FROM grant_tranches t WHERE t.grant_id = g.id AND t.status = 'proven' AND t.proven_at < $2)`,
        [p.id, to],
      ));
    if (wanted.has('grantsProven'))
      out.set('grantsProven', await one(
        `SELECT count(*) AS n FROM grants g WHERE g.program_id = $1 AND g.created_at < $2
            AND EXISTS (SELECT 1 FROM grant_tranches t WHERE t.grant_id = g.id AND t.released_on <= $3)
            AND NOT EXISTS (SELECT 1 FROM grant_tranches t WHERE t.grant_id = g.id AND t.released_on <= $3
                              AND (t.status <> 'proven' OR t.proven_at >= $2))`,
        [p.id, to, period.to],
      ));
    return out;
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
    for (const i of r.indicators) rows.push([r.code, i.id, i.unit, i.value ?? '', i.numerator ?? '', i.denominator ?? '']);
    for (const x of r.reintegrosByCause) rows.push([r.code, 'reintegro_amount', x.cause, x.amount, x.count, '']);
    rows.push([r.code, 'tranches_awaiting_proof', 'total', r.tranchesAwaitingProof.count, r.tranchesAwaitingProof.overdue, '']);
    for (const b of r.tranchesAwaitingProof.ageing) rows.push([r.code, 'tranches_awaiting_proof_amount', `age_${b.bucket}`, b.amount, b.count, '']);
    for (const e of r.expiringBalances) rows.push([r.code, 'expiring_balance', e.expiresOn, e.balance, e.instruments, '']);
    for (const l of r.disbursedByLevel) rows.push([r.code, 'disbursed_by_level', l.level, l.disbursed, l.beneficiaries, '']);
    return rows;
  }
}
