import Decimal from 'decimal.js';
import { z } from 'zod';
import { isPositiveMoneyString } from '../common/money';

/**
 * The grant parts of a program's rules (program-rules.ts), as validated data. Each field is read
 * by code: award limits and stages (disbursements/grant-award.rules.ts), envelopes
 * (programs/envelopes.rules.ts), support history (disbursements/grants.repository.ts) and recovery
 * (treasury/grant-recovery.rules.ts). docs/grants.md.
 */
const positiveMoney = z.string().refine(isPositiveMoneyString, 'a money string greater than zero with at most two decimals');
const fraction = z
  .string()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'a decimal fraction between 0 and 1 as a string, e.g. "0.60"');
const key = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a kebab-case key, e.g. "impulso-1"');
const days = z.number().int().min(1).max(366);

/**
 * One row of a cap table: the stage or modality it belongs to (`stage`, the key of
 * `POST /v1/programs/{id}/grants {stage}`), its cap per award and per member, and which grantees
 * it applies to (member count band, legally constituted or not). Several rows may share a stage
 * (Economía Social ARRANQUE: 5–10 / 11–20 / 21+ members, before / after legal constitution).
 */
export const AwardCap = z
  .object({
    stage: key,
    label: z.string().min(1),
    /** Cap per award (per project, per business, per group). */
    max: positiveMoney,
    /** Cap per member: the award is at most perMember × members. */
    perMember: positiveMoney.optional(),
    /** The row applies to grantees with this many members (inclusive). */
    minMembers: z.number().int().min(1).optional(),
    maxMembers: z.number().int().min(1).optional(),
    /** The row applies only to legally constituted grantees (true) or only to groups before their constitution (false). */
    constituted: z.boolean().optional(),
    /** The envelope the award draws from (a key of `envelopes` with purpose `awards`). */
    envelope: key.optional(),
    /** An award of this stage needs a finished award of stage `after` for the same grantee (Cooperativas: stage II after stage I). */
    after: key.optional(),
  })
  .strict();

/** Share of the project cost the award may cover, with and without other public programs (FONAES R004-02). */
export const SupportShare = z
  .object({
    key,
    label: z.string().min(1),
    withOtherPrograms: fraction,
    withoutOtherPrograms: fraction,
  })
  .strict();

/**
 * Earlier awards that forbid a new one. An earlier award counts when it is in the same lineage
 * (`same_base`: the program's base code, every fiscal year) or in another program (`other_bases`),
 * in the fiscal years [Y − fiscalYearsBefore, Y − 1] plus Y itself when `currentFiscalYear`
 * (Y = the fiscal year of the new award), of the same stage when `sameStage`, of one of `stages`
 * when given (and the rule applies only to new awards of those stages), and shares an identity
 * with the new grantee: its CURP or RFC (`grantee`), or also any member's CURP (`grantee_and_members`).
 */
export const SupportHistoryRule = z
  .object({
    /** The seed rule this enforces, named in the refusal (e.g. "R004-19"). */
    rule: z.string().min(1),
    programs: z.enum(['same_base', 'other_bases']),
    fiscalYearsBefore: z.number().int().min(0).max(20),
    currentFiscalYear: z.boolean(),
    sameStage: z.boolean().optional(),
    stages: z.array(key).min(1).optional(),
    who: z.enum(['grantee', 'grantee_and_members']),
  })
  .strict()
  .refine((r) => r.fiscalYearsBefore > 0 || r.currentFiscalYear, 'a support-history rule looks at some fiscal year');

/**
 * An envelope of the budget: filled from each appropriation (a fixed `amount`, or a `share` of
 * everything appropriated), in the order listed. `awards` envelopes are drawn by the awards of the
 * stages that name them; `operating` envelopes (operating costs, insurance, evaluation, publicity)
 * can never be drawn by an award.
 */
export const Envelope = z
  .object({
    key,
    label: z.string().min(1),
    purpose: z.enum(['awards', 'operating']),
    amount: positiveMoney.optional(),
    share: fraction.optional(),
  })
  .strict()
  .refine((e) => (e.amount === undefined) !== (e.share === undefined), 'an envelope has either an amount or a share');

/** A letter about a released tranche whose proof is missing. */
export const RecoveryLetter = z
  .object({
    kind: z.enum(['reminder', 'first_letter', 'second_letter']),
    /** Calendar days after the tranche was received (released). */
    daysAfterRelease: days.optional(),
    /** Or calendar days after the previous letter (deemed received the day it is sent: design). */
    daysAfterPreviousLetter: days.optional(),
    /** This letter demands the unproven remainder: a receivable from the grantee is opened. */
    demands: z.boolean().optional(),
  })
  .strict()
  .refine((l) => (l.daysAfterRelease === undefined) !== (l.daysAfterPreviousLetter === undefined), 'a letter is timed after the release or after the previous letter');

export const RecoveryRule = z
  .object({
    /** Letters in the order they are sent; at most one demands. */
    letters: z.array(RecoveryLetter).min(1).optional(),
    /** Calendar days the grantee has to pay a demanded remainder (Cooperativas: 7). */
    payWithinDays: days.optional(),
    /** Rescission (PROFACE C-3): the unproven money at notification is due within this many business days. */
    rescission: z.object({ payWithinBusinessDays: days }).strict().optional(),
    /** A receivable still unpaid after its due date is referred to the legal area. */
    legalReferral: z.boolean().optional(),
  })
  .strict()
  .refine((r) => (r.letters ?? []).filter((l) => l.demands).length <= 1, 'at most one letter demands the money')
  .refine((r) => !r.letters?.[0]?.daysAfterPreviousLetter, 'the first letter is timed after the release')
  .refine((r) => !(r.letters ?? []).some((l) => l.demands) || r.payWithinDays !== undefined, 'a demanding letter needs payWithinDays');

export type AwardCap = z.infer<typeof AwardCap>;
export type SupportShare = z.infer<typeof SupportShare>;
export type SupportHistoryRule = z.infer<typeof SupportHistoryRule>;
export type Envelope = z.infer<typeof Envelope>;
export type RecoveryRule = z.infer<typeof RecoveryRule>;
export type RecoveryLetter = z.infer<typeof RecoveryLetter>;

/** Cross-field checks of the grant rules; the issues, empty when consistent. */
export function grantRulesProblems(r: {
  tranchePlan?: unknown[];
  trancheThreshold?: { minTranches: number };
  awardCaps?: AwardCap[];
  supportShares?: SupportShare[];
  supportHistory?: SupportHistoryRule[];
  envelopes?: Envelope[];
}): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const envelopes = new Map((r.envelopes ?? []).map((e) => [e.key, e]));
  if (envelopes.size !== (r.envelopes ?? []).length) out.push({ path: ['envelopes'], message: 'envelope keys are unique' });
  const shares = (r.envelopes ?? []).reduce((sum, e) => (e.share === undefined ? sum : sum.plus(e.share)), new Decimal(0));
  if (shares.gt(1)) out.push({ path: ['envelopes'], message: 'envelope shares add up to at most 1' });
  const stages = new Set((r.awardCaps ?? []).map((c) => c.stage));
  (r.awardCaps ?? []).forEach((c, i) => {
    if (c.envelope !== undefined && envelopes.get(c.envelope)?.purpose !== 'awards') {
      out.push({ path: ['awardCaps', i, 'envelope'], message: `no awards envelope "${c.envelope}"` });
    }
    if (c.after !== undefined && !stages.has(c.after)) out.push({ path: ['awardCaps', i, 'after'], message: `no stage "${c.after}"` });
    if (c.minMembers !== undefined && c.maxMembers !== undefined && c.minMembers > c.maxMembers) {
      out.push({ path: ['awardCaps', i], message: 'minMembers is at most maxMembers' });
    }
  });
  if (new Set((r.supportShares ?? []).map((s) => s.key)).size !== (r.supportShares ?? []).length) {
    out.push({ path: ['supportShares'], message: 'support share keys are unique' });
  }
  (r.supportHistory ?? []).forEach((h, i) => {
    for (const s of h.stages ?? []) if (!stages.has(s)) out.push({ path: ['supportHistory', i, 'stages'], message: `no stage "${s}"` });
  });
  if (r.trancheThreshold && (r.tranchePlan?.length ?? 0) < r.trancheThreshold.minTranches) {
    out.push({ path: ['tranchePlan'], message: `above the threshold an award is paid in at least ${r.trancheThreshold.minTranches} tranches: the plan needs as many` });
  }
  return out;
}
