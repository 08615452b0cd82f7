import { localTime, REMITTANCE_CSV_HEADER_ES, remittanceCsvEs, remittanceCsvFileNameEs } from '../../src/treasury/remittance-csv.rules';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* rows(...r: unknown[][]) {
  yield* r;
}

describe('remittance document in Spanish (lang=es)', () => {
  it('writes the header and the codes in Spanish and the time in the program time zone; amounts, folios and ids as they are', async () => {
    const out = await collect(
      remittanceCsvEs(
        rows(
          ['remittance', 'status', 'program', 'reintegro_id', 'cause', 'baja_cause', 'created_at', 'source', 'source_ref', 'beneficiary_folio', 'instrument_last4', 'amount', 'journal_entry_id'],
          ['RM-00000001', 'approved', 'PENSION-AM-2016', 'r1', 'baja', 'death', '2016-03-10T18:00:00.000Z', 'instrument', '', 'PENSION-AM-2016-00001001', '1234', '1075.20', 'e1'],
          ['RM-00000001', 'approved', 'PENSION-AM-2016', 'r2', 'something_new', null, '2016-03-11T05:30:00.000Z', 'program_budget', 'PENSION-AM-2016', null, null, '10.00', 'e2'],
        ),
        'America/Mexico_City',
      ),
    );
    expect(out[0]).toEqual(REMITTANCE_CSV_HEADER_ES);
    expect(out[1]).toEqual(['RM-00000001', 'Aprobada y enterada', 'PENSION-AM-2016', 'r1', 'Baja', 'Fallecimiento', '2016-03-10 12:00:00', 'Tarjeta', '', 'PENSION-AM-2016-00001001', '1234', '1075.20', 'e1']);
    // An unknown code is written as it is; no baja cause stays empty; 05:30 UTC is still the 10th in Mexico City.
    expect(out[2].slice(4, 8)).toEqual(['something_new', '', '2016-03-10 23:30:00', 'Presupuesto del programa']);
  });

  it('names the file after the remittance and the program, ASCII only', () => {
    expect(remittanceCsvFileNameEs('RM-00000002', 'PENSION-AM-2016')).toBe('remesa-RM-00000002-PENSION-AM-2016.csv');
    expect(remittanceCsvFileNameEs('RM-00000002', 'ÚTILES 2016')).toBe('remesa-RM-00000002-_TILES_2016.csv');
    expect(localTime('not a date', 'America/Mexico_City')).toBe('not a date');
  });
});
