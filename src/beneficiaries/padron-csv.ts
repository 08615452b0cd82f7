/**
 * The padrón CSV format (import and generator). One header line, then one person per line:
 *
 *   curp,given_names,surnames,birth_date,street,colonia,municipality,state,postal_code,
 *   application_date,residence_since,school_level,last_payment_at[,attr_<name>…]
 *
 * curp, given_names, surnames, birth_date and state are required; application_date defaults to
 * the import day; residence_since / school_level / last_payment_at fill the standard attributes
 * and every attr_<name> column the program-defined attribute <name>. Dates are YYYY-MM-DD.
 */
export const PADRON_COLUMNS = [
  'curp',
  'given_names',
  'surnames',
  'birth_date',
  'street',
  'colonia',
  'municipality',
  'state',
  'postal_code',
  'application_date',
  'residence_since',
  'school_level',
  'last_payment_at',
] as const;

export const REQUIRED_COLUMNS = ['curp', 'given_names', 'surnames', 'birth_date', 'state'] as const;

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
