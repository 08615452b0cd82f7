import Decimal from 'decimal.js';
import { formatMoney, money, Money } from '../common/money';
import { ApiProblem } from '../common/problem';
import type { AwardCap } from '../programs/grant-rules';
import type { ProgramRules } from '../programs/program-rules';
import { PlannedTranche, planTranches } from './cycles.rules';

/**
 * Pure rules of a grant award (no I/O; test/unit/grant-award-rules.spec.ts): which cap rows of the
 * program apply to the grantee, the award limit and the bound that sets it, the tranche plan
 * (threshold), and where the award's money comes from. docs/grants.md "Award limits".
 */

export interface AwardInput {
  /** The stage or modality (a `stage` of rules.awardCaps). */
  stage?: string | null;
  /** Members the award is for (a collective's registered members when not given). */
  members?: number | null;
  projectCost?: Decimal | null;
  /** Other public programs contribute to the project (the smaller support share applies). */
  otherPrograms?: boolean | null;
  /** The support type (a `key` of rules.supportShares). */
  supportType?: string | null;
}

/** The grantee as the cap tables see it: legally constituted or not (null: a person). */
export interface GranteeFacts {
  constituted: boolean | null;
}

export type BoundKind = 'stage_cap' | 'member_cap' | 'support_share' | 'program_cap';

export interface Bound {
  bound: BoundKind;
  amount: string;
  detail: string;
}

export interface AwardLimit {
  /** The smallest bound, or null when the program sets none (the budget is then the only limit). */
  limit: string | null;
  /** The bound that set the limit. */
  bound: BoundKind | null;
  bounds: Bound[];
  /** The cap rows of the stage that apply to this grantee (empty without a stage). */
  rows: AwardCap[];
}

/** The cap rows of `stage` that apply to a grantee with these facts; 422 when the stage is unknown or none applies. */
export function stageRows(rules: ProgramRules, stage: string, grantee: GranteeFacts, members: number | null): AwardCap[] {
  const all = (rules.awardCaps ?? []).filter((c) => c.stage === stage);
  if (!all.length) {
    const known = [...new Set((rules.awardCaps ?? []).map((c) => c.stage))];
    throw new ApiProblem(422, 'invalid_stage', known.length ? `stage must be one of ${known.join(', ')}` : 'this program has no stages', { stage });
  }
  const rows = all.filter(
    (c) =>
      (c.constituted === undefined || c.constituted === grantee.constituted) &&
      (members === null || ((c.minMembers ?? 1) <= members && members <= (c.maxMembers ?? Number.MAX_SAFE_INTEGER))),
  );
  if (!rows.length) {
    const who = grantee.constituted === null ? 'a person' : grantee.constituted ? 'a legally constituted grantee' : 'a group not yet legally constituted';
    throw new ApiProblem(422, 'stage_not_applicable', `no cap of stage ${stage} applies to ${who}${members === null ? '' : ` with ${members} members`}`, { stage });
  }
  return rows;
}

/**
 * The award limit: the smallest of the stage cap, the per-member cap × members and the support
 * share × project cost; a bound whose input is absent is not computed, but the program's largest
 * cap always applies (API.md "Grants").
 */
export function awardLimit(rules: ProgramRules, input: AwardInput, grantee: GranteeFacts): AwardLimit {
  const members = input.members ?? null;
  const bounds: Bound[] = [];
  const caps = rules.awardCaps ?? [];
  if (caps.length) {
    const largest = caps.reduce((a, b) => (money(b.max).gt(money(a.max)) ? b : a));
    bounds.push({ bound: 'program_cap', amount: formatMoney(largest.max), detail: `the program's largest cap (${largest.label})` });
  }
  let rows: AwardCap[] = [];
  if (input.stage) {
    rows = stageRows(rules, input.stage, grantee, members);
    const cap = rows.reduce((a, b) => (money(b.max).gt(money(a.max)) ? b : a));
    bounds.push({ bound: 'stage_cap', amount: formatMoney(cap.max), detail: `the cap of ${rows.length === 1 ? cap.label : `stage ${input.stage}`}` });
    // The per-member cap needs the member count; with it, exactly the row of that band applies.
    if (members !== null && rows.length === 1 && rows[0].perMember) {
      const amount = money(rows[0].perMember).times(members);
      bounds.push({ bound: 'member_cap', amount: formatMoney(amount), detail: `${formatMoney(rows[0].perMember)} per member × ${members} members (${rows[0].label})` });
    }
  }
  const shares = rules.supportShares ?? [];
  if (input.projectCost && shares.length) {
    let candidates = shares;
    if (input.supportType) {
      candidates = shares.filter((s) => s.key === input.supportType);
      if (!candidates.length) {
        throw new ApiProblem(422, 'invalid_support_type', `supportType must be one of ${shares.map((s) => s.key).join(', ')}`, { supportType: input.supportType });
      }
    }
    const pick = (s: (typeof shares)[number]) => new Money(input.otherPrograms ? s.withOtherPrograms : s.withoutOtherPrograms);
    const share = candidates.reduce((a, b) => (pick(b).gt(pick(a)) ? b : a));
    const amount = input.projectCost.times(pick(share)).toDecimalPlaces(2, Decimal.ROUND_DOWN);
    bounds.push({
      bound: 'support_share',
      amount: formatMoney(amount),
      detail: `${pick(share).times(100).toString()} % of the project cost ${formatMoney(input.projectCost)} (${share.label}, ${input.otherPrograms ? 'with' : 'without'} other programs)`,
    });
  }
  if (!bounds.length) return { limit: null, bound: null, bounds, rows };
  // The smallest bound; on a tie the more specific one names the limit (stage, member, share, program).
  const order: BoundKind[] = ['member_cap', 'support_share', 'stage_cap', 'program_cap'];
  const min = [...bounds].sort((a, b) => money(a.amount).cmp(money(b.amount)) || order.indexOf(a.bound) - order.indexOf(b.bound))[0];
  return { limit: min.amount, bound: min.bound, bounds, rows };
}

/** 422 award_above_limit naming the bound that applied, or nothing. */
export function assertWithinLimit(award: Decimal, limit: AwardLimit): void {
  if (limit.limit === null || award.lte(money(limit.limit))) return;
  const applied = limit.bounds.find((b) => b.bound === limit.bound)!;
  throw new ApiProblem(422, 'award_above_limit', `the award ${formatMoney(award)} is above the limit ${limit.limit}: ${applied.detail}`, {
    limit: limit.limit,
    bound: limit.bound,
    bounds: limit.bounds,
  });
}

/**
 * The tranches of an award. With a threshold (FONAES R004-07) an award up to it is paid in one
 * tranche (with the first plan entry's proof deadline and label), an award above it by the whole
 * plan, which has at least `minTranches` entries (schema). Otherwise the plan.
 */
export function planForAward(award: Decimal, rules: ProgramRules): PlannedTranche[] {
  const plan = rules.tranchePlan!;
  if (rules.trancheThreshold && award.lte(money(rules.trancheThreshold.amount))) {
    const { share: _share, amount: _amount, ...first } = plan[0];
    return planTranches(award, [{ ...first, share: '1' }]);
  }
  return planTranches(award, plan);
}

/**
 * Where an award's money comes from: the envelope of its stage row, or — when the program has no
 * envelopes for awards — its budget. A program whose awards draw from stage envelopes needs the
 * stage (422 stage_required): an award can never draw operating money.
 */
export function awardEnvelope(rules: ProgramRules, rows: AwardCap[], stage: string | null | undefined): string | null {
  const awardEnvelopes = (rules.envelopes ?? []).filter((e) => e.purpose === 'awards');
  if (!awardEnvelopes.length) return null;
  if (!stage) throw new ApiProblem(422, 'stage_required', 'this program pays awards from the envelope of each stage: name the stage');
  const envelopes = [...new Set(rows.map((r) => r.envelope).filter((e): e is string => !!e))];
  if (envelopes.length !== 1) throw new ApiProblem(422, 'stage_required', `stage ${stage} has no single envelope for this grantee`);
  return envelopes[0];
}

/** The component key of an award in reports and journal-entry metadata: its stage, or `awards`. */
export function awardComponent(stage: string | null | undefined): string {
  return stage ?? 'awards';
}

/** The base code of a program's lineage: `FONAES-2013` → `FONAES`. */
export function baseCode(code: string): string {
  const m = /^(.*)-\d{4}$/.exec(code);
  return m ? m[1] : code;
}
