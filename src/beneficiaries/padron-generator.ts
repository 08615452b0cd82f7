import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ProgramRules } from '../programs/program-rules';
import { csvText } from '../common/csv';
import { buildCurp, CURP_STATES, CurpState } from './curp.rules';
import { PADRON_COLUMNS } from './padron-csv';

/** Small seeded PRNG (mulberry32): the same seed writes the same file. Not for secrets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN_F = ['María', 'Guadalupe', 'Juana', 'Margarita', 'Josefina', 'Verónica', 'Leticia', 'Rosa', 'Teresa', 'Patricia', 'Alejandra', 'Elizabeth', 'Gabriela', 'Ana', 'Martha', 'Silvia', 'Carmen', 'Laura', 'Adriana', 'Sofía', 'Ximena', 'Valentina', 'Regina', 'Fernanda', 'Lucía', 'Esperanza', 'Socorro', 'Concepción', 'Dolores', 'Rocío'];
const GIVEN_M = ['José', 'Juan', 'Francisco', 'Antonio', 'Jesús', 'Miguel', 'Pedro', 'Alejandro', 'Manuel', 'Ricardo', 'Fernando', 'Jorge', 'Roberto', 'Carlos', 'Eduardo', 'Raúl', 'Javier', 'Arturo', 'Sergio', 'Luis', 'Santiago', 'Mateo', 'Diego', 'Emiliano', 'Leonardo', 'Ángel', 'Rafael', 'Héctor', 'Salvador', 'Ignacio'];
const SURNAMES = ['Hernández', 'García', 'Martínez', 'López', 'González', 'Pérez', 'Rodríguez', 'Sánchez', 'Ramírez', 'Cruz', 'Flores', 'Gómez', 'Morales', 'Vázquez', 'Reyes', 'Jiménez', 'Torres', 'Díaz', 'Gutiérrez', 'Ruiz', 'Mendoza', 'Aguilar', 'Ortiz', 'Moreno', 'Castillo', 'Romero', 'Álvarez', 'Méndez', 'Chávez', 'Rivera', 'Juárez', 'Ramos', 'Domínguez', 'Herrera', 'Medina', 'Castro', 'Vargas', 'Guzmán', 'Velázquez', 'Muñoz', 'Rojas', 'de la Cruz', 'Salazar', 'Contreras', 'Luna', 'Ortega', 'Guerrero', 'Estrada', 'Bautista', 'Núñez'];
const STREETS = ['Av. Insurgentes Sur', 'Calz. de Tlalpan', 'Av. Revolución', 'Eje Central Lázaro Cárdenas', 'Av. Universidad', 'Calle Dr. Lavista', 'Av. Río Churubusco', 'Calle Mesones', 'Av. Chapultepec', 'Calle Moneda', 'Av. Ermita Iztapalapa', 'Calle Juárez', 'Av. Hidalgo', 'Calle Morelos', 'Av. Cuauhtémoc'];
const COLONIAS = ['Centro', 'Doctores', 'Roma Norte', 'Narvarte', 'Portales', 'Santa Cruz Meyehualco', 'San Rafael', 'Tacubaya', 'Pedregal de Santo Domingo', 'Guerrero', 'Morelos', 'Agrícola Oriental', 'Lindavista', 'Del Valle', 'Escandón'];
/** The 16 alcaldías of Mexico City, with a postal code prefix each. */
const ALCALDIAS: Array<[string, string]> = [
  ['Álvaro Obregón', '01'], ['Azcapotzalco', '02'], ['Benito Juárez', '03'], ['Coyoacán', '04'], ['Cuajimalpa de Morelos', '05'], ['Cuauhtémoc', '06'],
  ['Gustavo A. Madero', '07'], ['Iztacalco', '08'], ['Iztapalapa', '09'], ['La Magdalena Contreras', '10'], ['Miguel Hidalgo', '11'], ['Milpa Alta', '12'],
  ['Tláhuac', '13'], ['Tlalpan', '14'], ['Venustiano Carranza', '15'], ['Xochimilco', '16'],
];
const HOMOCLAVE_LETTERS = 'ABCDEFGHIJKLMNPQRSTUVWXYZ';

export interface GeneratorOptions {
  rows: number;
  seed?: number;
  /** Rules of the target program: the rows satisfy its eligibility (age, residence, level). */
  rules?: ProgramRules;
  /** Application date written on every row (YYYY-MM-DD). */
  applicationDate: string;
  /** Share of deliberately bad rows (bad check digit, under age, missing name …), for tests. */
  invalidRate?: number;
}

function isoDaysBefore(iso: string, years: number, extraDays: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - extraDays);
  return d.toISOString().slice(0, 10);
}

/** Yields CSV lines (header first) of synthetic people with valid CURPs, unique within the file. */
export function* padronLines(o: GeneratorOptions): Generator<string> {
  const rnd = seededRandom(o.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
  const e = o.rules?.eligibility ?? {};
  const levels: string[] | undefined =
    e.schoolLevels ?? (o.rules?.benefit.type === 'by_attribute' && o.rules.benefit.attribute === 'schoolLevel' ? Object.keys(o.rules.benefit.amounts) : undefined);
  const minAge = e.minAge ?? (levels ? 3 : 18);
  const maxAge = e.maxAge ?? (levels ? 15 : minAge + 30);
  const seen = new Set<string>();
  yield csvText([PADRON_COLUMNS]);
  for (let n = 0; n < o.rows; n++) {
    const female = rnd() < 0.55;
    const given = rnd() < 0.3 ? `${pick(female ? GIVEN_F : GIVEN_M)} ${pick(female ? GIVEN_F : GIVEN_M)}` : pick(female ? GIVEN_F : GIVEN_M);
    const s1 = pick(SURNAMES);
    const s2 = pick(SURNAMES);
    const age = minAge + Math.floor(rnd() * (maxAge - minAge + 1));
    const birthDate = isoDaysBefore(o.applicationDate, age, 1 + Math.floor(rnd() * 360));
    const state: CurpState = e.residenceStates ? (pick(e.residenceStates) as CurpState) : rnd() < 0.7 ? 'DF' : pick(CURP_STATES.filter((s) => s !== 'NE'));
    const birthState: CurpState = rnd() < 0.6 ? state : pick(CURP_STATES);
    let curp = '';
    for (let tries = 0; tries < 50; tries++) {
      const homoclave = birthDate < '2000' ? String(Math.floor(rnd() * 10)) : HOMOCLAVE_LETTERS[Math.floor(rnd() * HOMOCLAVE_LETTERS.length)];
      curp = buildCurp({ givenNames: given, firstSurname: s1, secondSurname: s2, birthDate, sex: female ? 'M' : 'H', state: birthState, homoclave });
      if (!seen.has(curp)) break;
    }
    if (seen.has(curp)) continue; // 50 homonyms born the same day: give up on this one
    seen.add(curp);
    const [alcaldia, cp] = pick(ALCALDIAS);
    const residenceYears = e.minResidenceYears !== undefined ? e.minResidenceYears + Math.floor(rnd() * Math.max(1, age - e.minResidenceYears)) : Math.floor(rnd() * age);
    const fields: Record<(typeof PADRON_COLUMNS)[number], string> = {
      curp,
      given_names: given,
      surnames: `${s1} ${s2}`,
      birth_date: birthDate,
      street: `${pick(STREETS)} ${1 + Math.floor(rnd() * 3000)}`,
      colonia: pick(COLONIAS),
      municipality: state === 'DF' ? alcaldia : '',
      state,
      postal_code: state === 'DF' ? `${cp}${String(Math.floor(rnd() * 1000)).padStart(3, '0')}` : '',
      application_date: o.applicationDate,
      residence_since: isoDaysBefore(o.applicationDate, residenceYears, 1 + Math.floor(rnd() * 300)),
      school_level: levels ? pick(levels) : '',
      last_payment_at: '',
    };
    if (o.invalidRate && rnd() < o.invalidRate) {
      const kind = Math.floor(rnd() * 4);
      if (kind === 0) fields.curp = curp.slice(0, 17) + String((Number(curp[17]) + 1) % 10); // wrong check digit
      else if (kind === 1) fields.given_names = '';
      else if (kind === 2) fields.birth_date = '1950-02-30';
      else fields.state = 'XX';
    }
    yield csvText([PADRON_COLUMNS.map((c) => fields[c])]);
  }
}

/** Writes a synthetic padrón file; returns the number of data rows written. */
export async function writePadronFile(path: string, o: GeneratorOptions, onProgress?: (done: number) => void): Promise<number> {
  const out = createWriteStream(path);
  let rows = -1;
  let chunk = '';
  for (const line of padronLines(o)) {
    chunk += line;
    rows++;
    if (rows % 5000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
      onProgress?.(rows);
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  onProgress?.(rows);
  return rows;
}
