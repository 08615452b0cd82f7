import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { isNoNegativeViolation } from '../common/db-errors';
import { formatMoney, money, Money } from '../common/money';
import { decodeCursor, pageOf } from '../common/pagination';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { isConstituted } from '../beneficiaries/beneficiaries.rules';
import { ProgramsService } from '../programs/programs.service';
import { Actor, CyclesService, ProgramRow } from './cycles.service';
import { assertWithinLimit, AwardInput, awardComponent, awardEnvelope, awardLimit, baseCode, planForAward } from './grant-award.rules';
import { activeGrant, finishedStage, GranteeIdentity, lockGrantee, lockIdentities, pendingProof, priorSupport } from './grants.repository';

export interface ProofDocument {
  reference: string;
  kind?: string;
  description?: string;
}

export interface CreateGrantInput {
  beneficiaryId: string;
  awardAmount: string;
  stage?: string;
  members?: number;
  projectCost?: string;
  otherPrograms?: boolean;
  supportType?: string;
}

export type EndedStatus = 'finished' | 'demanded' | 'rescinded';

const GRANT_COLUMNS = `g.id, g.program_id AS "programId", g.beneficiary_id AS "beneficiaryId", g.award_amount::text AS "awardAmount", g.plan,
  g.account_id AS "accountId", g.award_account_id AS "awardAccountId", g.source_account_id AS "sourceAccountId", g.status, g.stage, g.component,
  g.members, g.project_cost::text AS "projectCost", g.other_programs AS "otherPrograms", g.support_type AS "supportType",
  g.award_limit::text AS "awardLimit", g.limit_bound AS "limitBound", g.limits, g.counterpart_amount::text AS "counterpartAmount",
  g.counterpart_account_id AS "counterpartAccountId", g.created_at AS "createdAt", g.ended_at AS "endedAt", p.time_zone AS "timeZone"`;

/**
 * Grants paid in tranches (PROFACE FOCORE, Cooperativas, Economía Social, FONAES; docs/grants.md):
 * the award within its limits (stage, members, support share, threshold, pending proof, history),
 * its money reserved from its envelope, proofs of spending, the end of an award, and the
 * counterpart's contributions. Tranches are released by tranche cycles (CyclesService) from the
 * award's reserve; recovery (letters, receivables, rescission, restitutions) is the treasury's
 * (treasury/grant-recovery.service.ts).
 */
@Injectable()
export class GrantsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly cycles: CyclesService,
    private readonly programs: ProgramsService,
    private readonly clock: Clock,
  ) {}

  /**
   * POST /v1/programs/{id}/grants: checks the award against the program's rules, then reserves its
   * amount from its envelope (or the budget) into grant:<id>:award in the same transaction. Lock
   * order: the grantee's row and identity locks, then ledger accounts (in the posting).
   */
  async create(programId: string, input: CreateGrantInput, actor: Actor) {
    const program = await this.cycles.findProgram(programId);
    if (!program.rules.tranchePlan || program.instrumentType !== 'grant') {
      throw new ApiProblem(422, 'not_a_grant_program', 'this program does not award grants with a tranche plan');
    }
    const award = money(input.awardAmount);
    const { awardMin, awardMax } = program.rules;
    if ((awardMin && award.lt(money(awardMin))) || (awardMax && award.gt(money(awardMax)))) {
      throw new ApiProblem(422, 'award_out_of_range', `the award must be between ${awardMin ?? '0'} and ${awardMax ?? 'no maximum'}`);
    }
    const projectCost = input.projectCost !== undefined ? money(input.projectCost) : null;
    if (projectCost && award.gt(projectCost)) throw new ApiProblem(422, 'award_above_limit', 'the award is above the project cost', { bound: 'project_cost', limit: formatMoney(projectCost) });
    const plan = planForAward(award, program.rules);
    const id = randomUUID();
    const envelopeAccounts = await this.programs.envelopeAccounts(program);
    return withTransaction(this.db, async (tx) => {
      const who = await lockGrantee(tx, programId, input.beneficiaryId);
      if (!who) throw new ApiProblem(422, 'beneficiary_not_active', 'the grantee must be an active beneficiary of this program');
      await lockIdentities(tx, who);
      const existing = await activeGrant(tx, programId, input.beneficiaryId);
      if (existing) throw new ApiProblem(409, 'grant_exists', 'this beneficiary already has an active grant in the program', { grantId: existing });

      const members = membersOf(who, input.members);
      const awardInput: AwardInput = { stage: input.stage, members, projectCost, otherPrograms: input.otherPrograms, supportType: input.supportType };
      const limit = awardLimit(program.rules, awardInput, { constituted: isConstituted(who.kind as never) });
      assertWithinLimit(award, limit);
      await this.assertMayReceive(tx, program, who, input.stage ?? null, limit.rows.map((r) => r.after).filter((a): a is string => !!a));

      const envelope = awardEnvelope(program.rules, limit.rows, input.stage);
      const source = envelope ? envelopeAccounts.get(envelope)!.id : program.budgetAccountId;
      const component = awardComponent(input.stage);
      const account = await this.grantAccount(id, program, 'grant', `grant:${id}`, tx);
      const reserve = await this.grantAccount(id, program, 'grant_award', `grant:${id}:award`, tx);
      // The reservation comes before the grant row: the row's foreign key to the envelope would
      // otherwise share-lock it ahead of the posting's update lock, and two awards would deadlock.
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'grant_award',
              idempotencyKey: `grant:${id}:award`,
              effectiveAt: this.clock.now(),
              description: `Award of grant ${id} reserved from ${envelope ? `envelope ${envelope}` : 'the budget'} of ${program.code}`,
              metadata: { grantId: id, programId, beneficiaryId: input.beneficiaryId, component, envelope },
              createdBy: actor.name,
              postings: [
                { accountId: source, side: 'debit', amount: award },
                { accountId: reserve, side: 'credit', amount: award },
              ],
            },
            tx,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) {
          throw new ApiProblem(422, 'insufficient_budget', `the award ${formatMoney(award)} exceeds what is available in ${envelope ? `envelope ${envelope}` : 'the budget'} of ${program.code}`, {
            envelope,
          });
        }
        throw error;
      }
      await tx.query(
        `INSERT INTO grants (id, program_id, beneficiary_id, award_amount, plan, account_id, created_by, created_at, stage, component, members, project_cost,
                             other_programs, support_type, award_limit, limit_bound, limits, source_account_id, award_account_id, counterpart_amount, award_entry_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
        [
          id, programId, input.beneficiaryId, award.toFixed(2), JSON.stringify(plan), account, actor.name, this.clock.now(), input.stage ?? null, component,
          members, projectCost?.toFixed(2) ?? null, input.otherPrograms ?? null, input.supportType ?? null, limit.limit, limit.bound,
          JSON.stringify(limit.bounds), source, reserve, projectCost ? projectCost.minus(award).toFixed(2) : null, entryId,
        ],
      );
      return this.view(id, tx);
    });
  }

  /**
   * The checks that look at other awards (docs/grants.md "Who may get an award"): the earlier
   * stage finished (COOP-2), no pending proof in the lineage (blockIfPendingProof: FONAES R004-20),
   * and the support-history rules (FONAES R004-19, Cooperativas COOP-6, Economía Social R003-13).
   */
  private async assertMayReceive(tx: Queryable, program: ProgramRow, who: GranteeIdentity, stage: string | null, after: string[]) {
    const base = baseCode(program.code);
    for (const earlier of new Set(after)) {
      if (!(await finishedStage(tx, who, base, earlier))) {
        throw new ApiProblem(422, 'previous_stage_not_finished', `stage ${stage} needs a finished award of stage ${earlier} (every tranche proven) for this grantee`, { stage, after: earlier });
      }
    }
    if (program.rules.blockIfPendingProof) {
      const pending = await pendingProof(tx, who, base);
      if (pending) {
        throw new ApiProblem(422, 'pending_proof', `an earlier award (${pending.programCode}) has proof of spending pending or money to return`, { grantId: pending.grantId });
      }
    }
    for (const rule of program.rules.supportHistory ?? []) {
      if (rule.stages && !(stage && rule.stages.includes(stage))) continue;
      if (rule.sameStage && !stage) continue;
      const prior = await priorSupport(tx, rule, who, { programId: program.id, base, fiscalYear: program.fiscalYear, stage });
      if (prior) {
        throw new ApiProblem(
          422,
          'support_already_received',
          `${rule.rule}: ${prior.viaMember ? 'a member of the grantee' : 'the grantee'} already received an award (${prior.programCode}, fiscal year ${prior.fiscalYear})`,
          { rule: rule.rule, grantId: prior.grantId },
        );
      }
    }
  }

  private async grantAccount(id: string, program: ProgramRow, category: 'grant' | 'grant_award', code: string, tx: Queryable): Promise<string> {
    const a = await this.ledger.ensureAccount(
      { code, name: code, category, programId: program.id, ownerType: 'grant', ownerId: id, currency: program.currency, noNegativeBalance: true },
      tx,
    );
    return a.id;
  }

  async view(grantId: string, q: Queryable = this.db) {
    const rows = await q.query(`SELECT ${GRANT_COLUMNS} FROM grants g JOIN programs p ON p.id = g.program_id WHERE g.id = $1`, [grantId]);
    if (!rows[0]) throw problems.notFound('grant');
    const g = rows[0];
    const tranches = await q.query(
      `SELECT t.tranche_no AS "trancheNo", t.amount::text AS amount, t.cycle_id AS "cycleId", t.journal_entry_id AS "journalEntryId",
              to_char(t.released_on, 'YYYY-MM-DD') AS "releasedOn", to_char(t.proof_due_on, 'YYYY-MM-DD') AS "proofDueOn", t.status,
              t.proven_at AS "provenAt",
              (SELECT coalesce(sum(p.amount), 0)::text FROM grant_proofs p WHERE p.grant_id = t.grant_id AND p.tranche_no = t.tranche_no AND p.status = 'accepted') AS "provenAmount",
              coalesce((SELECT jsonb_agg(jsonb_build_object('kind', e.kind, 'sentOn', to_char(e.due_on, 'YYYY-MM-DD')) ORDER BY e.due_on, e.kind)
                          FROM tranche_proof_events e WHERE e.grant_id = t.grant_id AND e.tranche_no = t.tranche_no), '[]') AS letters
         FROM grant_tranches t WHERE t.grant_id = $1 ORDER BY t.tranche_no`,
      [grantId],
    );
    const proofs = await q.query(
      `SELECT id, tranche_no AS "trancheNo", amount::text AS amount, documents, status, submitted_by AS "submittedBy", submitted_at AS "submittedAt",
              reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt", review_note AS "reviewNote"
         FROM grant_proofs WHERE grant_id = $1 ORDER BY submitted_at, id`,
      [grantId],
    );
    const [receivable] = await q.query(
      `SELECT r.id, r.cause, r.tranche_no AS "trancheNo", r.amount::text AS amount, r.paid::text AS paid, r.status,
              to_char(r.demanded_on, 'YYYY-MM-DD') AS "demandedOn", to_char(r.due_on, 'YYYY-MM-DD') AS "dueOn",
              to_char(r.referred_on, 'YYYY-MM-DD') AS "referredOn", r.journal_entry_id AS "journalEntryId"
         FROM grant_receivables r WHERE r.grant_id = $1`,
      [grantId],
    );
    const restitutions = await q.query(
      `SELECT id, amount::text AS amount, to_char(paid_on, 'YYYY-MM-DD') AS "paidOn", reference, reintegro_id AS "reintegroId", receipt_entry_id AS "receiptEntryId"
         FROM grant_restitutions WHERE grant_id = $1 ORDER BY paid_on, recorded_at, id`,
      [grantId],
    );
    const today = businessDate(this.clock.now(), g.timeZone);
    const balance = await this.ledger.balance(g.accountId, q);
    const reserved = g.awardAccountId ? (await this.ledger.balance(g.awardAccountId, q)).posted : new Money(0);
    const contributed = g.counterpartAccountId ? (await this.ledger.balance(g.counterpartAccountId, q)).posted : new Money(0);
    return {
      id: g.id,
      programId: g.programId,
      beneficiaryId: g.beneficiaryId,
      awardAmount: formatMoney(g.awardAmount),
      status: g.status,
      stage: g.stage,
      component: g.component,
      members: g.members,
      projectCost: g.projectCost === null ? null : formatMoney(g.projectCost),
      otherPrograms: g.otherPrograms,
      supportType: g.supportType,
      limit: { amount: g.awardLimit === null ? null : formatMoney(g.awardLimit), bound: g.limitBound, bounds: g.limits },
      accountId: g.accountId,
      balance: formatMoney(balance.posted),
      awardAccountId: g.awardAccountId,
      reserved: formatMoney(reserved),
      sourceAccountId: g.sourceAccountId,
      counterpart: {
        amount: g.counterpartAmount === null ? null : formatMoney(g.counterpartAmount),
        accountId: g.counterpartAccountId,
        contributed: formatMoney(contributed),
      },
      plan: g.plan,
      tranches: tranches.map((t: Record<string, string | null>) => ({
        ...t,
        amount: formatMoney(t.amount!),
        provenAmount: formatMoney(t.provenAmount!),
        overdue: t.status === 'released' && t.proofDueOn !== null && t.proofDueOn < today,
      })),
      proofs: proofs.map((p: Record<string, string>) => ({ ...p, amount: formatMoney(p.amount) })),
      receivable: receivable ? { ...receivable, amount: formatMoney(receivable.amount), paid: formatMoney(receivable.paid) } : null,
      restitutions: restitutions.map((r: Record<string, string>) => ({ ...r, amount: formatMoney(r.amount) })),
      createdAt: g.createdAt,
      endedAt: g.endedAt,
    };
  }

  /** Proof of spending for a released tranche of an active award: amount and document references (comprobación). */
  async submitProof(grantId: string, trancheNo: number, input: { amount: string; documents: ProofDocument[] }, actor: Actor) {
    const t = await this.db.query(
      `SELECT t.status, g.status AS "grantStatus" FROM grants g LEFT JOIN grant_tranches t ON t.grant_id = g.id AND t.tranche_no = $2 WHERE g.id = $1`,
      [grantId, trancheNo],
    );
    if (!t[0]) throw problems.notFound('grant');
    if (t[0].grantStatus !== 'active') throw new ApiProblem(422, 'grant_not_active', `the grant is ${t[0].grantStatus}: no more proofs are taken`);
    if (!t[0].status) throw new ApiProblem(422, 'tranche_not_released', `tranche ${trancheNo} has not been released`);
    if (t[0].status === 'proven') throw new ApiProblem(422, 'tranche_already_proven', `tranche ${trancheNo} is already proven`);
    const rows = await this.db.query(
      `INSERT INTO grant_proofs (grant_id, tranche_no, amount, documents, submitted_by, submitted_by_user_id, submitted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [grantId, trancheNo, money(input.amount).toFixed(2), JSON.stringify(input.documents), actor.name, actor.userId, this.clock.now()],
    );
    return this.proof(rows[0].id);
  }

  async proof(proofId: string, q: Queryable = this.db) {
    const rows = await q.query(
      `SELECT id, grant_id AS "grantId", tranche_no AS "trancheNo", amount::text AS amount, documents, status, submitted_by AS "submittedBy",
              submitted_by_user_id AS "submittedByUserId", submitted_at AS "submittedAt", reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt",
              review_note AS "reviewNote",
              (SELECT status FROM grant_tranches t WHERE t.grant_id = p.grant_id AND t.tranche_no = p.tranche_no) AS "trancheStatus",
              (SELECT status FROM grants g WHERE g.id = p.grant_id) AS "grantStatus"
         FROM grant_proofs p WHERE id = $1`,
      [proofId],
    );
    if (!rows[0]) throw problems.notFound('proof');
    const { submittedByUserId: _hidden, ...proof } = rows[0];
    return { ...proof, amount: formatMoney(proof.amount) };
  }

  /**
   * Accepts or rejects a proof (finance staff; not the person who submitted it). The tranche is
   * proven once accepted proofs cover its amount; that unlocks the next tranche, and when every
   * tranche of the plan is released and proven the award is finished (W12: the next stage or an
   * additional support can then be awarded). Locks: grant, proof, tranche — the order of every
   * writer of grants.
   */
  async review(proofId: string, decision: 'accepted' | 'rejected', note: string | null, actor: Actor) {
    return withTransaction(this.db, async (tx) => {
      const head = await tx.query(`SELECT grant_id AS "grantId" FROM grant_proofs WHERE id = $1`, [proofId]);
      if (!head[0]) throw problems.notFound('proof');
      const [grant] = await tx.query(`SELECT status, plan FROM grants WHERE id = $1 FOR UPDATE`, [head[0].grantId]);
      const rows = await tx.query(
        `SELECT id, grant_id AS "grantId", tranche_no AS "trancheNo", status, submitted_by_user_id AS "submittedBy" FROM grant_proofs WHERE id = $1 FOR UPDATE`,
        [proofId],
      );
      const p = rows[0];
      if (p.status !== 'submitted') throw new ApiProblem(409, 'proof_not_pending', `the proof is already ${p.status}`);
      if (p.submittedBy && actor.userId && p.submittedBy === actor.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who submitted the proof cannot review it');
      }
      if (decision === 'accepted' && grant.status !== 'active') {
        throw new ApiProblem(422, 'grant_not_active', `the grant is ${grant.status}: its proofs can only be rejected`);
      }
      const now = this.clock.now();
      await tx.query(`UPDATE grant_proofs SET status = $2, reviewed_by = $3, reviewed_at = $4, review_note = $5 WHERE id = $1`, [
        proofId,
        decision,
        actor.name,
        now,
        note,
      ]);
      if (decision === 'accepted') {
        const t = await tx.query(
          `SELECT t.amount::text AS amount,
                  (SELECT coalesce(sum(p.amount), 0)::text FROM grant_proofs p WHERE p.grant_id = t.grant_id AND p.tranche_no = t.tranche_no AND p.status = 'accepted') AS proven
             FROM grant_tranches t WHERE t.grant_id = $1 AND t.tranche_no = $2 FOR UPDATE`,
          [p.grantId, p.trancheNo],
        );
        if (new Money(t[0].proven).gte(new Money(t[0].amount))) {
          await tx.query(`UPDATE grant_tranches SET status = 'proven', proven_at = $3 WHERE grant_id = $1 AND tranche_no = $2 AND status = 'released'`, [
            p.grantId,
            p.trancheNo,
            now,
          ]);
          const [done] = await tx.query(`SELECT count(*)::int AS n FROM grant_tranches WHERE grant_id = $1 AND status = 'proven'`, [p.grantId]);
          if (done.n === grant.plan.length) await this.endAward(p.grantId, 'finished', actor.name, tx);
        }
      }
      return this.proof(proofId, tx);
    });
  }

  /**
   * Ends an active award (the caller holds its row lock): finished (every tranche proven), demanded
   * (a letter demanded the unproven money) or rescinded. What is still reserved for tranches not
   * released goes back to the envelope or budget it came from (one entry 'grant_award_release'),
   * so failed awards free their money for others (Cooperativas: the waiting list, @953036).
   */
  async endAward(grantId: string, status: EndedStatus, actorName: string, tx: Queryable): Promise<{ releasedAmount: string; releaseEntryId: string | null }> {
    const [g] = await tx.query(
      `SELECT id, status, component, award_account_id AS "awardAccountId", source_account_id AS "sourceAccountId", program_id AS "programId" FROM grants WHERE id = $1`,
      [grantId],
    );
    if (!g || g.status !== 'active') throw new Error(`grant ${grantId} is not active`);
    let releaseEntryId: string | null = null;
    let left = new Money(0);
    if (g.awardAccountId) {
      left = (await this.ledger.balance(g.awardAccountId, tx)).posted;
      if (left.gt(0)) {
        releaseEntryId = (
          await this.ledger.post(
            {
              kind: 'grant_award_release',
              idempotencyKey: `grant:${grantId}:award-release`,
              effectiveAt: this.clock.now(),
              description: `Grant ${grantId} ${status}: unreleased tranches back to where the award came from`,
              metadata: { grantId, programId: g.programId, component: g.component, status },
              createdBy: actorName,
              postings: [
                { accountId: g.awardAccountId, side: 'debit', amount: left },
                { accountId: g.sourceAccountId, side: 'credit', amount: left },
              ],
            },
            tx,
          )
        ).entryId;
      }
    }
    await tx.query(`UPDATE grants SET status = $2, ended_at = $3, release_entry_id = $4 WHERE id = $1`, [grantId, status, this.clock.now(), releaseEntryId]);
    return { releasedAmount: formatMoney(left), releaseEntryId };
  }

  /**
   * The counterpart's contribution to the award's project (M12): counterpart:<grantId> →
   * grant:<id>:counterpart, outside the program's public money (the accounts belong to no program,
   * so the program's reconciliation never mixes the two shares). Idempotent on `ledgerKey`.
   */
  async contributeCounterpart(grantId: string, input: { amount: string; receivedOn: string; reference: string; ledgerKey: string }, actor: Actor) {
    if (!isDate(input.receivedOn)) throw problems.validation('receivedOn is not a real date');
    return withTransaction(this.db, async (tx) => {
      const [g] = await tx.query(`SELECT g.id, g.status, p.currency, p.time_zone AS "timeZone" FROM grants g JOIN programs p ON p.id = g.program_id WHERE g.id = $1 FOR UPDATE OF g`, [grantId]);
      if (!g) throw problems.notFound('grant');
      if (input.receivedOn > businessDate(this.clock.now(), g.timeZone)) throw problems.validation('receivedOn cannot be in the future');
      const common = { ownerType: 'grant', ownerId: grantId, currency: g.currency };
      const source = await this.ledger.ensureAccount({ ...common, code: `counterpart:${grantId}`, name: `counterpart of grant ${grantId}`, category: 'counterpart_source', normalSide: 'debit' }, tx);
      const share = await this.ledger.ensureAccount({ ...common, code: `grant:${grantId}:counterpart`, name: `grant ${grantId} counterpart share`, category: 'grant_counterpart', noNegativeBalance: true }, tx);
      await tx.query(`UPDATE grants SET counterpart_account_id = $2 WHERE id = $1`, [grantId, share.id]);
      const amount = money(input.amount);
      const id = randomUUID();
      const posted = await this.ledger.post(
        {
          kind: 'counterpart_contribution',
          idempotencyKey: input.ledgerKey,
          effectiveAt: this.clock.now(),
          description: `Counterpart contribution to grant ${grantId}: ${input.reference}`,
          metadata: { grantId, reference: input.reference, receivedOn: input.receivedOn, contributionId: id },
          createdBy: actor.name,
          postings: [
            { accountId: source.id, side: 'debit', amount },
            { accountId: share.id, side: 'credit', amount },
          ],
        },
        tx,
      );
      if (!posted.replayed) {
        await tx.query(
          `INSERT INTO grant_counterpart_contributions (id, grant_id, amount, received_on, reference, journal_entry_id, recorded_by, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, grantId, amount.toFixed(2), input.receivedOn, input.reference, posted.entryId, actor.name, this.clock.now()],
        );
      }
      const [row] = await tx.query(
        `SELECT id, grant_id AS "grantId", amount::text AS amount, to_char(received_on, 'YYYY-MM-DD') AS "receivedOn", reference, journal_entry_id AS "journalEntryId"
           FROM grant_counterpart_contributions WHERE journal_entry_id = $1`,
        [posted.entryId],
      );
      return { ...row, amount: formatMoney(row.amount), counterpartContributed: formatMoney((await this.ledger.balance(share.id, tx)).posted) };
    });
  }

  /**
   * GET /v1/programs/{id}/grant-funding: per award the public share (awarded, released, proven,
   * restituted) and the counterpart's share (pledged, contributed), reported separately, with the
   * program's totals; keyset-paged on (created_at, id).
   */
  async funding(programId: string, q: { limit: number; cursor?: string }) {
    const program = await this.cycles.findProgram(programId);
    const after = decodeCursor(q.cursor, ['timestamp', 'uuid'] as const);
    const select = `SELECT g.id AS "grantId", g.beneficiary_id AS "beneficiaryId", g.stage, g.status, g.created_at::text AS "cursorAt",
              g.award_amount AS awarded,
              (SELECT coalesce(sum(t.amount), 0) FROM grant_tranches t WHERE t.grant_id = g.id) AS released,
              (SELECT coalesce(sum(p.amount), 0) FROM grant_proofs p WHERE p.grant_id = g.id AND p.status = 'accepted') AS proven,
              (SELECT coalesce(sum(r.amount), 0) FROM grant_restitutions r WHERE r.grant_id = g.id) AS restituted,
              coalesce(g.counterpart_amount, 0) AS pledged,
              (SELECT coalesce(sum(c.amount), 0) FROM grant_counterpart_contributions c WHERE c.grant_id = g.id) AS contributed
         FROM grants g WHERE g.program_id = $1`;
    const rows: Array<Record<string, any>> = await this.db.query(
      `${select} AND ($2::timestamptz IS NULL OR (g.created_at, g.id) > ($2::timestamptz, $3::uuid)) ORDER BY g.created_at, g.id LIMIT $4`,
      [program.id, after?.[0] ?? null, after?.[1] ?? null, q.limit + 1],
    );
    const [totals] = await this.db.query(
      `SELECT count(*)::int AS awards, coalesce(sum(awarded), 0)::text AS awarded, coalesce(sum(released), 0)::text AS released,
              coalesce(sum(proven), 0)::text AS proven, coalesce(sum(restituted), 0)::text AS restituted,
              coalesce(sum(pledged), 0)::text AS pledged, coalesce(sum(contributed), 0)::text AS contributed
         FROM (${select}) x`,
      [program.id],
    );
    const share = (r: Record<string, any>) => ({
      public: { awarded: formatMoney(String(r.awarded)), released: formatMoney(String(r.released)), proven: formatMoney(String(r.proven)), restituted: formatMoney(String(r.restituted)) },
      counterpart: { pledged: formatMoney(String(r.pledged)), contributed: formatMoney(String(r.contributed)) },
    });
    const page = pageOf(rows, q.limit, (r) => [r.cursorAt, r.grantId], (r) => ({ grantId: r.grantId, beneficiaryId: r.beneficiaryId, stage: r.stage, status: r.status, ...share(r) }));
    return { programId: program.id, totals: { awards: totals.awards, ...share(totals) }, ...page };
  }
}

/**
 * Members the award is computed for: the request's `members`, which a collective's registered
 * members must cover (422 members_not_registered), or the registered count; a person is one.
 */
function membersOf(who: GranteeIdentity, requested: number | undefined): number {
  const registered = who.kind === 'person' ? 1 : who.memberCurps.length;
  if (requested !== undefined && requested > registered) {
    throw new ApiProblem(422, 'members_not_registered', `the award is for ${requested} members but the grantee has ${registered} registered`);
  }
  return requested ?? registered;
}
