import { SCHOOL_LEVELS } from '../programs/program-rules';
import { isRealDate } from './curp.rules';

/**
 * Bounds of a beneficiary's `attributes` (API.md: the standard ones are residenceSince (date),
 * schoolLevel (preescolar|primaria|secundaria) and lastPaymentAt (date); a program may define
 * more). Checked wherever attributes arrive (API enrolment, padrón file), whether or not the
 * program's rules use them, so a stored attribute always has its type.
 */
export const ATTRIBUTE_LIMITS = { maxAttributes: 30, maxNameLength: 64, maxTextLength: 200 } as const;

const DATE_ATTRIBUTES = new Set(['residenceSince', 'lastPaymentAt']);

/** The first thing wrong with these attributes, or null. */
export function attributesProblem(attributes: unknown): string | null {
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) return 'attributes must be an object';
  const entries = Object.entries(attributes);
  if (entries.length > ATTRIBUTE_LIMITS.maxAttributes) return `attributes may have at most ${ATTRIBUTE_LIMITS.maxAttributes} entries`;
  for (const [name, value] of entries) {
    if (name.length < 1 || name.length > ATTRIBUTE_LIMITS.maxNameLength) return `attribute names have 1 to ${ATTRIBUTE_LIMITS.maxNameLength} characters`;
    if (DATE_ATTRIBUTES.has(name)) {
      if (typeof value !== 'string' || !isRealDate(value)) return `attributes.${name} must be a real date YYYY-MM-DD`;
    } else if (name === 'schoolLevel') {
      if (typeof value !== 'string' || !(SCHOOL_LEVELS as readonly string[]).includes(value)) return `attributes.schoolLevel must be one of ${SCHOOL_LEVELS.join(', ')}`;
    } else if (typeof value === 'string') {
      if (value.length > ATTRIBUTE_LIMITS.maxTextLength) return `attributes.${name} has more than ${ATTRIBUTE_LIMITS.maxTextLength} characters`;
    } else if (!(typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))) {
      return `attributes.${name} must be a string, a number or a boolean`;
    }
  }
  return null;
}
