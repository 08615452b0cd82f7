import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, money } from '../common/money';
import { decodeCursor, pageOf } from '../common/pagination';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { Actor } from '../disbursements/cycles.service';
import { GrantsService } from '../disbursements/grants.service';
import { LedgerService } from '../ledger/ledger.service';
import { ProgramRules } from '../programs/program-rules';
import { ProgramsService } from '../programs/programs.service';
import { demandDueOn, dueLetters, legalReferralOn, rescissionDue } from './grant-recovery.rules';
import { TreasuryService } from './treasury.service';

/**
 * The business date a sweep runs as: the date of its last instant (a sweep `--date D` runs as at
 * the end of D, the first instant after it, which is already D + 1).
 */
function asOfDate(now: Date, timeZone: string): string {
  return businessDate(new Date(now.getTime() - 1), timeZone);
}

/** The bank account where grantees' restitutions arrive (outside every program). */
const RESTITUTIONS_BANK = (currency: string) => `bank:restitutions:${currency}`;

interface GrantRow {
  id: string;
  programId: string;
  beneficiaryId: string;
  status: string;
  accountId: string;
  component: string;
  currency: string;
  timeZone: string;
  rules: ProgramRules;
}

/**
 * Recovery of unproven grant money (rules.recovery; docs/grants.md "Recovery"):
 *  - letters for released tranches whose proof is missing (Cooperativas: day 30 reminder, day 45
 *    first letter, +7 days second letter demanding the unproven remainder);
 *  - a demand or a rescission (PROFACE C-3) opens a RECEIVABLE from the grantee: a memo pair
 *    grant:<id>:receivable / grant:<id>:demanded outside the program's money, and a row in
 *    grant_receivables with its due date; no money moves, nothing goes to the treasury;
 *  - only a restitution the grantee actually paid (POST /v1/grants/{id}/restitutions) moves money:
 *    bank:restitutions → grant:<id> → program:<id>:reintegro, and becomes a reintegro to remit;
 *  - a receivable unpaid after its due date is referred to the legal area.
 */
@Injectable()
export class GrantRecoveryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly grants: GrantsService,
    private readonly programs: ProgramsService,
    private readonly treasury: TreasuryService,
    private readonly clock: Clock,
  ) {}

  /**
   * The daily sweep (sweep kind tranche-proofs) as of `now`: the letters due for every released,
   * unproven tranche of an active grant (a demanding letter opens the receivable and ends the
   * award: its unreleased tranches go back to the envelope), then the legal referrals. Each
   * tranche in its own transaction under the grant's row lock; re-runs record nothing twice.
   */
  async sweep(now: Date, programId: string | null) {
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT t.grant_id AS "grantId", t.tranche_no AS "trancheNo", to_char(t.released_on, 'YYYY-MM-DD') AS "releasedOn", p.time_zone AS "timeZone",
              p.rules -> 'recovery' AS recovery
         FROM grant_tranches t JOIN grants g ON g.id = t.grant_id JOIN programs p ON p.id = g.program_id
        WHERE t.status = 'released' AND g.status = 'active' AND p.rules -> 'recovery' ? 'letters' AND ($1::uuid IS NULL OR g.program_id = $1)
          AND NOT EXISTS (SELECT 1 FROM tranche_proof_events e WHERE e.grant_id = t.grant_id AND e.tranche_no = t.tranche_no AND e.kind = 'reintegro_demand')
        ORDER BY t.released_on, t.grant_id, t.tranche_no`,
      [programId],
    );
    let letters = 0;
    const demands: Array<Record<string, unknown>> = [];
    for (const r of rows) {
      const today = asOfDate(now, r.timeZone);
      const outcome = await withTransaction(this.db, (tx) => this.lettersFor(tx, r.grantId, r.trancheNo, today, now));
      letters += outcome.letters;
      if (outcome.demand) demands.push(outcome.demand);
    }
    const referrals = await this.referToLegal(now, programId);
    return { kind: 'tranche-proofs', asOf: now.toISOString(), tranches: rows.length, letters, demands, referrals };
  }

  private async lettersFor(tx: Queryable, grantId: string, trancheNo: number, today: string, now: Date) {
    const g = await this.lockGrant(tx, grantId);
    const [t] = await tx.query(
      `SELECT to_char(t.released_on, 'YYYY-MM-DD') AS "releasedOn", t.amount::text AS amount, t.status,
              (SELECT coalesce(sum(x.amount), 0)::text FROM grant_proofs x WHERE x.grant_id = t.grant_id AND x.tranche_no = t.tranche_no AND x.status = 'accepted') AS accepted,
              (SELECT count(*)::int FROM grant_proofs x WHERE x.grant_id = t.grant_id AND x.tranche_no = t.tranche_no AND x.status = 'submitted') AS pending,
              coalesce((SELECT jsonb_object_agg(e.kind, to_char(e.due_on, 'YYYY-MM-DD')) FROM tranche_proof_events e WHERE e.grant_id = t.grant_id AND e.tranche_no = t.tranche_no), '{}') AS sent
         FROM grant_tranches t WHERE t.grant_id = $1 AND t.tranche_no = $2`,
      [grantId, trancheNo],
    );
    if (g.status !== 'active' || t.status !== 'released') return { letters: 0, demand: null };
    const recovery = g.rules.recovery!;
    const due = dueLetters(
      recovery.letters!,
      { releasedOn: t.releasedOn, amount: money(t.amount), accepted: money(t.accepted), pendingProofs: t.pending, sent: new Map(Object.entries(t.sent)) },
      today,
    );
    let demand: Record<string, unknown> | null = null;
    for (const letter of due) {
      let receivableId: string | null = null;
      if (letter.demands) {
        const dueOn = demandDueOn(recovery, letter.sentOn);
        receivableId = await this.openReceivable(tx, g, {
          cause: 'unproven_tranche',
          trancheNo,
          amount: letter.demands,
          demandedOn: letter.sentOn,
          dueOn,
          details: { trancheAmount: formatMoney(t.amount), accepted: formatMoney(t.accepted), letter: letter.kind },
          now,
        });
        const ended = await this.grants.endAward(grantId, 'demanded', 'system:sweeps', tx);
        demand = { grantId, trancheNo, amount: formatMoney(letter.demands), dueOn, receivableId, releasedToEnvelope: ended.releasedAmount };
      }
      await tx.query(
        `INSERT INTO tranche_proof_events (grant_id, tranche_no, kind, day, due_on, receivable_id, details, created_at) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)`,
        [grantId, trancheNo, letter.kind, letter.sentOn, receivableId, { releasedOn: t.releasedOn, amount: formatMoney(t.amount), accepted: formatMoney(t.accepted) }, now],
      );
    }
    return { letters: due.length, demand };
  }

  /** Receivables past their due date, of programs whose rules refer them to the legal area. */
  private async referToLegal(now: Date, programId: string | null) {
    const rows: Array<{ id: string; grantId: string; dueOn: string; timeZone: string }> = await this.db.query(
      `SELECT r.id, r.grant_id AS "grantId", to_char(r.due_on, 'YYYY-MM-DD') AS "dueOn", p.time_zone AS "timeZone"
         FROM grant_receivables r JOIN programs p ON p.id = r.program_id
        WHERE r.status = 'open' AND (p.rules -> 'recovery' ->> 'legalReferral')::boolean AND ($1::uuid IS NULL OR r.program_id = $1)
        ORDER BY r.due_on, r.id`,
      [programId],
    );
    const out: Array<Record<string, unknown>> = [];
    for (const r of rows) {
      if (asOfDate(now, r.timeZone) <= r.dueOn) continue;
      const referredOn = legalReferralOn(r.dueOn);
      const done = await this.db.query(`UPDATE grant_receivables SET status = 'referred_to_legal', referred_on = $2 WHERE id = $1 AND status = 'open' RETURNING id`, [r.id, referredOn]);
      if (done.length) out.push({ receivableId: r.id, grantId: r.grantId, referredOn });
    }
    return out;
  }

  /**
   * POST /v1/grants/{id}/rescind {cause, notifiedOn} (PROFACE C-3): the award ends (its
   * unreleased tranches go back to the budget), and the unproven money of the released tranches
   * at the notification is owed, due in the program's business days. Refused while a proof waits
   * for review (409 proofs_pending_review): the amount counts the concepts proven at the notification.
   */
  async rescind(grantId: string, input: { cause: string; notifiedOn: string }, actor: Actor) {
    if (!isDate(input.notifiedOn)) throw problems.validation('notifiedOn is not a real date');
    return withTransaction(this.db, async (tx) => {
      const g = await this.lockGrant(tx, grantId);
      const rule = g.rules.recovery?.rescission;
      if (!rule) throw new ApiProblem(422, 'rescission_not_provided', 'the rules of this program provide no rescission with restitution');
      if (g.status !== 'active') throw problems.conflict('invalid_status_transition', `the grant is ${g.status}; only an active grant is rescinded`);
      if (input.notifiedOn > businessDate(this.clock.now(), g.timeZone)) throw problems.validation('notifiedOn cannot be in the future');
      const [f] = await tx.query(
        `SELECT (SELECT coalesce(sum(amount), 0)::text FROM grant_tranches WHERE grant_id = $1) AS released,
                (SELECT coalesce(sum(amount), 0)::text FROM grant_proofs WHERE grant_id = $1 AND status = 'accepted') AS accepted,
                (SELECT count(*)::int FROM grant_proofs WHERE grant_id = $1 AND status = 'submitted') AS pending`,
        [grantId],
      );
      if (f.pending > 0) throw problems.conflict('proofs_pending_review', `review the ${f.pending} proof(s) waiting first: the restitution counts the concepts proven at the notification`);
      const now = this.clock.now();
      const due = rescissionDue(rule, input.notifiedOn, money(f.released), money(f.accepted));
      const ended = await this.grants.endAward(grantId, 'rescinded', actor.name, tx);
      const receivableId = due.amount.gt(0)
        ? await this.openReceivable(tx, g, {
            cause: 'rescission',
            trancheNo: null,
            amount: due.amount,
            demandedOn: input.notifiedOn,
            dueOn: due.dueOn,
            details: { cause: input.cause, released: formatMoney(f.released), accepted: formatMoney(f.accepted) },
            now,
          })
        : null;
      await tx.query(
        `INSERT INTO grant_rescissions (grant_id, cause, notified_on, receivable_id, release_entry_id, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [grantId, input.cause, input.notifiedOn, receivableId, ended.releaseEntryId, actor.name, now],
      );
      return {
        grantId,
        status: 'rescinded',
        cause: input.cause,
        notifiedOn: input.notifiedOn,
        releasedToBudget: ended.releasedAmount,
        restitutionDue: formatMoney(due.amount),
        dueOn: due.amount.gt(0) ? due.dueOn : null,
        receivableId,
      };
    });
  }

  /**
   * What the grantee owes: a memo entry (grant:<id>:receivable Dr / grant:<id>:demanded Cr, in
   * accounts of no program, so the program's money and reconciliation are untouched) and the
   * receivable row. Called under the grant's row lock; one per grant (a demand or a rescission
   * ends the award).
   */
  private async openReceivable(
    tx: Queryable,
    g: GrantRow,
    r: { cause: 'unproven_tranche' | 'rescission'; trancheNo: number | null; amount: Decimal; demandedOn: string; dueOn: string; details: Record<string, unknown>; now: Date },
  ): Promise<string> {
    const common = { programId: null, ownerType: 'grant', ownerId: g.id, currency: g.currency };
    const receivable = await this.ledger.ensureAccount({ ...common, code: `grant:${g.id}:receivable`, name: `grant ${g.id} owed by the grantee`, category: 'grant_receivable', normalSide: 'debit' }, tx);
    const demanded = await this.ledger.ensureAccount({ ...common, code: `grant:${g.id}:demanded`, name: `grant ${g.id} demanded, not collected`, category: 'grant_demanded' }, tx);
    const posted = await this.ledger.post(
      {
        kind: 'grant_receivable',
        idempotencyKey: `grant:${g.id}:receivable`,
        effectiveAt: r.now,
        description: `Grant ${g.id}: ${r.cause === 'rescission' ? 'restitution due on rescission' : `unproven remainder of tranche ${r.trancheNo} demanded`}`,
        metadata: { grantId: g.id, programId: g.programId, beneficiaryId: g.beneficiaryId, cause: r.cause, trancheNo: r.trancheNo, dueOn: r.dueOn, component: g.component },
        createdBy: 'system:grants',
        postings: [
          { accountId: receivable.id, side: 'debit', amount: r.amount },
          { accountId: demanded.id, side: 'credit', amount: r.amount },
        ],
      },
      tx,
    );
    const [row] = await tx.query(
      `INSERT INTO grant_receivables (grant_id, program_id, tranche_no, cause, amount, demanded_on, due_on, journal_entry_id, details, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [g.id, g.programId, r.trancheNo, r.cause, r.amount.toFixed(2), r.demandedOn, r.dueOn, posted.entryId, r.details, r.now],
    );
    return row.id;
  }

  /**
   * POST /v1/grants/{id}/restitutions {amount, paidOn, reference}: money the grantee paid back
   * against its receivable (422 no_receivable without one, 422 overpayment above what is owed).
   * The money arrives at the bank (bank:restitutions → grant:<id>) and goes to the reintegro
   * payable (grant:<id> → program:<id>:reintegro, a reintegro of cause unproven_tranche, source
   * grant), and the receivable shrinks by it (memo). Idempotent on `ledgerKey` (the request's key).
   */
  async restitute(grantId: string, input: { amount: string; paidOn: string; reference: string; ledgerKey: string }, actor: Actor) {
    if (!isDate(input.paidOn)) throw problems.validation('paidOn is not a real date');
    const amount = money(input.amount);
    return withTransaction(this.db, async (tx) => {
      const g = await this.lockGrant(tx, grantId);
      const replay = await tx.query(`SELECT r.id FROM grant_restitutions r JOIN journal_entries e ON e.id = r.receipt_entry_id WHERE e.idempotency_key = $1`, [`${input.ledgerKey}:receipt`]);
      if (replay[0]) return this.restitution(replay[0].id, tx);
      if (input.paidOn > businessDate(this.clock.now(), g.timeZone)) throw problems.validation('paidOn cannot be in the future');
      const [rcv] = await tx.query(
        `SELECT id, cause, tranche_no AS "trancheNo", amount::text AS amount, paid::text AS paid, journal_entry_id AS "entryId" FROM grant_receivables WHERE grant_id = $1 FOR UPDATE`,
        [grantId],
      );
      if (!rcv) throw new ApiProblem(422, 'no_receivable', 'the grantee owes nothing on this grant: no demand or rescission was made');
      const owed = money(rcv.amount).minus(money(rcv.paid));
      if (amount.gt(owed)) throw new ApiProblem(422, 'overpayment', `the grantee owes ${formatMoney(owed)} on this grant`, { owed: formatMoney(owed) });
      const program = await this.programs.getById(g.programId, tx);
      const bank = await this.ledger.ensureAccount(
        { code: RESTITUTIONS_BANK(g.currency), name: `Restitutions received (${g.currency})`, category: 'bank', normalSide: 'debit', currency: g.currency },
        tx,
      );
      const now = this.clock.now();
      const meta = { grantId, programId: g.programId, beneficiaryId: g.beneficiaryId, receivableId: rcv.id, reference: input.reference, paidOn: input.paidOn, component: g.component };
      const receipt = await this.ledger.post(
        {
          kind: 'grant_restitution_receipt',
          idempotencyKey: `${input.ledgerKey}:receipt`,
          effectiveAt: now,
          description: `Restitution of grant ${grantId} received: ${input.reference}`,
          metadata: meta,
          createdBy: actor.name,
          postings: [
            { accountId: bank.id, side: 'debit', amount },
            { accountId: g.accountId, side: 'credit', amount },
          ],
        },
        tx,
      );
      const toReintegro = await this.ledger.post(
        {
          kind: 'grant_restitution',
          idempotencyKey: `${input.ledgerKey}:reintegro`,
          effectiveAt: now,
          description: `Restitution of grant ${grantId} to the reintegro of ${program.code}`,
          metadata: { ...meta, cause: 'unproven_tranche' },
          createdBy: actor.name,
          postings: [
            { accountId: g.accountId, side: 'debit', amount },
            { accountId: program.reintegroAccountId, side: 'credit', amount },
          ],
        },
        tx,
      );
      const memo = await tx.query(`SELECT account_id AS "accountId", side FROM postings WHERE entry_id = $1`, [rcv.entryId]);
      await this.ledger.post(
        {
          kind: 'grant_receivable_paid',
          idempotencyKey: `${input.ledgerKey}:receivable`,
          effectiveAt: now,
          description: `Receivable of grant ${grantId} reduced by the restitution ${input.reference}`,
          metadata: meta,
          createdBy: actor.name,
          postings: [
            { accountId: memo.find((p: { side: string }) => p.side === 'credit').accountId, side: 'debit', amount },
            { accountId: memo.find((p: { side: string }) => p.side === 'debit').accountId, side: 'credit', amount },
          ],
        },
        tx,
      );
      const reintegroId = await this.treasury.recordReintegro(tx, {
        programId: g.programId,
        cause: 'unproven_tranche',
        amount: amount.toFixed(2),
        source: 'grant',
        sourceAccountIds: [g.accountId],
        journalEntryId: toReintegro.entryId,
        beneficiaryId: g.beneficiaryId,
        grantId,
        trancheNo: rcv.trancheNo,
        details: { restitution: true, receivableId: rcv.id, receivableCause: rcv.cause, reference: input.reference, paidOn: input.paidOn },
        createdAt: now,
      });
      await tx.query(`UPDATE grant_receivables SET paid = paid + $2, status = CASE WHEN paid + $2 = amount THEN 'paid' ELSE status END WHERE id = $1`, [rcv.id, amount.toFixed(2)]);
      const id = randomUUID();
      await tx.query(
        `INSERT INTO grant_restitutions (id, grant_id, receivable_id, amount, paid_on, reference, receipt_entry_id, reintegro_id, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, grantId, rcv.id, amount.toFixed(2), input.paidOn, input.reference, receipt.entryId, reintegroId, actor.name, now],
      );
      return this.restitution(id, tx);
    });
  }

  private async restitution(id: string, q: Queryable) {
    const [r] = await q.query(
      `SELECT s.id, s.grant_id AS "grantId", s.amount::text AS amount, to_char(s.paid_on, 'YYYY-MM-DD') AS "paidOn", s.reference,
              s.receipt_entry_id AS "receiptEntryId", s.reintegro_id AS "reintegroId",
              jsonb_build_object('id', r.id, 'amount', r.amount::text, 'paid', r.paid::text, 'status', r.status) AS receivable
         FROM grant_restitutions s JOIN grant_receivables r ON r.id = s.receivable_id WHERE s.id = $1`,
      [id],
    );
    return {
      ...r,
      amount: formatMoney(r.amount),
      receivable: { ...r.receivable, amount: formatMoney(r.receivable.amount), paid: formatMoney(r.receivable.paid), owed: formatMoney(money(r.receivable.amount).minus(money(r.receivable.paid))) },
    };
  }

  /** GET /v1/grant-receivables?programId&status: what grantees owe, oldest due first; keyset on (due_on, id). */
  async receivables(opts: { programId?: string; status?: string; limit: number; cursor?: string }) {
    const c = decodeCursor(opts.cursor, ['date', 'uuid'] as const);
    const rows = await this.db.query(
      `SELECT r.id, r.grant_id AS "grantId", r.program_id AS "programId", g.beneficiary_id AS "beneficiaryId", r.cause, r.tranche_no AS "trancheNo",
              r.amount::text AS amount, r.paid::text AS paid, r.status, to_char(r.demanded_on, 'YYYY-MM-DD') AS "demandedOn",
              to_char(r.due_on, 'YYYY-MM-DD') AS "dueOn", to_char(r.referred_on, 'YYYY-MM-DD') AS "referredOn"
         FROM grant_receivables r JOIN grants g ON g.id = r.grant_id
        WHERE ($1::uuid IS NULL OR r.program_id = $1) AND ($2::text IS NULL OR r.status = $2)
          AND ($3::date IS NULL OR (r.due_on, r.id) > ($3::date, $4::uuid))
        ORDER BY r.due_on, r.id LIMIT $5`,
      [opts.programId ?? null, opts.status ?? null, c?.[0] ?? null, c?.[1] ?? null, opts.limit + 1],
    );
    return pageOf(rows as Array<Record<string, string>>, opts.limit, (r) => [r.dueOn, r.id], (r) => ({
      ...r,
      amount: formatMoney(r.amount),
      paid: formatMoney(r.paid),
      owed: formatMoney(money(r.amount).minus(money(r.paid))),
    }));
  }

  /** The grant row locked FOR UPDATE (the first lock of every writer of a grant), with its program's rules. */
  private async lockGrant(tx: Queryable, grantId: string): Promise<GrantRow> {
    const [g] = await tx.query(
      `SELECT g.id, g.program_id AS "programId", g.beneficiary_id AS "beneficiaryId", g.status, g.account_id AS "accountId", g.component,
              p.currency, p.time_zone AS "timeZone", p.rules
         FROM grants g JOIN programs p ON p.id = g.program_id WHERE g.id = $1 FOR UPDATE OF g`,
      [grantId],
    );
    if (!g) throw problems.notFound('grant');
    return { ...g, rules: ProgramRules.parse(g.rules) };
  }
}
