import { z } from 'zod';
import { DEACTIVATION_CAUSES } from '../beneficiaries/beneficiaries.rules';
import { isMoneyString, isPositiveMoneyString } from '../common/money';
import { isValidClabe } from '../payouts/clabe.rules';
import { EventBenefit, InKindBenefit, ObligationRule, OnComplianceBenefit, PerAttendanceBenefit, PerHourBenefit } from './conditional-rules';
import { loanRuleProblems } from '../loans/loans.rules';
import { AwardCap, Envelope, grantRulesProblems, RecoveryRule, SupportHistoryRule, SupportShare } from './grant-rules';

/**
 * A program's benefit rules as validated data (API.md `rules`, DOMAIN.md). Every fixture in
 * fixtures/programs/ parses with this schema; the padrón, cycles, redemption and treasury read
 * it. Amounts are money strings; dates are business dates (YYYY-MM-DD) in the program's time zone.
 */
const money = z.string().refine(isMoneyString, 'a money string with at most two decimals, e.g. "1075.20"');
const positiveMoney = z.string().refine(isPositiveMoneyString, 'a money string greater than zero with at most two decimals');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const decimalFactor = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal number as a string');

export const SCHOOL_LEVELS = ['preescolar', 'primaria', 'secundaria'] as const;
export const MERCHANT_CATEGORIES = ['grocery', 'pharmacy', 'stationery', 'clothing', 'footwear', 'department_store', 'accredited_supplier', 'other'] as const;

/** How much one cycle line pays. */
export const BenefitRule = z.discriminatedUnion('type', [
  /** The same amount for everyone (Pensión $1,075.20; Uniformes $150 a load). */
  z.object({ type: z.literal('fixed'), amount: positiveMoney }).strict(),
  /** Amount picked by a beneficiary attribute (Útiles: schoolLevel → 60 / 110 / 150). */
  z
    .object({ type: z.literal('by_attribute'), attribute: z.string().min(1), amounts: z.record(z.string(), positiveMoney) })
    .strict(),
  /**
   * Amount as a multiple of the Unidad de Cuenta de la CDMX (Pensión: ½ × 71.68 × 30 = 1,075.20;
   * Desempleo: 30 × 71.68 = 2,150.40). Rounded half-up to the centavo.
   */
  z.object({ type: z.literal('unidades_de_cuenta'), unitValue: positiveMoney, factor: decimalFactor }).strict(),
  /** Grants and loans: amounts are per award (tranche plan / loan terms), not per cycle line. */
  z.object({ type: z.literal('per_award') }).strict(),
  /** Per day attended, from attendance records, paid the month after (Trabajo Digno SCAPAT; conditional-rules.ts). */
  PerAttendanceBenefit,
  /** On recorded events (Mi Primer Trabajo SAEV, SAPLA, SAEP; conditional-rules.ts). */
  EventBenefit,
  /** Per training hour to a supplier, with the firm's co-payment (PACTyFP; conditional-rules.ts). */
  PerHourBenefit,
  /** In kind: rations, packages, services recorded as deliveries; no cash (conditional-rules.ts, docs/in-kind.md). */
  InKindBenefit,
  /** Once a fiscal year per compliant recipient, against an invoice, in a window (Comedores Comunitarios; conditional-rules.ts, docs/compliance.md). */
  OnComplianceBenefit,
]);

/** A credit line inside a loan product (Cali: microcredit, working capital), with its own principal bounds. */
export const LoanLineRule = z
  .object({
    key: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a kebab-case key, e.g. "microcredito"'),
    label: z.string().min(1),
    principalMin: positiveMoney,
    principalMax: positiveMoney,
  })
  .strict();

/**
 * A loan product (API.md "Loans and revolving funds"): principal bounds, `graceMonths` months with
 * nothing due, then `instalments` equal monthly instalments at 0 % interest; at most `maxLoans`
 * loans approved; `revolving`: repayments go back to the lendable pool (the budget) and new loans
 * draw from them. `lines` (optional) split the product into credit lines, each with its own bounds
 * inside the product's; an application then names its line.
 */
export const LoanRule = z
  .object({
    principalMin: positiveMoney,
    principalMax: positiveMoney,
    graceMonths: z.number().int().min(0).max(60),
    instalments: z.number().int().min(1).max(360),
    maxLoans: z.number().int().min(1).optional(),
    revolving: z.boolean().optional(),
    lines: z.array(LoanLineRule).min(1).optional(),
  })
  .strict();

/** An enrolment window (dates inclusive, in the program's time zone) and the agreement that opened it. */
export const EnrolmentRule = z
  .object({
    opensOn: isoDate,
    closesOn: isoDate,
    /** The convenio under which this window is open (R001-03: the next term needs a new one). */
    agreement: z.string().min(1).max(200),
  })
  .strict()
  .refine((e) => e.opensOn <= e.closesOn, 'opensOn is on or before closesOn');

/** A split payment: one cycle line, several credits (Seguro: $1,500 beneficiary + $37 insurer). */
export const SplitRule = z
  .array(
    z
      .object({
        to: z.enum(['beneficiary', 'insurer_payable']),
        amount: positiveMoney,
        label: z.string().optional(),
      })
      .strict(),
  )
  .min(2);

export const ScheduleRule = z.discriminatedUnion('frequency', [
  /** Monthly deposit on a day of the month (Pensión: day 1). */
  z.object({ frequency: z.literal('monthly'), dayOfMonth: z.number().int().min(1).max(28) }).strict(),
  /** A fixed number of loads in the fiscal year (Uniformes: 2; Útiles: 1); dates are set per cycle. */
  z.object({ frequency: z.literal('loads'), count: z.number().int().min(1).max(12), dates: z.array(isoDate).optional() }).strict(),
  /** Released tranche by tranche (grants). */
  z.object({ frequency: z.literal('tranches') }).strict(),
]);

export const EligibilityRule = z
  .object({
    /** Age in whole years at the application date (P3: 68 or more). */
    minAge: z.number().int().min(0).optional(),
    maxAge: z.number().int().min(0).optional(),
    /** Years of residence in the state at the application date (P4: 3). */
    minResidenceYears: z.number().int().min(0).optional(),
    /** CURP state codes accepted as residence (DF = Ciudad de México). */
    residenceStates: z.array(z.string().length(2)).optional(),
    /** Allowed values of attributes.schoolLevel (Útiles). */
    schoolLevels: z.array(z.enum(SCHOOL_LEVELS)).optional(),
    /** At most one benefit every N years (Desempleo: once every 2 years). */
    oncePerYears: z.number().int().min(1).optional(),
  })
  .strict();

export const TrancheRule = z
  .object({
    /** Share of the award, as a decimal string ("0.5"), or a fixed amount. */
    share: decimalFactor.optional(),
    amount: positiveMoney.optional(),
    /** Proof of spending due this many business days after release, or calendar days (Cooperativas: 45). */
    proofDueBusinessDays: z.number().int().min(1).optional(),
    proofDueCalendarDays: z.number().int().min(1).optional(),
    /** What this tranche or stage is, for people (e.g. "Etapa II: equipamiento"). */
    label: z.string().optional(),
  })
  .strict()
  .refine((t) => (t.share === undefined) !== (t.amount === undefined), 'a tranche has either a share or an amount');

/**
 * Programs paid through a bank (API.md "Payouts to banks"): `"bank"`, or the object form that
 * also sets how many rejected transfers a payee's money survives before it goes to reintegro
 * (`maxAttempts`, default 3). Programs with `instrumentType: "bank_account"` are bank-paid too.
 */
export const PayoutRule = z.union([
  z.literal('bank'),
  z.object({ method: z.literal('bank'), maxAttempts: z.number().int().min(1).max(12).optional() }).strict(),
]);

/** The insurer of a split premium (Seguro: $37 a month): who the insurer batches pay, and where. */
export const InsurerRule = z
  .object({ name: z.string().min(1).max(120), clabe: z.string().refine(isValidClabe, 'an 18-digit CLABE with a valid check digit') })
  .strict();

/** What a baja does with the money already paid (P42 for Pensión): move it to reintegro, or leave it with the beneficiary. */
export const BajaEffect = z.enum(['reintegro', 'keep']);
export const OnBajaRule = z.union([
  BajaEffect,
  z.object({ default: BajaEffect, causes: z.partialRecord(z.enum(DEACTIVATION_CAUSES), BajaEffect) }).strict(),
]);

export const ProgramRules = z
  .object({
    benefit: BenefitRule,
    split: SplitRule.optional(),
    schedule: ScheduleRule.optional(),
    /** Months a beneficiary can be paid (Desempleo 6; Violencia 12, or `withAuthorization` 18). */
    maxMonths: z.object({ default: z.number().int().min(1), withAuthorization: z.number().int().min(1).optional() }).strict().optional(),
    /** Last valid business date of vouchers (inclusive), e.g. 2016-12-31. */
    voucherExpiresOn: isoDate.optional(),
    /** Merchant categories where the instrument may be spent; absent = every category. */
    allowedMerchantCategories: z.array(z.enum(MERCHANT_CATEGORIES)).optional(),
    eligibility: EligibilityRule.optional(),
    /** Reingresos allowed (P43: 3). */
    reentryLimit: z.number().int().min(0).default(3),
    /** Card collection: business days after the cards arrive, and failed visits, before baja (P22). */
    cardCollection: z.object({ businessDays: z.number().int().min(1), visits: z.number().int().min(1) }).strict().optional(),
    /** Grants: the tranche plan; tranche n+1 only after proof for tranche n is accepted. */
    tranchePlan: z.array(TrancheRule).min(1).optional(),
    /** Grants and loans: award caps. */
    awardMin: money.optional(),
    awardMax: money.optional(),
    /** Loans (instrumentType loan; docs/loans.md): the loan product, read by src/loans/loans.rules.ts. */
    loan: LoanRule.optional(),
    /** Applications are taken only from opensOn to closesOn inclusive, under one agreement (Cali R001-02/03). */
    enrolment: EnrolmentRule.optional(),
    /** Authorised budget of the fiscal year (appropriated with POST /v1/programs/{id}/appropriations). */
    authorizedBudget: money.optional(),
    /** Meta física: people the program plans to reach (coverage indicator). */
    targetBeneficiaries: z.number().int().min(0).optional(),
    /** What happens to a voucher balance left at expiry (design: the ROs are silent, G2). */
    voucherUnspentAtExpiry: z.enum(['reintegro', 'keep']).optional(),
    /** Grants: caps per stage, modality or sector (grant-rules.ts AwardCap). */
    awardCaps: z.array(AwardCap).min(1).optional(),
    /** Grants: share of the project cost the program may cover, with / without other public programs. */
    supportShares: z.array(SupportShare).min(1).optional(),
    /** Grants: awards above `amount` are paid in at least `minTranches` tranches, the others in one (FONAES R004-07). */
    trancheThreshold: z.object({ amount: positiveMoney, minTranches: z.number().int().min(2) }).strict().optional(),
    /** Grants: a pending proof of spending on an earlier award of the lineage blocks a new one (FONAES R004-20). */
    blockIfPendingProof: z.boolean().optional(),
    /** Grants: earlier awards that forbid a new one (FONAES R004-19, Cooperativas COOP-6, Economía Social R003-13). */
    supportHistory: z.array(SupportHistoryRule).min(1).optional(),
    /** Envelopes of the budget: operating costs and stages (Cooperativas $3M operating; PROFACE 8 % …). */
    envelopes: z.array(Envelope).min(1).optional(),
    /** Grants: what happens to unproven money (letters, demand, payment term, legal referral, rescission). */
    recovery: RecoveryRule.optional(),
    /** Paid through a bank (bank card, transfer): cycle lines wait on payables, grant tranches in the grant account, until a payout batch pays them. */
    payout: PayoutRule.optional(),
    /** The insurer paid the `insurer_payable` part of a split (Seguro S9); required when the split has one. */
    insurer: InsurerRule.optional(),
    /** Baja and balances (API.md "Baja and balances"): one effect for every cause, or a default with exceptions per cause. */
    onBaja: OnBajaRule.optional(),
    /** Monthly obligations (signature, cartilla): a missed one suspends, N in a row → baja (conditional-rules.ts). */
    obligations: z.array(ObligationRule).min(1).optional(),
    /** Where a rule comes from: seed rule ids and design decisions, for people reading the data. */
    notes: z.array(z.string()).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    for (const issue of grantRulesProblems(r)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    const kinds = (r.obligations ?? []).map((o) => o.kind);
    if (new Set(kinds).size !== kinds.length) ctx.addIssue({ code: 'custom', path: ['obligations'], message: 'each obligation kind appears once' });
    for (const issue of loanRuleProblems(r.loan)) ctx.addIssue({ code: 'custom', path: ['loan', ...issue.path], message: issue.message });
    if (r.split?.some((s) => s.to === 'insurer_payable') && r.insurer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['insurer'], message: 'a split with an insurer_payable part needs rules.insurer ({ name, clabe }) to pay it to' });
    }
  });

export type ProgramRules = z.infer<typeof ProgramRules>;
export type BenefitRule = z.infer<typeof BenefitRule>;
export type LoanRule = z.infer<typeof LoanRule>;
export type EnrolmentRule = z.infer<typeof EnrolmentRule>;
