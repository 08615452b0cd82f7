/**
 * Cycle lines as finance staff look for them (GET /v1/cycles/{id}/lines): by outcome, by
 * folio / CURP / name, and as a CSV in Spanish that spreadsheet programs open with accents intact.
 * Pure functions; the SQL is in CyclesService.lines.
 */

/** A line's outcome. `cancelled`: never posted because its cycle was cancelled (not "pending"). */
export const LINE_STATUSES = ['posted', 'pending', 'exception', 'cancelled'] as const;
export type LineStatus = (typeof LINE_STATUSES)[number];

/** Roles that may see a beneficiary's name beside the folio (the padrón's readers: GET /v1/beneficiaries/{id}). */
export const NAME_READERS = new Set(['auditor', 'admin', 'program_officer']);

export interface LineSearch {
  /** Part of a folio, LIKE-escaped, any case (00001001 finds PENSION-AM-2016-00001001). */
  folio: string;
  /** An exact CURP when the text has the shape of one, else null. */
  curp: string | null;
  /** Every word must appear in the name (given names, surnames or legal name), LIKE-escaped. */
  nameWords: string[];
}

/** Eighteen letters and digits: compared whole with the CURP (never partly: a CURP is not browsed). */
const CURP_SHAPE = /^[A-Z0-9]{18}$/;

/** `%`, `_` and `\` stand for themselves in a search. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** What `?q=` looks for; null when it is blank. One text matches a folio, a CURP or a name. */
export function lineSearch(q: string | undefined | null): LineSearch | null {
  const text = (q ?? '').trim().replace(/\s+/g, ' ');
  if (!text) return null;
  const upper = text.toUpperCase();
  return {
    folio: escapeLike(upper),
    curp: CURP_SHAPE.test(upper) ? upper : null,
    nameWords: text.split(' ').map(escapeLike),
  };
}

const STATUS_ES: Record<LineStatus, string> = {
  posted: 'Abonada',
  pending: 'Pendiente',
  exception: 'Excepción',
  cancelled: 'Ciclo cancelado',
};

/** Why a line was not paid (cycle_post_chunk.sql, CyclesService.finish), in Spanish for the CSV. */
const REASON_ES: Record<string, string> = {
  beneficiary_inactive: 'Beneficiario(a) dado(a) de baja',
  instrument_blocked: 'Tarjeta bloqueada',
  instrument_replaced: 'Tarjeta reemplazada',
  instrument_cancelled: 'Instrumento cancelado',
  instrument_issued: 'Instrumento no entregado',
  instrument_expired: 'Instrumento vencido',
  grant_finished: 'Apoyo concluido',
  grant_demanded: 'Apoyo en requerimiento de reintegro',
  grant_rescinded: 'Apoyo rescindido',
  tranche_already_released: 'Ministración ya liberada',
  not_posted: 'No abonada al cerrar el ciclo',
};

export function lineStatusEs(status: string): string {
  return STATUS_ES[status as LineStatus] ?? status;
}

/** The Spanish reason; an unknown code is shown as it is (never hidden). */
export function exceptionReasonEs(reason: string | null): string {
  if (!reason) return '';
  return REASON_ES[reason] ?? reason;
}

/** The CSV header; the name column only for roles that may read names. */
export function linesCsvHeader(withNames: boolean): string[] {
  return ['Línea', 'Folio', ...(withNames ? ['Nombre'] : []), 'Importe', 'Estado', 'Motivo de la excepción', 'Póliza'];
}

/** A readable file name: lineas-PENSION-AM-2016-2016-03-deposito[-excepciones].csv (ASCII only). */
export function linesCsvFileName(programCode: string, period: string, kind: string, status?: string | null): string {
  const kindEs: Record<string, string> = { deposit: 'deposito', tranche: 'ministracion' };
  const statusEs: Record<string, string> = { posted: 'abonadas', pending: 'pendientes', exception: 'excepciones', cancelled: 'canceladas' };
  const parts = ['lineas', programCode, period, kindEs[kind] ?? kind, ...(status ? [statusEs[status] ?? status] : [])];
  return `${parts.join('-').replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;
}
