import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { describeRfcProblem, rfcProblem } from '../beneficiaries/rfc.rules';
import type { StaffPrincipal } from '../common/auth/principal';
import { businessDate, isDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { isNoNegativeViolation } from '../common/db-errors';
import { formatMoney, money } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import { returnedRows } from '../database/returning';
import { withTransaction } from '../database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { clabeProblem } from '../payouts/clabe.rules';
import { BankAccountsService } from '../payouts/bank-accounts.service';
import { PayoutsService } from '../payouts/payouts.service';
import type { PerHourBenefit } from '../programs/conditional-rules';
import { benefitOfType } from '../programs/parse-rules';
import { Program, ProgramsService } from '../programs/programs.service';
import { invoiceProblem, paymentDueOn, paymentTimeliness, supportTerms } from './training.rules';

const SUPPORT_COLUMNS = `id, program_id AS "programId", beneficiary_id AS "beneficiaryId", supplier_id AS "supplierId", firm_size AS "firmSize", hours,
  price_per_hour::text AS "pricePerHour", exceptional, total::text AS total, program_share::text AS "programShare", firm_copayment::text AS "firmCoPayment",
  status, invoice_ref AS "invoiceRef", to_char(invoice_received_on, 'YYYY-MM-DD') AS "invoiceReceivedOn", attendance_percent AS "attendancePercent",
  to_char(payment_due_on, 'YYYY-MM-DD') AS "paymentDueOn", invoice_entry_id AS "invoiceEntryId"`;

/**
 * Training paid per hour to suppliers (docs/training.md; PACTyFP): suppliers with bank details,
 * supports approved with the program's share and the firm's co-payment, the supplier's invoice
 * posting the share from the budget to the supplier's payable (paid by a suppliers payout batch),
 * and the 45-business-day payment indicator. Pure rules: training.rules.ts.
 */
@Injectable()
export class TrainingService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly ledger: LedgerService,
    private readonly payouts: PayoutsService,
    private readonly bankAccounts: BankAccountsService,
    private readonly clock: Clock,
  ) {}

  async createSupplier(programId: string, input: { name: string; rfc: string; stpsRegistration: string; clabe: string; holderName: string }, staff: StaffPrincipal) {
    const { program } = await this.perHourProgram(programId);
    const rfc = rfcProblem(input.rfc);
    if (rfc) throw new ApiProblem(400, 'invalid_rfc', describeRfcProblem(rfc));
    const clabe = clabeProblem(input.clabe);
    if (clabe) throw new ApiProblem(400, 'invalid_clabe', clabe);
    const id = randomUUID();
    const rows = await this.db.query(
      `INSERT INTO suppliers (id, program_id, name, rfc, stps_registration, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (program_id, rfc) DO NOTHING RETURNING id`,
      [id, program.id, input.name, input.rfc, input.stpsRegistration, `user:${staff.username}`, this.clock.now()],
    );
    if (!rows[0]) throw problems.conflict('supplier_exists', 'a supplier with this RFC is already registered in the program');
    const bank = await this.bankAccounts.set({ kind: 'supplier', id, program }, { clabe: input.clabe, holderName: input.holderName }, staff);
    return { id, programId: program.id, name: input.name, rfc: input.rfc, stpsRegistration: input.stpsRegistration, bankAccount: bank };
  }

  async approveSupport(
    programId: string,
    input: { beneficiaryId: string; supplierId: string; firmSize: string; hours: number; pricePerHour: string; exceptional?: boolean },
    staff: StaffPrincipal,
  ) {
    const { program, benefit } = await this.perHourProgram(programId);
    const terms = supportTerms(benefit, { hours: input.hours, pricePerHour: money(input.pricePerHour), firmSize: input.firmSize, exceptional: input.exceptional ?? false });
    if (!terms.ok) throw new ApiProblem(422, 'support_not_allowed', terms.reason);
    const [firm] = await this.db.query(`SELECT kind, status FROM beneficiaries WHERE id = $1 AND program_id = $2`, [input.beneficiaryId, program.id]);
    if (!firm) throw problems.notFound('beneficiary');
    if (firm.kind !== 'firm' || firm.status !== 'active') throw new ApiProblem(422, 'support_not_allowed', 'the beneficiary must be an active firm of the program');
    const [supplier] = await this.db.query(`SELECT id FROM suppliers WHERE id = $1 AND program_id = $2`, [input.supplierId, program.id]);
    if (!supplier) throw problems.notFound('supplier');
    const id = randomUUID();
    const rows = await this.db.query(
      `INSERT INTO training_supports (id, program_id, beneficiary_id, supplier_id, firm_size, hours, price_per_hour, exceptional, total, program_share, firm_copayment,
                                      status, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'approved', $12, $13)
       ON CONFLICT (program_id, beneficiary_id) DO NOTHING RETURNING ${SUPPORT_COLUMNS}`,
      [
        id, program.id, input.beneficiaryId, input.supplierId, input.firmSize, input.hours, money(input.pricePerHour).toFixed(2), input.exceptional ?? false,
        terms.total.toFixed(2), terms.programShare.toFixed(2), terms.firmCoPayment.toFixed(2), `user:${staff.username}`, this.clock.now(),
      ],
    );
    if (!rows[0]) throw problems.conflict('support_exists', 'this firm already has a training support in the program');
    return { ...rows[0], recognisedPricePerHour: formatMoney(terms.recognisedPricePerHour) };
  }

  /**
   * The supplier's invoice for the program's share: checked (attendance, amount), then the share
   * moves from the budget to the supplier's payable in one journal entry, for the next suppliers
   * payout batch; the payment is due paymentDueBusinessDays business days after the invoice.
   */
  async recordInvoice(supportId: string, input: { invoiceRef: string; receivedOn: string; amount: string; attendancePercent: number }, staff: StaffPrincipal) {
    if (!isDate(input.receivedOn)) throw problems.validation('receivedOn is not a real date');
    return withTransaction(this.db, async (tx) => {
      const [s] = await tx.query(`SELECT ${SUPPORT_COLUMNS} FROM training_supports WHERE id = $1 FOR UPDATE`, [supportId]);
      if (!s) throw problems.notFound('training support');
      if (s.status !== 'approved') throw problems.conflict('invalid_status_transition', 'the support is already invoiced');
      const { program, benefit } = await this.perHourProgram(s.programId);
      if (input.receivedOn > businessDate(this.clock.now(), program.timeZone)) throw new ApiProblem(422, 'invoice_not_allowed', 'receivedOn is in the future');
      const problem = invoiceProblem(benefit, money(s.programShare), { amount: money(input.amount), attendancePercent: input.attendancePercent });
      if (problem) throw new ApiProblem(422, problem.code, problem.detail);
      const payable = await this.payouts.payableAccount(program.id, 'supplier', s.supplierId, tx);
      let entryId: string;
      try {
        entryId = (
          await this.ledger.post(
            {
              kind: 'supplier_invoice',
              idempotencyKey: `training:${s.id}:invoice`,
              effectiveAt: this.clock.now(),
              description: `Training support ${s.id}: the program's share of invoice ${input.invoiceRef}`,
              metadata: { programId: program.id, trainingSupportId: s.id, supplierId: s.supplierId, beneficiaryId: s.beneficiaryId },
              createdBy: `user:${staff.username}`,
              postings: [
                { accountId: program.budgetAccountId, side: 'debit', amount: money(s.programShare) },
                { accountId: payable, side: 'credit', amount: money(s.programShare) },
              ],
            },
            tx,
          )
        ).entryId;
      } catch (error) {
        if (isNoNegativeViolation(error)) throw new ApiProblem(422, 'insufficient_budget', `the program's share ${s.programShare} exceeds the available budget of ${program.code}`);
        throw error;
      }
      const [row] = returnedRows(await tx.query(
        `UPDATE training_supports SET status = 'invoiced', invoice_ref = $2, invoice_received_on = $3, attendance_percent = $4, payment_due_on = $5,
                invoice_entry_id = $6, invoiced_by = $7, invoiced_at = $8
          WHERE id = $1 RETURNING ${SUPPORT_COLUMNS}`,
        [s.id, input.invoiceRef, input.receivedOn, input.attendancePercent, paymentDueOn(benefit, input.receivedOn), entryId, `user:${staff.username}`, this.clock.now()],
      ));
      return row;
    });
  }

  /**
   * OPOCC (@803034) and the 45-business-day term: for each invoiced support, the business days
   * from the invoice to the day the bank reported paid the first suppliers payout line of that
   * supplier after the invoice was posted.
   */
  async paymentIndicator(programId: string) {
    const { program, benefit } = await this.perHourProgram(programId);
    const asOf = businessDate(this.clock.now(), program.timeZone);
    const rows: Array<{ id: string; supplierId: string; programShare: string; invoiceReceivedOn: string; paidAt: Date | null }> = await this.db.query(
      `SELECT s.id, s.supplier_id AS "supplierId", s.program_share::text AS "programShare", to_char(s.invoice_received_on, 'YYYY-MM-DD') AS "invoiceReceivedOn",
              (SELECT min(l.result_at) FROM payout_lines l JOIN payout_batches pb ON pb.id = l.batch_id
                WHERE pb.program_id = s.program_id AND l.payee_kind = 'supplier' AND l.payee_id = s.supplier_id AND l.status = 'paid'
                  AND l.result_at >= s.invoiced_at) AS "paidAt"
         FROM training_supports s WHERE s.program_id = $1 AND s.status = 'invoiced' ORDER BY s.invoice_received_on, s.id`,
      [program.id],
    );
    const data = rows.map((r) => {
      const paidOn = r.paidAt ? businessDate(new Date(r.paidAt), program.timeZone) : null;
      return { supportId: r.id, supplierId: r.supplierId, programShare: r.programShare, invoiceReceivedOn: r.invoiceReceivedOn, paidOn, ...paymentTimeliness(benefit, r.invoiceReceivedOn, paidOn, asOf) };
    });
    const paid = data.filter((d) => d.businessDays !== null);
    const sum = paid.reduce((n, d) => n + d.businessDays!, 0);
    return {
      asOf,
      termBusinessDays: benefit.paymentDueBusinessDays,
      invoiced: data.length,
      paid: paid.length,
      paidOnTime: paid.filter((d) => d.onTime).length,
      overdueUnpaid: data.filter((d) => d.businessDays === null && d.onTime === false).length,
      // OPOCC: average business days from the invoice to the deposit, two decimals.
      averageBusinessDays: paid.length ? money(String(sum)).dividedBy(paid.length).toFixed(2) : null,
      data,
    };
  }

  private async perHourProgram(programId: string): Promise<{ program: Program; benefit: PerHourBenefit }> {
    const program = await this.programs.getById(programId);
    return { program, benefit: benefitOfType(program, 'per_hour', 'does not pay training per hour') };
  }
}
