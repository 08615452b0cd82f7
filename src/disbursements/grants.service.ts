import { withTransaction } from '../database/transaction';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { businessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, money, Money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import { Actor, CyclesService } from './cycles.service';
import { planTranches } from './cycles.rules';

export interface ProofDocument {
  reference: string;
  kind?: string;
  description?: string;
}

/**
 * Grants paid in tranches (PROFACE FOCORE, Cooperativas, FONAES): the award and its plan, the
 * grant's ledger account, and proofs of spending. Tranches themselves are released by tranche
 * cycles (CyclesService); tranche n+1 only after the proof of tranche n was accepted.
 */
@Injectable()
export class GrantsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly cycles: CyclesService,
    private readonly clock: Clock,
  ) {}

  async create(programId: string, input: { beneficiaryId: string; awardAmount: string }, actor: Actor) {
    const program = await this.cycles.findProgram(programId);
    if (!program.rules.tranchePlan || program.instrumentType !== 'grant') {
      throw new ApiProblem(422, 'not_a_grant_program', 'this program does not award grants with a tranche plan');
    }
    const award = money(input.awardAmount);
    const { awardMin, awardMax } = program.rules;
    if ((awardMin && award.lt(money(awardMin))) || (awardMax && award.gt(money(awardMax)))) {
      throw new ApiProblem(422, 'award_out_of_range', `the award must be between ${awardMin ?? '0'} and ${awardMax ?? 'no maximum'}`);
    }
    const plan = planTranches(award, program.rules.tranchePlan);
    const b = await this.db.query(`SELECT id FROM beneficiaries WHERE id = $1 AND program_id = $2 AND status = 'active'`, [input.beneficiaryId, programId]);
    if (!b[0]) throw new ApiProblem(422, 'beneficiary_not_active', 'the grantee must be an active beneficiary of this program');
    const id = randomUUID();
    return withTransaction(this.db, async (tx) => {
      const account = await this.ledger.ensureAccount(
        {
          code: `grant:${id}`,
          name: `grant ${id}`,
          category: 'grant',
          programId,
          ownerType: 'grant',
          ownerId: id,
          currency: program.currency,
          noNegativeBalance: true,
        },
        tx,
      );
      try {
        await tx.query(
          `INSERT INTO grants (id, program_id, beneficiary_id, award_amount, plan, account_id, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, programId, input.beneficiaryId, award.toFixed(2), JSON.stringify(plan), account.id, actor.name, this.clock.now()],
        );
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new ApiProblem(409, 'grant_exists', 'this beneficiary already has an active grant in the program');
        throw error;
      }
      return this.view(id, tx);
    });
  }

  async view(grantId: string, q: Queryable = this.db) {
    const rows = await q.query(
      `SELECT g.id, g.program_id AS "programId", g.beneficiary_id AS "beneficiaryId", g.award_amount::text AS "awardAmount", g.plan,
              g.account_id AS "accountId", g.status, g.created_at AS "createdAt", p.time_zone AS "timeZone"
         FROM grants g JOIN programs p ON p.id = g.program_id WHERE g.id = $1`,
      [grantId],
    );
    if (!rows[0]) throw problems.notFound('grant');
    const g = rows[0];
    const tranches = await q.query(
      `SELECT t.tranche_no AS "trancheNo", t.amount::text AS amount, t.cycle_id AS "cycleId", t.journal_entry_id AS "journalEntryId",
              to_char(t.released_on, 'YYYY-MM-DD') AS "releasedOn", to_char(t.proof_due_on, 'YYYY-MM-DD') AS "proofDueOn", t.status,
              t.proven_at AS "provenAt",
              (SELECT coalesce(sum(p.amount), 0)::text FROM grant_proofs p WHERE p.grant_id = t.grant_id AND p.tranche_no = t.tranche_no AND p.status = 'accepted') AS "provenAmount"
         FROM grant_tranches t WHERE t.grant_id = $1 ORDER BY t.tranche_no`,
      [grantId],
    );
    const proofs = await q.query(
      `SELECT id, tranche_no AS "trancheNo", amount::text AS amount, documents, status, submitted_by AS "submittedBy", submitted_at AS "submittedAt",
              reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt", review_note AS "reviewNote"
         FROM grant_proofs WHERE grant_id = $1 ORDER BY submitted_at, id`,
      [grantId],
    );
    const today = businessDate(this.clock.now(), g.timeZone);
    const balance = await this.ledger.balance(g.accountId, q);
    return {
      id: g.id,
      programId: g.programId,
      beneficiaryId: g.beneficiaryId,
      awardAmount: formatMoney(g.awardAmount),
      status: g.status,
      accountId: g.accountId,
      balance: formatMoney(balance.posted),
      plan: g.plan,
      tranches: tranches.map((t: Record<string, string | null>) => ({
        ...t,
        amount: formatMoney(t.amount!),
        provenAmount: formatMoney(t.provenAmount!),
        overdue: t.status === 'released' && t.proofDueOn !== null && t.proofDueOn < today,
      })),
      proofs: proofs.map((p: Record<string, string>) => ({ ...p, amount: formatMoney(p.amount) })),
      createdAt: g.createdAt,
    };
  }

  /** Proof of spending for a released tranche: amount and document references (comprobación). */
  async submitProof(grantId: string, trancheNo: number, input: { amount: string; documents: ProofDocument[] }, actor: Actor) {
    const t = await this.db.query(`SELECT status FROM grant_tranches WHERE grant_id = $1 AND tranche_no = $2`, [grantId, trancheNo]);
    if (!t[0]) {
      const g = await this.db.query(`SELECT 1 FROM grants WHERE id = $1`, [grantId]);
      if (!g[0]) throw problems.notFound('grant');
      throw new ApiProblem(422, 'tranche_not_released', `tranche ${trancheNo} has not been released`);
    }
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
              (SELECT status FROM grant_tranches t WHERE t.grant_id = p.grant_id AND t.tranche_no = p.tranche_no) AS "trancheStatus"
         FROM grant_proofs p WHERE id = $1`,
      [proofId],
    );
    if (!rows[0]) throw problems.notFound('proof');
    const { submittedByUserId: _hidden, ...proof } = rows[0];
    return { ...proof, amount: formatMoney(proof.amount) };
  }

  /**
   * Accepts or rejects a proof (finance staff; not the person who submitted it). The tranche is
   * proven once accepted proofs cover its amount; that unlocks the next tranche.
   */
  async review(proofId: string, decision: 'accepted' | 'rejected', note: string | null, actor: Actor) {
    return withTransaction(this.db, async (tx) => {
      const rows = await tx.query(
        `SELECT id, grant_id AS "grantId", tranche_no AS "trancheNo", status, submitted_by_user_id AS "submittedBy" FROM grant_proofs WHERE id = $1 FOR UPDATE`,
        [proofId],
      );
      const p = rows[0];
      if (!p) throw problems.notFound('proof');
      if (p.status !== 'submitted') throw new ApiProblem(409, 'proof_not_pending', `the proof is already ${p.status}`);
      if (p.submittedBy && actor.userId && p.submittedBy === actor.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who submitted the proof cannot review it');
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
        }
      }
      return this.proof(proofId, tx);
    });
  }
}
