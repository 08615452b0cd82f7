import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { bajaPlan, DEACTIVATION_CAUSES } from '../beneficiaries/beneficiaries.rules';
import type { StaffPrincipal } from '../common/auth/principal';
import { actorOf } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { formatMoney } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import { decodeCursor, pageOf } from '../common/pagination';
import type { Queryable } from '../database/queryable';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { Program, ProgramsService } from '../programs/programs.service';
import { BankAccountsService } from './bank-accounts.service';
import { maskClabe } from './clabe.rules';
import {
  BatchRow,
  BatchStatus,
  draftTotals,
  findBatch,
  insertDraft,
  sentLines,
  stageDraftCandidates,
  BATCH_COLUMNS,
} from './payouts.repository';
import {
  assertDistinctLines,
  BATCH_KINDS,
  BatchKind,
  bankCode,
  isBankPaid,
  lineReference,
  maxAttempts,
  PayeeKind,
  payableCode,
  renderBankFile,
  ResultLine,
  transitCode,
} from './payouts.rules';

/** Domain outcomes of payout_apply_results and the problem each one is for the API. */
const RESULT_PROBLEMS: Record<string, { status: number; code: string; detail: string }> = {
  batch_not_sent: { status: 409, code: 'invalid_payout_batch_state', detail: 'results are imported only for a sent batch' },
  line_not_in_batch: { status: 422, code: 'payout_line_not_in_batch', detail: 'a result names a line that is not a line of this batch; nothing was applied' },
  line_not_sent: { status: 422, code: 'payout_line_not_sent', detail: 'a result names a line that was not sent to the bank (an exception or a cancelled line); nothing was applied' },
  amount_mismatch: { status: 422, code: 'payout_amount_mismatch', detail: 'a result reports an amount different from its line; nothing was applied' },
  result_conflict: { status: 422, code: 'payout_result_conflict', detail: 'a result contradicts the result already recorded for its line; nothing was applied' },
};

/**
 * Payables and payout batches (docs/payouts.md). A payee's money waiting for a bank is the
 * balance of its payable (program:<id>:payable:<kind>:<payeeId>), credited by whoever owes it
 * (cycle lines of bank-paid programs, the Seguro premium, loans, suppliers …). A batch drafts
 * every unpaid payable of one kind with frozen control totals; its approval (maker-checker) moves
 * the money to the program's bank-in-transit account and writes the bank file in the same
 * transaction; the bank's results move it on to the bank (paid) or back to the payable
 * (rejected), and after rules.payout.maxAttempts rejections, or at the fiscal-year close, to
 * reintegro with cause payout_rejected.
 */
@Injectable()
export class PayoutsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly programs: ProgramsService,
    private readonly bankAccounts: BankAccountsService,
    private readonly clock: Clock,
  ) {}

  // ---------------------------------------------------------------- payables (for other modules)

  /**
   * The payable of one payee in one program (ensured, idempotent): the account other modules
   * credit with money owed to the payee (loans, grants, suppliers: MONEY-PATHS "Payables and
   * payouts"). Guarded: it never goes below zero. Returns the account id. Call it inside your
   * transaction (q): the account exists when your entry credits it.
   */
  async payableAccount(programId: string, kind: PayeeKind, payeeId: string, q: Queryable = this.db): Promise<string> {
    const program = await this.programs.getById(programId, q);
    // The insurer comes into being with the bank details the rules give it (rules.insurer).
    if (kind === 'insurer') await this.bankAccounts.ensureInsurerFromRules(program, q);
    const [id] = await this.ensurePayables(q, program, kind, [payeeId]);
    return id;
  }

  /** payableAccount for many payees of one kind (a batch of loan disbursements), set-based; ids in the order of payeeIds. */
  async payableAccounts(programId: string, kind: Exclude<PayeeKind, 'insurer'>, payeeIds: string[], q: Queryable = this.db): Promise<string[]> {
    return this.ensurePayables(q, await this.programs.getById(programId, q), kind, payeeIds);
  }

  /** Set-based payableAccount for many payees of one kind (a cycle draft of a bank-paid program). */
  private async ensurePayables(q: Queryable, program: { id: string; code: string; currency: string }, kind: PayeeKind, payeeIds: string[]): Promise<string[]> {
    if (!payeeIds.length) return [];
    const ids = await this.ledger.ensureAccountsBulk(
      { category: 'payee_payable', programId: program.id, ownerType: `payee:${kind}`, currency: program.currency, noNegativeBalance: true },
      payeeIds.map((p) => ({ code: payableCode(program.id, kind, p), name: `${program.code} payable to ${kind} ${p}`, ownerId: p })),
      q,
    );
    await q.query(
      `INSERT INTO payout_payables (account_id, program_id, kind, payee_id, created_at)
       SELECT t.account_id, $1, $2, t.payee_id, $5 FROM unnest($3::uuid[], $4::uuid[]) AS t(account_id, payee_id)
       ON CONFLICT (account_id) DO NOTHING`,
      [program.id, kind, ids, payeeIds, this.clock.now()],
    );
    return ids;
  }

  /** The beneficiary's own payable in the program, if any (a baja with reintegro empties it). */
  async beneficiaryPayableAccounts(programId: string, beneficiaryId: string, q: Queryable = this.db): Promise<string[]> {
    const rows: Array<{ accountId: string }> = await q.query(
      `SELECT account_id AS "accountId" FROM payout_payables WHERE program_id = $1 AND kind = 'beneficiary' AND payee_id = $2`,
      [programId, beneficiaryId],
    );
    return rows.map((r) => r.accountId);
  }

  /**
   * Where a deposit line of a bank-paid program goes (the cycle draft's one question to this
   * module): the beneficiary's payable, for beneficiaries with bank details (ensured here,
   * set-based); without them the line is left out as `missing_bank_account` (the arrears work
   * makes such a period owed). Returns the SQL of a LEFT JOIN aliased `i` with the columns the
   * draft reads (`id` of an instrument — none here —, `account_id`, `expires_at`).
   */
  async depositTarget(q: Queryable, program: { id: string; code: string; currency: string }): Promise<{ join: string; missing: string }> {
    const need: Array<{ id: string }> = await q.query(
      `SELECT b.id FROM beneficiaries b
         JOIN payee_bank_accounts ba ON ba.owner_kind = 'beneficiary' AND ba.owner_id = b.id
        WHERE b.program_id = $1 AND b.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM payout_payables pp WHERE pp.program_id = b.program_id AND pp.kind = 'beneficiary' AND pp.payee_id = b.id)`,
      [program.id],
    );
    await this.ensurePayables(q, program, 'beneficiary', need.map((r) => r.id));
    // Fresh statistics after a big first draft: the join below is then hashed, not looped.
    if (need.length >= 10000) await q.query('ANALYZE payout_payables');
    return {
      join: `LEFT JOIN (
               SELECT pp.program_id, pp.payee_id, NULL::uuid AS id, pp.account_id, NULL::timestamptz AS expires_at
                 FROM payout_payables pp JOIN payee_bank_accounts ba ON ba.owner_kind = 'beneficiary' AND ba.owner_id = pp.payee_id
                WHERE pp.kind = 'beneficiary') i ON i.program_id = b.program_id AND i.payee_id = b.id`,
      missing: `'missing_bank_account'`,
    };
  }

  private async transitAccount(q: Queryable, program: Program): Promise<string> {
    const a = await this.ledger.ensureAccount(
      {
        code: transitCode(program.id),
        name: `${program.code} payouts in transit to the bank`,
        category: 'bank_in_transit',
        programId: program.id,
        ownerType: 'program',
        ownerId: program.id,
        currency: program.currency,
        noNegativeBalance: true,
      },
      q,
    );
    return a.id;
  }

  private async paidAccount(q: Queryable, currency: string): Promise<string> {
    const a = await this.ledger.ensureAccount({ code: bankCode(currency), name: `Payouts bank account (${currency})`, category: 'bank', currency }, q);
    return a.id;
  }

  // ---------------------------------------------------------------- batches

  /**
   * Draft (finance_operator): every unpaid payable of the kind, with frozen control totals; the
   * payees left out are listed (GET …/exclusions) with their reason. One draft per program and
   * kind at a time (409 payout_batch_exists); none to pay → 422 nothing_to_pay.
   */
  async createBatch(input: { programId: string; kind: BatchKind }, staff: StaffPrincipal) {
    const program = await this.programs.getById(input.programId);
    if (!isBankPaid(program)) {
      throw new ApiProblem(422, 'program_not_bank_paid', `program ${program.code} does not pay through a bank (instrumentType bank_account or rules.payout)`);
    }
    const payeeKind = BATCH_KINDS[input.kind];
    const reintegroCauses = DEACTIVATION_CAUSES.filter((c) => bajaPlan(program.rules, c).reintegratePayable);
    const id = randomUUID();
    try {
      await withTransaction(this.db, async (m) => {
        await m.query(`SELECT pg_advisory_xact_lock(hashtext('payout-draft'), hashtext($1))`, [`${program.id}:${input.kind}`]);
        const open = await m.query(`SELECT id FROM payout_batches WHERE program_id = $1 AND kind = $2 AND status = 'draft'`, [program.id, input.kind]);
        if (open[0]) throw new ApiProblem(409, 'payout_batch_exists', `a draft ${input.kind} batch exists for ${program.code}: approve or cancel it first`, { batchId: open[0].id });
        await stageDraftCandidates(m, { programId: program.id, payeeKind, includeGrantAccounts: input.kind === 'grants', reintegroCauses });
        const totals = await draftTotals(m);
        if (totals.count === 0) {
          throw new ApiProblem(422, 'nothing_to_pay', `no unpaid ${payeeKind} payable of ${program.code} can be paid now`, { exclusions: totals.exclusions });
        }
        await insertDraft(m, {
          id,
          programId: program.id,
          kind: input.kind,
          currency: program.currency,
          count: totals.count,
          total: totals.total,
          exclusions: totals.exclusions,
          maxAttempts: maxAttempts(program.rules),
          transitAccountId: await this.transitAccount(m, program),
          bankAccountId: await this.paidAccount(m, program.currency),
          preparedBy: actorOf(staff),
          preparedByUserId: staff.userId,
          now: this.clock.now(),
        });
      });
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'payout_batches_one_draft') {
        throw new ApiProblem(409, 'payout_batch_exists', `a draft ${input.kind} batch exists for ${program.code}: approve or cancel it first`);
      }
      throw error;
    }
    return this.view(await this.batch(id));
  }

  /**
   * Approval (finance_approver, never the preparer): payables → bank in transit and the bank file,
   * in ONE transaction (payout_batch_send, then the file): there is never money in transit
   * without its file, and a crash before the commit leaves the draft as it was.
   */
  async approve(id: string, staff: StaffPrincipal) {
    await withTransaction(this.db, async (m) => {
      const b = await this.batch(id, m, true);
      if (b.status !== 'draft') throw new ApiProblem(409, 'invalid_payout_batch_state', `the batch is ${b.status}; only a draft can be approved`);
      if (b.preparedByUserId && b.preparedByUserId === staff.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who prepared the batch cannot approve it');
      }
      const now = this.clock.now();
      const [sent] = await m.query(`SELECT sent_count AS "sentCount", sent_total::text AS "sentTotal" FROM payout_batch_send($1, $2, $3, $4)`, [
        id,
        now,
        actorOf(staff),
        staff.userId,
      ]);
      if (sent.sentCount > 0) await this.writeFile(m, b, sent.sentTotal, now);
    });
    return this.view(await this.batch(id));
  }

  private async writeFile(m: Queryable, b: BatchRow, total: string, now: Date): Promise<void> {
    const lines = await sentLines(m, b.id);
    const content = renderBankFile(
      b.number,
      lines.map((l) => ({ lineId: l.id, clabe: l.clabe, holderName: l.holderName, amount: l.amount, reference: lineReference(b.number, l.lineNo) })),
      total,
    );
    await m.query(
      `INSERT INTO payout_batch_files (batch_id, content, sha256, byte_count, line_count, total, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [b.id, content, createHash('sha256').update(content).digest('hex'), content.length, lines.length, total, now],
    );
  }

  /** Cancel (draft only): the lines are released, nothing moved. A sent batch waits for the bank's answer. */
  async cancel(id: string, staff: StaffPrincipal, reason: string | null = null) {
    await withTransaction(this.db, async (m) => {
      const b = await this.batch(id, m, true);
      if (b.status !== 'draft') throw new ApiProblem(409, 'invalid_payout_batch_state', `the batch is ${b.status}; only a draft can be cancelled`);
      await m.query(`UPDATE payout_lines SET status = 'cancelled' WHERE batch_id = $1`, [id]);
      await m.query(`UPDATE payout_batches SET status = 'cancelled', cancelled_by = $2, cancelled_at = $3, cancel_reason = $4 WHERE id = $1`, [id, actorOf(staff), this.clock.now(), reason]);
    });
    return this.view(await this.batch(id));
  }

  /** The bank file, exactly the bytes written at approval. */
  async file(id: string): Promise<{ number: string; content: Buffer; sha256: string }> {
    const rows = await this.db.query(
      `SELECT b.number, f.content, f.sha256 FROM payout_batches b LEFT JOIN payout_batch_files f ON f.batch_id = b.id WHERE b.id = $1`,
      [id],
    );
    if (!rows[0]) throw problems.notFound('payout batch');
    if (!rows[0].content) throw new ApiProblem(409, 'payout_file_not_available', 'a bank file exists once the batch is approved with at least one transfer');
    return { number: rows[0].number, content: rows[0].content, sha256: rows[0].sha256 };
  }

  /**
   * The bank's answer (CSV or JSON, already parsed): checked whole, then applied in one
   * transaction (payout_apply_results); a refused import applies nothing. Idempotent: lines
   * already answered the same way are counted as unchanged.
   */
  async importResults(id: string, lines: ResultLine[], source: { format: 'csv' | 'json'; sha256: string }, staff: StaffPrincipal) {
    assertDistinctLines(lines);
    const importId = randomUUID();
    const result = await withTransaction(this.db, async (m) => {
      const b = await this.batch(id, m, true);
      const now = this.clock.now();
      const [r] = await m.query(
        `SELECT outcome, line_ids AS "lineIds", paid, paid_total::text AS "paidTotal", rejected, rejected_total::text AS "rejectedTotal",
                reintegrated, reintegrated_total::text AS "reintegratedTotal", unchanged, seq
           FROM payout_apply_results($1, $2, $3::uuid[], $4::text[], $5::text[], $6::numeric[], $7, $8, $9)`,
        [
          id,
          importId,
          lines.map((l) => l.lineId),
          lines.map((l) => l.status),
          lines.map((l) => l.reason),
          lines.map((l) => l.amount),
          now,
          actorOf(staff),
          b.maxAttempts,
        ],
      );
      const problem = RESULT_PROBLEMS[r.outcome];
      if (problem) throw new ApiProblem(problem.status, problem.code, problem.detail, r.lineIds ? { lineIds: r.lineIds } : {});
      await m.query(
        `INSERT INTO payout_result_imports (id, batch_id, seq, format, sha256, line_count, paid_count, rejected_count, reintegrated_count,
                                            unchanged_count, imported_by, imported_by_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [importId, id, r.seq, source.format, source.sha256, lines.length, r.paid, r.rejected, r.reintegrated, r.unchanged, actorOf(staff), staff.userId, now],
      );
      return r;
    });
    return {
      importId,
      batch: this.view(await this.batch(id)),
      lines: lines.length,
      paid: result.paid,
      paidTotal: formatMoney(result.paidTotal),
      rejected: result.rejected,
      rejectedTotal: formatMoney(result.rejectedTotal),
      reintegrated: result.reintegrated,
      reintegratedTotal: formatMoney(result.reintegratedTotal),
      unchanged: result.unchanged,
    };
  }

  /**
   * Fiscal-year close (called by the treasury's close of the program): money of rejected
   * transfers still waiting for corrected bank details goes to reintegro, cause payout_rejected.
   */
  async reintegrateRejectedAtClose(programId: string, now: Date, actor: string, q: Queryable = this.db) {
    const rows: Array<{ lineId: string; amount: string; reintegroId: string | null }> = await q.query(
      `SELECT line_id AS "lineId", amount::text AS amount, reintegro_id AS "reintegroId"
         FROM payout_reintegrate_lines(ARRAY(
                SELECT l.id FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id
                 WHERE b.program_id = $1 AND l.status = 'rejected' AND l.followup IS NULL ORDER BY l.id), $2, $3, 'fiscal_close')`,
      [programId, now, actor],
    );
    return rows.filter((r) => r.reintegroId).map((r) => ({ ...r, amount: formatMoney(r.amount) }));
  }

  // ---------------------------------------------------------------- views

  private async batch(id: string, q: Queryable = this.db, lock = false): Promise<BatchRow> {
    const b = await findBatch(q, id, lock);
    if (!b) throw problems.notFound('payout batch');
    return b;
  }

  async get(id: string, page: { limit: number; cursor?: string; status?: string }) {
    const b = await this.batch(id);
    const after = Number(decodeCursor(page.cursor, ['int'] as const)?.[0] ?? 0);
    const rows = await this.db.query(
      `SELECT l.id, l.line_no AS "lineNo", l.payee_kind AS "payeeKind", l.payee_id AS "payeeId", l.grant_id AS "grantId",
              l.source_account_id AS "sourceAccountId", l.clabe, l.amount::text AS amount, l.attempt, l.status,
              l.exception_reason AS "exceptionReason", l.result_reason AS "resultReason", l.result_at AS "resultAt",
              l.followup, l.followup_line_id AS "followupLineId", l.reintegro_entry_id AS "reintegroEntryId"
         FROM payout_lines l WHERE l.batch_id = $1 AND l.line_no > $2 AND ($3::text IS NULL OR l.status = $3)
        ORDER BY l.line_no LIMIT $4`,
      [id, after, page.status ?? null, page.limit + 1],
    );
    const { data, nextCursor } = pageOf(
      rows as Array<Record<string, any>>,
      page.limit,
      (l) => [l.lineNo],
      (l) => ({
        ...l,
        // Batches are finance's; the CLABE is whole only in the bank file and for the program's officers.
        clabe: maskClabe(l.clabe),
        reference: lineReference(b.number, l.lineNo),
        amount: formatMoney(l.amount),
        resultAt: l.resultAt ? new Date(l.resultAt).toISOString() : null,
      }),
    );
    return { ...this.view(b), lines: data, nextCursor };
  }

  async exclusions(id: string, page: { limit: number; cursor?: string }) {
    await this.batch(id);
    const after = decodeCursor(page.cursor, ['uuid'] as const)?.[0] ?? null;
    const rows = await this.db.query(
      `SELECT source_account_id AS "sourceAccountId", payee_kind AS "payeeKind", payee_id AS "payeeId", grant_id AS "grantId", reason, amount::text AS amount
         FROM payout_exclusions WHERE batch_id = $1 AND ($2::uuid IS NULL OR source_account_id > $2) ORDER BY source_account_id LIMIT $3`,
      [id, after, page.limit + 1],
    );
    return pageOf(rows as Array<Record<string, string>>, page.limit, (r) => [r.sourceAccountId], (r) => ({ ...r, amount: formatMoney(r.amount) }));
  }

  async list(filter: { programId?: string; status?: BatchStatus; kind?: BatchKind; limit: number; cursor?: string }) {
    const c = decodeCursor(filter.cursor, ['text'] as const)?.[0] ?? null;
    const rows: BatchRow[] = await this.db.query(
      `SELECT ${BATCH_COLUMNS} FROM payout_batches b LEFT JOIN payout_batch_files f ON f.batch_id = b.id
        WHERE ($1::uuid IS NULL OR b.program_id = $1) AND ($2::text IS NULL OR b.status = $2) AND ($3::text IS NULL OR b.kind = $3)
          AND ($4::text IS NULL OR b.number > $4)
        ORDER BY b.number LIMIT $5`,
      [filter.programId ?? null, filter.status ?? null, filter.kind ?? null, c, filter.limit + 1],
    );
    return pageOf(rows, filter.limit, (b) => [b.number], (b) => this.view(b));
  }

  view(b: BatchRow) {
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      id: b.id,
      number: b.number,
      programId: b.programId,
      kind: b.kind,
      status: b.status,
      currency: b.currency,
      controlCount: b.controlCount,
      controlTotal: formatMoney(b.controlTotal),
      sentCount: b.sentCount,
      sentTotal: formatMoney(b.sentTotal),
      exceptionCount: b.exceptionCount,
      exceptionTotal: formatMoney(b.exceptionTotal),
      paidCount: b.paidCount,
      paidTotal: formatMoney(b.paidTotal),
      rejectedCount: b.rejectedCount,
      rejectedTotal: formatMoney(b.rejectedTotal),
      reintegratedCount: b.reintegratedCount,
      reintegratedTotal: formatMoney(b.reintegratedTotal),
      pendingCount: b.sentCount - b.paidCount - b.rejectedCount,
      exclusions: b.exclusions,
      maxAttempts: b.maxAttempts,
      file: b.fileSha256 ? { sha256: b.fileSha256, bytes: b.fileBytes } : null,
      sendEntryId: b.sendEntryId,
      preparedBy: b.preparedBy,
      approvedBy: b.approvedBy,
      approvedAt: iso(b.approvedAt),
      cancelledBy: b.cancelledBy,
      cancelledAt: iso(b.cancelledAt),
      cancelReason: b.cancelReason,
      completedAt: iso(b.completedAt),
      createdAt: iso(b.createdAt),
    };
  }
}
