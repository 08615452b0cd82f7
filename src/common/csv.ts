import { parse } from 'csv-parse/sync';
import { stringify as stringifyStream } from 'csv-stringify';
import { stringify, type Options } from 'csv-stringify/sync';
import { pipeline, Readable } from 'node:stream';
import { problems } from './problem';

/**
 * Every CSV the service writes (reports, remittance documents, the public padrón, payout files,
 * generated padrón files) goes through csv-stringify with one policy: RFC 4180 quoting, CRLF
 * line ends, and formula escaping — a text cell starting with = + - @ (or their full-width forms),
 * a tab or a carriage return gets a leading ' so a spreadsheet shows it rather than runs it. Plain
 * decimal numbers ("-12.50", money) are data, not formulas, and are written as they are.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

export function escapeFormula(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

const OPTIONS: Options = {
  record_delimiter: 'windows',
  // A bare line feed inside a field is quoted too (csv-stringify quotes only the record delimiter).
  quoted_match: /[\r\n]/,
  cast: {
    string: escapeFormula,
    boolean: (v) => (v ? 'true' : 'false'),
    date: (v) => v.toISOString(),
  },
};

export type CsvRow = ReadonlyArray<unknown>;

/** Rows (the header is a row like any other) as CSV text. `quoted` quotes every field (the bank's payout format). */
export function csvText(rows: Iterable<CsvRow>, options: { quoted?: boolean } = {}): string {
  const quoted = options.quoted ?? false;
  return stringify([...rows] as unknown[][], { ...OPTIONS, quoted, quoted_empty: quoted });
}

/**
 * Rows as a CSV byte stream, for responses too large to hold in memory. `bom` starts it with a
 * UTF-8 byte order mark, which spreadsheet programs need to read accents (the console's Spanish exports).
 */
export function csvStream(rows: AsyncIterable<CsvRow> | Iterable<CsvRow>, options: { bom?: boolean } = {}): Readable {
  const out = stringifyStream({ ...OPTIONS, bom: options.bom ?? false });
  // pipeline, not pipe: a failing source (a lost connection mid-report) destroys the response stream too.
  pipeline(Readable.from(rows as AsyncIterable<CsvRow>), out, () => undefined);
  return out;
}

/**
 * An uploaded CSV file with a header line (a bank's results or repayments): its column names in
 * lower case and its data rows, trimmed, a BOM and empty lines ignored. Text that is not CSV is
 * 400 validation_failed naming `what`.
 */
export function parseCsvTable(text: string, what: string): { columns: string[]; rows: string[][] } {
  let rows: string[][];
  try {
    rows = parse(text.replace(/^\uFEFF/, ''), { skip_empty_lines: true, relax_column_count: true, trim: true });
  } catch (error) {
    throw problems.validation(`${what} is not valid CSV: ${(error as Error).message.slice(0, 200)}`);
  }
  const [header, ...data] = rows;
  return { columns: (header ?? []).map((h) => h.toLowerCase()), rows: data };
}
