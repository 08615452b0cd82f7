import { ApiProblem } from '../common/problem';
import { rulesForFiscalYear } from './program-fixtures';
import type { ProgramRules } from './program-rules';

/**
 * Pure rules of the fiscal-year rollover (docs/programs-padron.md "Fiscal years"): the next
 * year's code and rules. Unit-tested in test/unit/rollover-rules.spec.ts.
 */

/** Programs whose padrón is paid by schedule (monthly deposits, voucher loads) are carried; grants and loans are awarded per year. */
export const ROLLOVER_INSTRUMENT_TYPES = ['card', 'voucher', 'bank_account'] as const;

export function rolloverPlan(
  source: { lineage: string; fiscalYear: number; instrumentType: string; rules: ProgramRules },
  input: { fiscalYear: number; rules?: unknown },
): { code: string; rules: unknown } {
  if (!(ROLLOVER_INSTRUMENT_TYPES as readonly string[]).includes(source.instrumentType)) {
    throw new ApiProblem(422, 'rollover_not_supported', `a ${source.instrumentType} program is not carried into the next fiscal year`);
  }
  if (input.fiscalYear <= source.fiscalYear) {
    throw new ApiProblem(422, 'invalid_fiscal_year', `the rollover goes to a later fiscal year than ${source.fiscalYear}`);
  }
  // The same rules with their dates moved to the new year, unless new rules (a new Unidad de Cuenta) are given.
  return { code: `${source.lineage}-${input.fiscalYear}`, rules: input.rules ?? rulesForFiscalYear(source.rules, source.fiscalYear, input.fiscalYear) };
}
