import type { ProgramRules } from '../programs/program-rules';

/**
 * Who a beneficiary is: a person (CURP), or a collective grantee of a grant program (API.md
 * "Grants"): a legally constituted cooperative, civil organisation or firm (RFC), or a group not
 * yet legally constituted (a Grupo de Trabajo, a Grupo Social; RFC optional). Collectives carry
 * their members' CURPs.
 */
export const BENEFICIARY_KINDS = ['person', 'cooperative', 'civil_organisation', 'firm', 'group'] as const;
export type BeneficiaryKind = (typeof BENEFICIARY_KINDS)[number];
export const COLLECTIVE_KINDS = ['cooperative', 'civil_organisation', 'firm', 'group'] as const;

/** Legally constituted (the cap tables' "constituido"): null for a person, false for a group. */
export function isConstituted(kind: BeneficiaryKind): boolean | null {
  if (kind === 'person') return null;
  return kind !== 'group';
}

/** Causes of baja (API.md), with the seed rules they come from. */
export const DEACTIVATION_CAUSES = [
  'death', // P38 (Pensión VII), Desempleo cause 9
  'voluntary_rejection', // P37 (VI), Desempleo cause 7
  'duplicate_registration', // P34 (III)
  'false_information', // P35 (IV), Seguro S6, Desempleo cause 2
  'not_located', // P33 (I)
  'nonexistent_address', // P36 (V)
  'incapacity_without_representative', // P40 (IX)
  'breach_of_commitment', // P41 (X), Seguro S6
  'name_error', // P39 (VIII): baja, then a new alta with the corrected name
  'card_not_collected', // P22, Desempleo cause 5
  'term_completed', // Desempleo month 6, Seguro month 12/18
] as const;
export type DeactivationCause = (typeof DEACTIVATION_CAUSES)[number];

/**
 * Causes after which a reingreso makes no sense. Design decision: a death recorded by mistake is
 * corrected by an officer with a new alta, not by re-activating the deceased's record.
 */
export const NO_REENTRY_CAUSES: ReadonlySet<string> = new Set(['death']);

/**
 * What a baja does with the money already paid to the beneficiary (API.md "Baja and balances"):
 * `reintegro` moves the balance of their live instruments and of their payable (money credited to
 * them and not yet sent to their bank) to the program's reintegro payable (P42, Pensión);
 * `keep` leaves it with them (Desempleo after month 6, Seguro after month 12: term_completed).
 * Design decision: a program whose rules say nothing keeps the behaviour every program had before
 * rules.onBaja existed (reintegro), the conservative choice for public money.
 */
export function bajaEffect(rules: Pick<ProgramRules, 'onBaja'>, cause: DeactivationCause): 'reintegro' | 'keep' {
  const onBaja = rules.onBaja ?? 'reintegro';
  if (typeof onBaja === 'string') return onBaja;
  return onBaja.causes[cause] ?? onBaja.default;
}

export interface BajaPlan {
  /** What happens to the live instruments: blocked, cancelled for good, or left as they are. */
  instruments: 'blocked' | 'cancelled' | 'unchanged';
  reintegrateInstruments: boolean;
  reintegratePayable: boolean;
}

/**
 * The baja of one cause in one program. `reintegro`: live instruments blocked and emptied, the
 * payable emptied. `keep`: the instruments stay usable (the beneficiary spends what was paid)
 * and the payable is still paid out by the next beneficiaries batch; future cycles skip the
 * inactive beneficiary either way. A card never collected (P22, "cancelada la nueva tarjeta") is
 * cancelled and its balance reintegrated whatever onBaja says: nobody can ever spend it.
 */
export function bajaPlan(rules: Pick<ProgramRules, 'onBaja'>, cause: DeactivationCause): BajaPlan {
  const effect = bajaEffect(rules, cause);
  if (cause === 'card_not_collected') return { instruments: 'cancelled', reintegrateInstruments: true, reintegratePayable: effect === 'reintegro' };
  if (effect === 'reintegro') return { instruments: 'blocked', reintegrateInstruments: true, reintegratePayable: true };
  return { instruments: 'unchanged', reintegrateInstruments: false, reintegratePayable: false };
}

export type ReentryDecision = { allowed: true } | { allowed: false; code: 'reentry_limit_reached' | 'reentry_not_allowed'; detail: string };

/** P43: re-entry at most `limit` times (3); the (limit+1)-th is refused. */
export function reentryDecision(reentryCount: number, limit: number, lastCause: string | null): ReentryDecision {
  if (lastCause && NO_REENTRY_CAUSES.has(lastCause)) {
    return { allowed: false, code: 'reentry_not_allowed', detail: `a beneficiary deactivated for ${lastCause} cannot re-enter` };
  }
  if (reentryCount >= limit) {
    return { allowed: false, code: 'reentry_limit_reached', detail: `re-entry is allowed at most ${limit} times (P43); this beneficiary has re-entered ${reentryCount} times` };
  }
  return { allowed: true };
}
