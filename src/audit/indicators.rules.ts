import { problems } from '../common/problem';
import { businessDaysBetween, isDate } from '../common/calendar';
import { Money } from '../common/money';

/**
 * The indicators of the rules of operation (docs/audit.md "Indicators"): each one is a seed
 * formula, numerator over denominator, and names the measures it reads. Measures come from the
 * journal (cycle entries, appropriations) and the padrón as of the end of a business date; a
 * measure the system does not record (home visits programmed, people unemployed in the city, …)
 * is `null` and the indicator says so in `unrecorded` instead of inventing a figure.
 */
export const MEASURES = {
  activeBeneficiaries: 'beneficiaries in the padrón on the date (incorporated, not yet given baja)',
  registered: 'people registered in the padrón up to the date (applications recorded)',
  target: 'meta física: rules.targetBeneficiaries',
  paidBeneficiaries: 'beneficiaries credited by at least one cycle entry of the period, not reversed',
  vouchersDispersed: 'vouchers credited by at least one cycle_voucher_load entry of the period, not reversed',
  cardsDelivered: 'cards delivered up to the date whose arrival at the office is recorded (P21)',
  deliveryBusinessDays: 'sum over those cards of the business days from arrival at the office to delivery',
  completedTerm: 'beneficiaries given baja with cause term_completed up to the date',
  appropriated: 'appropriations to the program budget up to the date, net of reversals',
  executed: 'cycle entries of the period (deposits, voucher loads, tranches), net of reversals',
  grantsAwarded: 'awards (grants) made up to the date',
  grantsProven: 'awards with a released tranche whose every released tranche is proven by the date',
  grantsFinished: 'awards whose every planned tranche is proven by the date',
  complaintsAnswered: 'complaints (no conformidades) answered in the period',
  answerReceiptsSigned: 'of those, the answers whose receipt the holder or their Representante Solidario signed by the date (P54)',
} as const;
export type Measure = keyof typeof MEASURES;

/** Things the seed formulas count that no record of the system holds. */
export const UNRECORDED = {
  homeVisitsDone: 'home visits made are not recorded (only failed card-delivery visits are)',
  homeVisitsProgrammed: 'the programme of home visits is not recorded',
  unemployedInCity: 'the number of unemployed people in the D.F. is an outside statistic',
  applicationsDocumented: 'applications are recorded only once approved (the padrón), not when documented',
  jobsBefore: 'jobs in the cooperatives before the support are not recorded',
  jobsAfter: 'jobs in the cooperatives after the support are not recorded',
} as const;
export type Unrecorded = keyof typeof UNRECORDED;

export interface IndicatorDefinition {
  /** Seed id (domain notes), e.g. P56. */
  id: string;
  name: string;
  /** The formula as the seed writes it. */
  formula: string;
  /** Byte offset of the quote in the seed file. */
  seedOffset: number;
  numerator: Measure | Unrecorded;
  denominator: Measure | Unrecorded;
  /** percent: numerator / denominator × 100; average: numerator / denominator (P57, in business days). */
  unit: 'percent' | 'business_days';
}

/**
 * Indicators per program base (the fixture `base`). Bases whose seed gives no formula (Economía
 * Social: its Annex 13 is not in the seed, R003-03; FONAES; FONDESOC) have none.
 */
export const INDICATORS: Record<string, IndicatorDefinition[]> = {
  'PENSION-AM': [
    // P54 is a rule, not a formula of the RO: modelled as the share of answers whose receipt was signed (docs/complaints.md).
    { id: 'P54', name: 'Respuestas a no conformidades firmadas de recibido', formula: 'Respuestas firmadas de recibido por el Derechohabiente o su Representante Solidario / respuestas dadas × 100', seedOffset: 46432, numerator: 'answerReceiptsSigned', denominator: 'complaintsAnswered', unit: 'percent' },
    { id: 'P56', name: 'Cumplimiento de la meta física', formula: 'Número total de Adultos Mayores Derechohabientes / Meta física anual × 100', seedOffset: 53204, numerator: 'activeBeneficiaries', denominator: 'target', unit: 'percent' },
    // The seed multiplies a mean time by 100 (rules-002-part-a P57): reported as the mean, in business days (P21 counts them so).
    { id: 'P57', name: 'Tiempo promedio de entrega de tarjetas', formula: 'Suma de tiempos de entrega de las tarjetas / Número total de tarjetas entregadas', seedOffset: 54770, numerator: 'deliveryBusinessDays', denominator: 'cardsDelivered', unit: 'business_days' },
    { id: 'P58', name: 'Visitas domiciliarias realizadas', formula: 'Número total de visitas domiciliarias realizadas / Número de visitas domiciliarias programadas × 100', seedOffset: 54912, numerator: 'homeVisitsDone', denominator: 'homeVisitsProgrammed', unit: 'percent' },
  ],
  UNIFORMES: [
    { id: 'U20', name: 'Vales electrónicos dispersados', formula: 'Número de vales electrónicos dispersados / Total de sujetos de derecho × 100', seedOffset: 481202, numerator: 'vouchersDispersed', denominator: 'activeBeneficiaries', unit: 'percent' },
    { id: 'U20.2', name: 'Cobertura', formula: 'Alumnos que recibieron el vale / alumnos de escuelas públicas que lo solicitaron × 100', seedOffset: 481202, numerator: 'vouchersDispersed', denominator: 'registered', unit: 'percent' },
  ],
  UTILES: [
    { id: 'T11', name: 'Vales electrónicos dispersados', formula: 'Número de vales electrónicos dispersados / Total de sujetos de derecho × 100 (as Uniformes)', seedOffset: 481202, numerator: 'vouchersDispersed', denominator: 'activeBeneficiaries', unit: 'percent' },
    { id: 'T11.2', name: 'Cobertura', formula: 'Alumnos que recibieron el vale / alumnos de escuelas públicas que lo solicitaron × 100 (as Uniformes)', seedOffset: 481202, numerator: 'vouchersDispersed', denominator: 'registered', unit: 'percent' },
  ],
  'SEGURO-VF': [
    { id: 'S14', name: 'Mujeres que concluyeron el programa', formula: 'Total de mujeres y mujeres trans que concluyeron con el Programa / Total de mujeres aseguradas × 100', seedOffset: 246098, numerator: 'completedTerm', denominator: 'paidBeneficiaries', unit: 'percent' },
    { id: 'S14.2', name: 'Beneficiarias sobre candidatas', formula: 'Total de mujeres y mujeres trans beneficiarias en el año / total de mujeres candidatas al Seguro en el año', seedOffset: 246200, numerator: 'paidBeneficiaries', denominator: 'registered', unit: 'percent' },
  ],
  DESEMPLEO: [
    { id: 'SD-17.1', name: 'Cobertura del Seguro de Desempleo', formula: 'Personas beneficiarias del SD / Total de personas desempleadas en el D.F.', seedOffset: 881353, numerator: 'paidBeneficiaries', denominator: 'unemployedInCity', unit: 'percent' },
    { id: 'SD-17.2', name: 'Presupuestal', formula: 'Presupuesto ejercido / presupuesto total', seedOffset: 882865, numerator: 'executed', denominator: 'appropriated', unit: 'percent' },
    { id: 'SD-17.3', name: 'Solicitudes aprobadas en el SD', formula: 'Total de solicitudes aprobadas / Total de solicitudes documentadas', seedOffset: 882951, numerator: 'registered', denominator: 'applicationsDocumented', unit: 'percent' },
  ],
  PROFACE: [
    { id: 'PROFACE-30', name: 'Porcentaje de proyectos FOCORE finiquitados', formula: 'Número total de Proyectos FOCORE finiquitados / Número total de Proyectos FOCORE apoyados × 100', seedOffset: 613748, numerator: 'grantsFinished', denominator: 'grantsAwarded', unit: 'percent' },
  ],
  COOPERATIVAS: [
    { id: 'COOP-13.1', name: 'Comprobación de recursos', formula: 'Número de cooperativas que comprobaron / Número de cooperativas beneficiarias × 100', seedOffset: 963711, numerator: 'grantsProven', denominator: 'grantsAwarded', unit: 'percent' },
    { id: 'COOP-13.2', name: 'Apoyos otorgados sobre planeados', formula: 'Número de Cooperativas beneficiarias / Número de apoyos económicos planeados × 100', seedOffset: 963518, numerator: 'grantsAwarded', denominator: 'target', unit: 'percent' },
    { id: 'COOP-13.3', name: 'Variación de fuentes de trabajo', formula: 'Total fuentes de trabajo después del apoyo / Total de fuentes de trabajo año anterior × 100', seedOffset: 962045, numerator: 'jobsAfter', denominator: 'jobsBefore', unit: 'percent' },
  ],
};

/** The indicators of a program by its code (`<BASE>-<year>`, or any code that starts with `<BASE>-`). */
export function indicatorsOf(code: string): { base: string | null; definitions: IndicatorDefinition[] } {
  const base = Object.keys(INDICATORS).find((b) => code === b || code.startsWith(`${b}-`)) ?? null;
  return { base, definitions: base ? INDICATORS[base] : [] };
}

export function isMeasure(key: string): key is Measure {
  return key in MEASURES;
}

export interface IndicatorPeriod {
  /** First day counted by flow measures: 1 January of the year (P60: cumulative within the year). */
  from: string;
  /** Last day included. */
  to: string;
  quarter: string | null;
}

const QUARTER = /^(\d{4})-Q([1-4])$/;

/**
 * The period an indicator covers. `quarter` (YYYY-Qn) is cumulative from 1 January to the end of
 * that quarter (P60: «reportados de forma acumulada»); otherwise `asOf` (default today) from
 * 1 January of its year. Never past today: a quarter still running ends today.
 */
export function indicatorPeriod(input: { asOf?: string | null; quarter?: string | null }, today: string): IndicatorPeriod {
  if (input.asOf && input.quarter) throw problems.validation('give asOf or quarter, not both');
  if (input.quarter) {
    const m = QUARTER.exec(input.quarter);
    if (!m) throw problems.validation('quarter must be YYYY-Qn');
    const year = Number(m[1]);
    const endMonth = Number(m[2]) * 3;
    const end = new Date(Date.UTC(year, endMonth, 0)).toISOString().slice(0, 10);
    const from = `${year}-01-01`;
    if (from > today) throw problems.validation('the quarter has not started');
    return { from, to: end < today ? end : today, quarter: input.quarter };
  }
  const asOf = input.asOf ?? today;
  if (!isDate(asOf)) throw problems.validation('asOf must be YYYY-MM-DD');
  if (asOf > today) throw problems.validation('asOf cannot be in the future');
  return { from: `${asOf.slice(0, 4)}-01-01`, to: asOf, quarter: null };
}

/** numerator / denominator: × 100 for a percent, two decimals; null when either is unknown or the base is 0. */
export function indicatorValue(unit: IndicatorDefinition['unit'], numerator: string | null, denominator: string | null): string | null {
  if (numerator === null || denominator === null) return null;
  const d = new Money(denominator);
  if (d.isZero()) return null;
  const ratio = new Money(numerator).dividedBy(d);
  return (unit === 'percent' ? ratio.times(100) : ratio).toFixed(2);
}

/**
 * P57's numerator from (arrival date, delivery date, cards) groups: the business days each card
 * took, summed. Grouping by the date pair keeps a million cards to a few hundred calendar walks.
 */
export function deliveryBusinessDays(groups: Array<{ arrivedOn: string; deliveredOn: string; cards: number }>): { cards: number; businessDays: number } {
  let cards = 0;
  let businessDays = 0;
  for (const g of groups) {
    cards += g.cards;
    businessDays += businessDaysBetween(g.arrivedOn, g.deliveredOn) * g.cards;
  }
  return { cards, businessDays };
}
