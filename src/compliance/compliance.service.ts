import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BeneficiariesService } from '../beneficiaries/beneficiaries.service';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { isNoNegativeViolation } from '../common/db-errors';
import { money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { returnedRows } from '../database/returning';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { PayoutsService } from '../payouts/payouts.service';
import type { OnComplianceBenefit } from '../programs/conditional-rules';
import { ProgramAccessService } from '../programs/program-access.service';
import { benefitOfType } from '../programs/parse-rules';
import { Program, ProgramsService } from '../programs/programs.service';
import { paymentRefusal, paymentWindow } from './compliance.rules';

const COLUMNS = `id, program_id AS "programId", beneficiary_id AS "beneficiaryId", fiscal_year AS "fiscalYear", status, evidence_ref AS "evidenceRef",
  to_char(verified_on, 'YYYY-MM-DD') AS "verifiedOn", recorded_by AS "recordedBy", recorded_at AS "recordedAt", invoice_ref AS "invoiceRef",
  to_char(invoice_date, 'YYYY-MM-DD') AS "invoiceDate", invoice_amount::text AS "invoiceAmount", amount::text AS amount, entry_id AS "entryId",
  paid_by AS "paidBy", paid_at AS "paidAt"`;

/**
 * Once a fiscal year per compliant recipient, against an invoice (docs/compliance.md; Comedores
 * Comunitarios CC1–CC2): an officer records the compliance, then a finance operator pays, in the
 * window, against the invoice; the payment's journal entry credits the recipient's payable and a
 * beneficiaries payout batch sends it to its CLABE. Pure rules: compliance.rules.ts.
 */
@Injectable()
export class ComplianceService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly beneficiaries: BeneficiariesService,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly ledger: LedgerService,
    private readonly payouts: PayoutsService,
    private readonly clock: Clock,
  ) {}

  async recordCompliance(beneficiaryId: string, input: { verifiedOn: string; evidenceRef: string }, staff: StaffPrincipal) {
    if (!isDate(input.verifiedOn)) throw problems.validation('verifiedOn is not a real date');
    return withTransaction(this.db, async (m) => {
      const { b, program, today } = await this.recipient(beneficiaryId, staff, m);
      if (input.verifiedOn > today) throw problems.unprocessable('record_not_allowed', 'verifiedOn is in the future');
      if (!input.verifiedOn.startsWith(`${program.fiscalYear}-`)) throw problems.unprocessable('record_not_allowed', `verifiedOn must be in the fiscal year ${program.fiscalYear}`);
      const rows = await m.query(
        `INSERT INTO compliance_payments (id, program_id, beneficiary_id, fiscal_year, status, evidence_ref, verified_on, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, 'compliant', $5, $6, $7, $8) ON CONFLICT (program_id, beneficiary_id, fiscal_year) DO NOTHING RETURNING ${COLUMNS}`,
        [randomUUID(), program.id, b.id, program.fiscalYear, input.evidenceRef, input.verifiedOn, `user:${staff.username}`, this.clock.now()],
      );
      if (!rows[0]) throw problems.conflict('record_exists', `the compliance of ${program.fiscalYear} is already recorded`);
      return rows[0];
    });
  }

  /**
   * The payment: refused without a compliance (422 compliance_not_recorded), a second time in the
   * fiscal year (409 already_paid), outside the window (422 outside_payment_window) or with an
   * invoice below the amount; else one journal entry budget → the recipient's payable. The
   * record's row is locked, so parallel requests pay once.
   */
  async pay(beneficiaryId: string, input: { invoiceRef: string; invoiceDate: string; invoiceAmount: string }, staff: StaffPrincipal) {
    if (!isDate(input.invoiceDate)) throw problems.validation('invoiceDate is not a real date');
    return withTransaction(this.db, async (m) => {
      const { b, program, benefit, today } = await this.recipient(beneficiaryId, staff, m);
      const [record] = await m.query(`SELECT ${COLUMNS} FROM compliance_payments WHERE program_id = $1 AND beneficiary_id = $2 AND fiscal_year = $3 FOR UPDATE`, [
        program.id, b.id, program.fiscalYear,
      ]);
      const refusal = paymentRefusal(benefit, program.fiscalYear, record ?? null, today, { date: input.invoiceDate, amount: money(input.invoiceAmount) });
      if (refusal) throw new ApiProblem(refusal.status, refusal.code, refusal.detail);
      const payable = await this.payouts.payableAccount(program.id, 'beneficiary', b.id, m);
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'compliance_payment',
              idempotencyKey: `compliance:${record.id}:payment`,
              effectiveAt: this.clock.now(),
              description: `Support of ${program.fiscalYear} on compliance, invoice ${input.invoiceRef}`,
              metadata: { programId: program.id, beneficiaryId: b.id, compliancePaymentId: record.id },
              createdBy: `user:${staff.username}`,
              postings: [
                { accountId: program.budgetAccountId, side: 'debit', amount: money(benefit.amount) },
                { accountId: payable, side: 'credit', amount: money(benefit.amount) },
              ],
            },
            m,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) throw new ApiProblem(422, 'insufficient_budget', `${benefit.amount} exceeds the available budget of ${program.code}`);
        throw error;
      }
      const [row] = returnedRows(
        await m.query(
          `UPDATE compliance_payments SET status = 'paid', invoice_ref = $2, invoice_date = $3, invoice_amount = $4, amount = $5, entry_id = $6, paid_by = $7, paid_at = $8
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [record.id, input.invoiceRef, input.invoiceDate, money(input.invoiceAmount).toFixed(2), money(benefit.amount).toFixed(2), entryId, `user:${staff.username}`, this.clock.now()],
        ),
      );
      return row;
    });
  }

  /** The recipient's compliance and payment of the program's fiscal year, with the payment window. */
  async get(beneficiaryId: string, staff: StaffPrincipal) {
    const b = await this.beneficiaries.findRow(beneficiaryId);
    if (!b) throw problems.notFound('beneficiary');
    const { program, benefit } = await this.onComplianceProgram(b.programId);
    if (!(await this.access.canSeeIdentity(staff, program))) throw problems.forbidden(`program ${program.code} is confidential and you are not assigned to it`);
    const [record] = await this.db.query(`SELECT ${COLUMNS} FROM compliance_payments WHERE program_id = $1 AND beneficiary_id = $2 AND fiscal_year = $3`, [
      program.id, b.id, program.fiscalYear,
    ]);
    if (!record) throw problems.notFound('compliance record');
    return { ...record, window: paymentWindow(benefit, program.fiscalYear) };
  }

  private async recipient(id: string, staff: StaffPrincipal, m: Queryable) {
    const b = await this.beneficiaries.findRow(id, m, true);
    if (!b) throw problems.notFound('beneficiary');
    const { program, benefit } = await this.onComplianceProgram(b.programId, m);
    await this.access.assertMayManage(staff, program, m);
    if (b.status !== 'active') throw problems.conflict('invalid_status_transition', 'the beneficiary is inactive');
    return { b, program, benefit, today: businessDate(this.clock.now(), program.timeZone) };
  }

  private async onComplianceProgram(programId: string, q?: Queryable): Promise<{ program: Program; benefit: OnComplianceBenefit }> {
    const program = await this.programs.getById(programId, q);
    return { program, benefit: benefitOfType(program, 'on_compliance', 'does not pay on compliance') };
  }
}
