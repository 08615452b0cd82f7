import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { formatMoney, money, ZERO } from '../common/money';
import { problems } from '../common/problem';
import { classifyFlow, dec, reconcile, touchesProgram, Zone } from './reconciliation.rules';

/** Unexplained entries listed in full; beyond this only counted. */
const MAX_LISTED = 500;

/**
 * Program reconciliation from the postings (flows between zones) against the account balances
 * (running totals). See reconciliation.rules.ts and docs/audit.md.
 */
@Injectable()
export class ReconciliationService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async program(programId: string) {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const program = (await m.query(`SELECT id, code, currency, budget_account_id AS "budgetAccountId", reintegro_account_id AS "reintegroAccountId" FROM programs WHERE id = $1`, [programId]))[0];
      if (!program) throw problems.notFound('program');
      const hasCycles = await this.tableExists(m, 'disbursement_cycles');
      const hasGrants = await this.tableExists(m, 'grants');
      await m.query(`CREATE TEMP TABLE audit_zone (id uuid PRIMARY KEY, zone text NOT NULL) ON COMMIT DROP`);
      await m.query(
        `INSERT INTO audit_zone (id, zone)
         SELECT a.id, CASE
           WHEN a.id = $2 OR (a.program_id = $1 AND a.category = 'program_budget') THEN 'budget'
           WHEN a.id = $3 OR (a.program_id = $1 AND a.category IN ('reintegro_payable', 'pending_reintegro')) THEN 'reintegro'
           WHEN a.id IN (SELECT commitment_account_id FROM cycles_of_program) OR (a.program_id = $1 AND a.code LIKE 'cycle:%:commitment')
             OR (a.program_id = $1 AND a.category = 'grant_award') THEN 'commitment'
           WHEN a.id IN (SELECT account_id FROM instruments WHERE program_id = $1) OR a.id IN (SELECT account_id FROM grants_of_program)
             OR (a.program_id = $1 AND a.category IN ('instrument', 'grant')) THEN 'holding'
           WHEN a.program_id = $1 AND a.category = 'insurer_payable' OR a.code = 'program:' || $1 || ':insurer' THEN 'insurer'
           WHEN a.program_id = $1 AND a.category = 'payee_payable' THEN 'payable'
           WHEN a.program_id = $1 THEN 'transit'
           WHEN a.category = 'treasury' THEN 'treasury'
           WHEN a.category = 'merchant_payable' THEN 'merchant'
           WHEN a.category = 'bank' THEN 'bank'
           ELSE 'other' END
           FROM ledger_accounts a`
          .replace('cycles_of_program', hasCycles ? `disbursement_cycles WHERE program_id = $1 AND commitment_account_id IS NOT NULL` : `(SELECT NULL::uuid AS commitment_account_id) x WHERE false`)
          .replace('grants_of_program', hasGrants ? `grants WHERE program_id = $1` : `(SELECT NULL::uuid AS account_id) y WHERE false`),
        [programId, program.budgetAccountId, program.reintegroAccountId],
      );
      await m.query(`ANALYZE audit_zone`);

      // Net amount per (entry, zone) for every entry touching the program, then flows between zones.
      const flowRows: Array<{ entryId: string; seq: string; kind: string; effectiveAt: Date; cycleId: string | null; fromZone: Zone | null; toZone: Zone | null; amount: string | null; ambiguous: boolean }> =
        await m.query(
          `WITH ents AS (
             SELECT DISTINCT p.entry_id FROM postings p JOIN audit_zone z ON z.id = p.account_id
              WHERE z.zone IN ('budget', 'commitment', 'holding', 'insurer', 'payable', 'transit', 'reintegro')),
           net AS (
             SELECT p.entry_id, z.zone, sum(CASE p.side WHEN 'credit' THEN p.amount ELSE -p.amount END) AS net
               FROM ents JOIN postings p ON p.entry_id = ents.entry_id JOIN audit_zone z ON z.id = p.account_id
              GROUP BY 1, 2),
           n2 AS (
             SELECT *, count(*) FILTER (WHERE net < 0) OVER (PARTITION BY entry_id) AS nneg,
                       count(*) FILTER (WHERE net > 0) OVER (PARTITION BY entry_id) AS npos
               FROM net WHERE net <> 0),
           flows AS (
             SELECT a.entry_id, a.zone AS from_zone, b.zone AS to_zone, b.net AS amount, false AS ambiguous
               FROM n2 a JOIN n2 b ON b.entry_id = a.entry_id AND b.net > 0 WHERE a.net < 0 AND a.nneg = 1
             UNION ALL
             SELECT a.entry_id, a.zone, b.zone, -a.net, false
               FROM n2 a JOIN n2 b ON b.entry_id = a.entry_id AND b.net > 0 WHERE a.net < 0 AND a.nneg > 1 AND a.npos = 1
             UNION ALL
             SELECT DISTINCT entry_id, NULL, NULL, NULL::numeric, true FROM n2 WHERE nneg > 1 AND npos > 1),
           agg AS (
             SELECT f.entry_id, f.from_zone, f.to_zone, sum(f.amount) AS amount, bool_or(f.ambiguous) AS ambiguous FROM flows f GROUP BY 1, 2, 3)
           SELECT agg.entry_id AS "entryId", e.seq::text, e.kind, e.effective_at AS "effectiveAt",
                  coalesce(e.metadata->>'cycleId', o.metadata->>'cycleId') AS "cycleId",
                  agg.from_zone AS "fromZone", agg.to_zone AS "toZone", agg.amount::text AS amount, agg.ambiguous
             FROM agg JOIN journal_entries e ON e.id = agg.entry_id
             LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id`,
        );

      const balances = await m.query(
        `SELECT z.zone, sum(b.posted)::text AS posted, sum(b.pending)::text AS pending, count(*)::int AS accounts
           FROM audit_zone z JOIN ledger_balances b ON b.account_id = z.id
          WHERE z.zone IN ('budget', 'commitment', 'holding', 'insurer', 'payable', 'transit', 'reintegro') GROUP BY z.zone`,
      );
      const bz = new Map<string, { posted: string; pending: string; accounts: number }>(balances.map((r: { zone: string; posted: string; pending: string; accounts: number }) => [r.zone, r]));
      const mismatches = await m.query(
        `WITH s AS (
           SELECT p.account_id, coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0) AS d, coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0) AS c
             FROM postings p JOIN audit_zone z ON z.id = p.account_id
            WHERE z.zone IN ('budget', 'commitment', 'holding', 'insurer', 'payable', 'transit', 'reintegro') GROUP BY p.account_id)
         SELECT b.account_id AS "accountId", b.code, z.zone, b.posted_debits::text AS "totalDebits", b.posted_credits::text AS "totalCredits",
                coalesce(s.d, 0)::text AS "postingDebits", coalesce(s.c, 0)::text AS "postingCredits"
           FROM audit_zone z JOIN ledger_balances b ON b.account_id = z.id LEFT JOIN s ON s.account_id = z.id
          WHERE z.zone IN ('budget', 'commitment', 'holding', 'insurer', 'payable', 'transit', 'reintegro')
            AND (b.posted_debits <> coalesce(s.d, 0) OR b.posted_credits <> coalesce(s.c, 0))`,
      );

      const flows = [];
      const unexplained = [];
      const perCycle = new Map<string, { disbursed: ReturnType<typeof money>; entries: Set<string> }>();
      for (const r of flowRows) {
        if (r.ambiguous) {
          unexplained.push({ entryId: r.entryId, seq: r.seq, kind: r.kind, effectiveAt: r.effectiveAt, reason: 'entry moves money between more than two zones in both directions; it cannot be attributed' });
          continue;
        }
        const from = r.fromZone as Zone;
        const to = r.toZone as Zone;
        const amount = money(r.amount!);
        flows.push({ from, to, amount });
        const c = classifyFlow(from, to);
        if (!c && touchesProgram(from, to)) {
          unexplained.push({ entryId: r.entryId, seq: r.seq, kind: r.kind, effectiveAt: r.effectiveAt, from, to, amount: formatMoney(amount), reason: `no equation explains a flow from ${from} to ${to}` });
        }
        if (r.cycleId && c?.term === 'disbursed') {
          const cy = perCycle.get(r.cycleId) ?? { disbursed: ZERO, entries: new Set<string>() };
          cy.disbursed = c.sign === 1 ? cy.disbursed.plus(amount) : cy.disbursed.minus(amount);
          cy.entries.add(r.entryId);
          perCycle.set(r.cycleId, cy);
        }
      }
      const result = reconcile({
        flows,
        balances: {
          budgetPosted: dec(bz.get('budget')?.posted),
          budgetPending: dec(bz.get('budget')?.pending),
          commitment: dec(bz.get('commitment')?.posted),
          holding: dec(bz.get('holding')?.posted),
          insurer: dec(bz.get('insurer')?.posted),
          payable: dec(bz.get('payable')?.posted),
          transit: dec(bz.get('transit')?.posted),
          reintegro: dec(bz.get('reintegro')?.posted),
        },
      });
      const cycles = await this.cycles(m, programId, hasCycles, perCycle);
      const payouts = await this.payoutBatches(m, programId);
      const ok = result.equations.every((e) => e.ok) && unexplained.length === 0 && mismatches.length === 0;
      return {
        programId,
        code: program.code,
        currency: program.currency,
        ok,
        ...result.figures,
        accounts: {
          instruments: bz.get('holding')?.accounts ?? 0,
          commitments: bz.get('commitment')?.accounts ?? 0,
          payables: bz.get('payable')?.accounts ?? 0,
          transit: bz.get('transit')?.accounts ?? 0,
        },
        equations: result.equations,
        differences: unexplained.slice(0, MAX_LISTED),
        differenceCount: unexplained.length,
        accountMismatches: mismatches,
        cyclesOk: cycles.every((c) => c.ok !== false),
        cycles,
        payoutsOk: payouts.ok,
        payoutBatches: payouts.batches,
      };
    });
  }

  /** Per cycle: what the ledger disbursed (entries carrying metadata.cycleId) against the cycle's own totals. */
  private async cycles(m: EntityManager, programId: string, hasCycles: boolean, perCycle: Map<string, { disbursed: ReturnType<typeof money>; entries: Set<string> }>) {
    const out: Array<Record<string, unknown>> = [];
    const rows: Array<Record<string, string>> = hasCycles
      ? await m.query(
          `SELECT id, kind, period, status, control_count::text AS "controlCount", control_total::text AS "controlTotal",
                  posted_count::text AS "postedCount", posted_total::text AS "postedTotal",
                  exception_count::text AS "exceptionCount", exception_total::text AS "exceptionTotal"
             FROM disbursement_cycles WHERE program_id = $1 ORDER BY period, kind`,
          [programId],
        )
      : [];
    const seen = new Set<string>();
    for (const c of rows) {
      seen.add(c.id);
      const ledger = perCycle.get(c.id);
      const ledgerTotal = ledger?.disbursed ?? ZERO;
      const postedTotal = money(c.postedTotal);
      const accounted = postedTotal.plus(money(c.exceptionTotal));
      const finished = ['completed', 'completed_with_exceptions'].includes(c.status);
      const checks = {
        ledgerEqualsPosted: ledgerTotal.eq(postedTotal),
        controlAccounted: !finished || accounted.eq(money(c.controlTotal)),
        countAccounted: !finished || Number(c.postedCount) + Number(c.exceptionCount) === Number(c.controlCount),
      };
      out.push({
        cycleId: c.id,
        kind: c.kind,
        period: c.period,
        status: c.status,
        controlCount: Number(c.controlCount),
        controlTotal: formatMoney(c.controlTotal),
        postedCount: Number(c.postedCount),
        postedTotal: formatMoney(c.postedTotal),
        exceptionCount: Number(c.exceptionCount),
        exceptionTotal: formatMoney(c.exceptionTotal),
        ledgerEntries: ledger?.entries.size ?? 0,
        ledgerDisbursed: formatMoney(ledgerTotal),
        difference: formatMoney(postedTotal.minus(ledgerTotal)),
        checks,
        ok: Object.values(checks).every(Boolean),
      });
    }
    // Cycles the ledger knows (metadata.cycleId) but the cycles table does not (or does not exist yet).
    for (const [cycleId, l] of perCycle) {
      if (seen.has(cycleId)) continue;
      out.push({ cycleId, ledgerEntries: l.entries.size, ledgerDisbursed: formatMoney(l.disbursed), controlTotal: null, postedTotal: null, ok: hasCycles ? false : null });
    }
    return out;
  }

  /**
   * Per payout batch: what the ledger moved (the batch's send entry, and the paid and returned
   * entries its lines point to) against the batch's own totals, and the money each batch still
   * has in transit; together they must be the program's bank-in-transit balance, to the centavo.
   */
  private async payoutBatches(m: EntityManager, programId: string) {
    if (!(await this.tableExists(m, 'payout_batches'))) return { ok: true, batches: [] };
    const [transit] = await m.query(`SELECT coalesce(sum(posted), 0)::text AS posted FROM ledger_balances WHERE program_id = $1 AND category = 'bank_in_transit'`, [programId]);
    const rows: Array<Record<string, string>> = await m.query(
      `SELECT b.id, b.number, b.kind, b.status, b.control_total::text AS "controlTotal", b.sent_total::text AS "sentTotal",
              b.exception_total::text AS "exceptionTotal", b.paid_total::text AS "paidTotal", b.rejected_total::text AS "rejectedTotal",
              b.reintegrated_total::text AS "reintegratedTotal",
              (SELECT coalesce(sum(p.amount), 0) FROM postings p WHERE p.entry_id = b.send_entry_id AND p.account_id = b.transit_account_id AND p.side = 'credit')::text AS "ledgerSent",
              (SELECT coalesce(sum(p.amount), 0) FROM postings p
                WHERE p.entry_id IN (SELECT DISTINCT l.result_entry_id FROM payout_lines l WHERE l.batch_id = b.id AND l.status = 'paid')
                  AND p.account_id = b.transit_account_id AND p.side = 'debit')::text AS "ledgerPaid",
              (SELECT coalesce(sum(p.amount), 0) FROM postings p
                WHERE p.entry_id IN (SELECT DISTINCT l.result_entry_id FROM payout_lines l WHERE l.batch_id = b.id AND l.status = 'rejected')
                  AND p.account_id = b.transit_account_id AND p.side = 'debit')::text AS "ledgerReturned"
         FROM payout_batches b WHERE b.program_id = $1 ORDER BY b.number`,
      [programId],
    );
    let inTransit = ZERO;
    const batches = rows.map((b) => {
      const sent = money(b.sentTotal);
      const left = sent.minus(money(b.paidTotal)).minus(money(b.rejectedTotal));
      inTransit = inTransit.plus(left);
      const released = b.status === 'sent' || b.status === 'completed';
      const checks = {
        ledgerEqualsSent: money(b.ledgerSent).eq(sent),
        ledgerEqualsPaid: money(b.ledgerPaid).eq(money(b.paidTotal)),
        ledgerEqualsRejected: money(b.ledgerReturned).eq(money(b.rejectedTotal)),
        controlAccounted: !released || sent.plus(money(b.exceptionTotal)).eq(money(b.controlTotal)),
        resultsWithinSent: left.gte(0) && (b.status !== 'completed' || left.isZero()),
      };
      return {
        batchId: b.id,
        number: b.number,
        kind: b.kind,
        status: b.status,
        controlTotal: formatMoney(b.controlTotal),
        sentTotal: formatMoney(b.sentTotal),
        exceptionTotal: formatMoney(b.exceptionTotal),
        paidTotal: formatMoney(b.paidTotal),
        rejectedTotal: formatMoney(b.rejectedTotal),
        reintegratedTotal: formatMoney(b.reintegratedTotal),
        inTransit: formatMoney(left),
        checks,
        ok: Object.values(checks).every(Boolean),
      };
    });
    return { ok: batches.every((b) => b.ok) && inTransit.eq(money(transit.posted)), inTransit: formatMoney(inTransit), batches };
  }

  private async tableExists(m: EntityManager, name: string): Promise<boolean> {
    const [{ t }] = await m.query(`SELECT to_regclass($1) IS NOT NULL AS t`, [name]);
    return t;
  }
}
