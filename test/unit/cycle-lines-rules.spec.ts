import { escapeLike, exceptionReasonEs, lineSearch, linesCsvFileName, linesCsvHeader, lineStatusEs } from '../../src/disbursements/cycle-lines.rules';
import { APPROVAL_SOURCES, approvalsUnionSql } from '../../src/console/approval-sources';

describe('cycle lines: search, Spanish CSV', () => {
  it('one text looks for part of a folio, an exact CURP and every word of a name; LIKE wildcards are literal', () => {
    expect(lineSearch('  ')).toBeNull();
    expect(lineSearch(undefined)).toBeNull();
    expect(lineSearch(' pension-am-2016-0000100 ')).toEqual({ folio: 'PENSION-AM-2016-0000100', curp: null, nameWords: ['pension-am-2016-0000100'] });
    expect(lineSearch('herm851201mdfrrr09')?.curp).toBe('HERM851201MDFRRR09');
    expect(lineSearch('María   José')).toEqual({ folio: 'MARÍA JOSÉ', curp: null, nameWords: ['María', 'José'] });
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
    expect(lineSearch('100%')?.folio).toBe('100\\%');
  });

  it('statuses and exception reasons read in Spanish; an unknown reason shows as it is', () => {
    expect(lineStatusEs('posted')).toBe('Abonada');
    expect(lineStatusEs('cancelled')).toBe('Ciclo cancelado');
    expect(exceptionReasonEs('instrument_blocked')).toBe('Tarjeta bloqueada');
    expect(exceptionReasonEs('something_new')).toBe('something_new');
    expect(exceptionReasonEs(null)).toBe('');
  });

  it('the CSV names the person only for readers of names, and its file name says what it holds', () => {
    expect(linesCsvHeader(false)).toEqual(['Línea', 'Folio', 'Importe', 'Estado', 'Motivo de la excepción', 'Póliza']);
    expect(linesCsvHeader(true)).toContain('Nombre');
    expect(linesCsvFileName('PENSION-AM-2016', '2016-03', 'deposit', 'exception')).toBe('lineas-PENSION-AM-2016-2016-03-deposito-excepciones.csv');
    expect(linesCsvFileName('COOP "X"', '2016-05', 'tranche', null)).toBe('lineas-COOP__X_-2016-05-ministracion.csv');
  });

  it('the approvals inbox is the union of one source per kind, each with the same columns', () => {
    expect(APPROVAL_SOURCES.map((s) => s.kind)).toEqual(['cycle', 'remittance', 'payout_batch', 'payment_order', 'loan', 'write_off']);
    const sql = approvalsUnionSql();
    expect(sql.match(/UNION ALL/g)).toHaveLength(APPROVAL_SOURCES.length - 1);
    // Each source lists only what waits for a decision: drafts, loan applications, write-offs asked for.
    for (const s of APPROVAL_SOURCES) expect(s.sql).toMatch(/status = 'draft'|status = 'applied'|written_off_at IS NULL/);
    expect(approvalsUnionSql([APPROVAL_SOURCES[0]])).not.toContain('UNION ALL');
  });
});
