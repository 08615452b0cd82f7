import type { CsvRow } from '../common/csv';

/**
 * The remittance document in Spanish (GET /v1/remittances/{id}/document.csv?lang=es), for the
 * people who open it in a spreadsheet: Spanish headers and values, times in the program's time
 * zone, a BOM (set by the controller) and a readable file name. The default document stays as
 * docs/treasury.md defines it (English codes, UTC): other systems read it.
 */
export const REMITTANCE_CSV_HEADER_ES = [
  'Remesa',
  'Estado',
  'Programa',
  'Reintegro',
  'Causa',
  'Causa de la baja',
  'Fecha y hora',
  'Origen',
  'Referencia del origen',
  'Folio',
  'Últimos 4 dígitos',
  'Importe',
  'Póliza',
] as const;

const STATUS_ES: Record<string, string> = { draft: 'Borrador', approved: 'Aprobada y enterada', cancelled: 'Cancelada' };

const CAUSE_ES: Record<string, string> = {
  baja: 'Baja',
  card_not_collected: 'Tarjeta no recogida',
  voucher_expiry: 'Vencimiento de vales',
  unproven_tranche: 'Ministración sin comprobar',
  fiscal_year_close: 'Cierre del ejercicio',
  payout_rejected: 'Pago rechazado por el banco',
  death: 'Fallecimiento',
  voluntary_rejection: 'Renuncia voluntaria',
  duplicate_registration: 'Registro duplicado',
  false_information: 'Información falsa',
  not_located: 'No localizado',
  nonexistent_address: 'Domicilio inexistente',
  incapacity_without_representative: 'Incapacidad sin representante',
  breach_of_commitment: 'Incumplimiento',
  name_error: 'Error en el nombre',
  term_completed: 'Plazo concluido',
  voucher_expired: 'Vale vencido',
};

const SOURCE_ES: Record<string, string> = {
  instrument: 'Tarjeta',
  voucher: 'Vale',
  grant: 'Apoyo',
  program_budget: 'Presupuesto del programa',
  payable: 'Cuenta por pagar',
};

/** An unknown code is written as it is (never hidden). */
const es = (map: Record<string, string>, code: unknown) => (typeof code === 'string' && code ? map[code] ?? code : code ?? '');

/** "2016-03-10 12:00:00" in the program's time zone, from an ISO instant. */
export function localTime(iso: unknown, timeZone: string): string {
  if (typeof iso !== 'string' || !iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
}

/** The document's rows (English header first, as TreasuryService.remittanceCsv yields them) in Spanish. */
export async function* remittanceCsvEs(rows: AsyncIterable<CsvRow>, timeZone: string): AsyncGenerator<CsvRow> {
  let first = true;
  for await (const r of rows) {
    if (first) {
      first = false;
      yield REMITTANCE_CSV_HEADER_ES;
      continue;
    }
    const [number, status, program, reintegro, cause, bajaCause, at, source, ...rest] = r;
    yield [number, es(STATUS_ES, status), program, reintegro, es(CAUSE_ES, cause), es(CAUSE_ES, bajaCause), localTime(at, timeZone), es(SOURCE_ES, source), ...rest];
  }
}

/** remesa-RM-00000001-PENSION-AM-2016.csv (ASCII only). */
export function remittanceCsvFileNameEs(number: string, programCode: string): string {
  return `remesa-${number}-${programCode}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
}
