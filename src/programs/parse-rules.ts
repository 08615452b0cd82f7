import { ApiProblem } from '../common/problem';
import { BenefitRule, ProgramRules } from './program-rules';

/** A program's stored rules, parsed with the shared schema; 422 invalid_program_rules when they do not parse. */
export function parseProgramRules(rules: unknown): ProgramRules {
  const parsed = ProgramRules.safeParse(rules);
  if (!parsed.success) throw new ApiProblem(422, 'invalid_program_rules', `the program rules do not parse: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * The benefit of a program whose routes need one benefit type (per_hour training, in_kind
 * deliveries, on_compliance payments); 422 record_not_supported with `program <code> <doesNot>` otherwise.
 */
export function benefitOfType<T extends BenefitRule['type']>(program: { code: string; rules: unknown }, type: T, doesNot: string): Extract<BenefitRule, { type: T }> {
  const benefit = parseProgramRules(program.rules).benefit;
  if (benefit.type !== type) throw new ApiProblem(422, 'record_not_supported', `program ${program.code} ${doesNot}`);
  return benefit as Extract<BenefitRule, { type: T }>;
}
