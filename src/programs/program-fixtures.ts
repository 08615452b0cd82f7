import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ProgramRules } from './program-rules';

export const INSTRUMENT_TYPES = ['card', 'voucher', 'bank_account', 'grant', 'loan'] as const;
export type InstrumentType = (typeof INSTRUMENT_TYPES)[number];

/** One seed program as shipped in fixtures/programs/*.json (DOMAIN.md's table). */
export const ProgramFixture = z
  .object({
    order: z.number().int(),
    base: z.string().regex(/^[A-Z][A-Z0-9-]*$/),
    name: z.string().min(1),
    seedYear: z.number().int().min(2000).max(2100),
    instrumentType: z.enum(INSTRUMENT_TYPES),
    currency: z.string().length(3).default('MXN'),
    timeZone: z.string().optional(),
    confidential: z.boolean().default(false),
    rules: ProgramRules,
  })
  .strict();
export type ProgramFixture = z.infer<typeof ProgramFixture>;

export function fixturesDirectory(): string {
  const candidates = [resolve(__dirname, '../../fixtures/programs'), resolve(__dirname, '../../../fixtures/programs'), resolve(process.cwd(), 'fixtures/programs')];
  const dir = candidates.find((c) => existsSync(c));
  if (!dir) throw new Error(`fixtures/programs not found (looked in ${candidates.join(', ')})`);
  return dir;
}

/** Every fixture, validated against the rules schema, in DOMAIN.md's table order. */
export function readProgramFixtures(dir = fixturesDirectory()): ProgramFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const parsed = ProgramFixture.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (!parsed.success) throw new Error(`fixtures/programs/${f}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    })
    .sort((a, b) => a.order - b.order);
}

/** Moves an ISO date to another year, keeping month and day (29 February becomes 28 February in a common year). */
export function moveDateToYear(iso: string, year: number): string {
  const [, m, d] = iso.split('-');
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = m === '02' && d === '29' && !leap ? '28' : d;
  return `${String(year).padStart(4, '0')}-${m}-${day}`;
}

/**
 * The rules of a fixture for another fiscal year (API.md `programs:load --fiscal-year`): every
 * date moves to that year (a voucher expiring 2016-12-31 expires YYYY-12-31); amounts unchanged.
 */
export function rulesForFiscalYear(rules: ProgramRules, seedYear: number, fiscalYear: number): ProgramRules {
  if (seedYear === fiscalYear) return rules;
  const shift = (iso: string) => moveDateToYear(iso, Number(iso.slice(0, 4)) - seedYear + fiscalYear);
  return {
    ...rules,
    ...(rules.voucherExpiresOn ? { voucherExpiresOn: shift(rules.voucherExpiresOn) } : {}),
    ...(rules.schedule?.frequency === 'loads' && rules.schedule.dates ? { schedule: { ...rules.schedule, dates: rules.schedule.dates.map(shift) } } : {}),
  };
}

export function fixtureCode(fixture: Pick<ProgramFixture, 'base'>, fiscalYear: number): string {
  return `${fixture.base}-${fiscalYear}`;
}
