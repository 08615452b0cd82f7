import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  addBusinessDays,
  addDays,
  businessDate,
  isBusinessDay,
  isDate,
  isTimeBound,
  mexicanFederalHolidays,
  startOfBusinessDate,
} from '../../src/common/calendar';
import { CliUsageError, parseOptions } from '../../src/cli/command';
import { csvText, escapeFormula } from '../../src/common/csv';
import { decodeCursor, encodeCursor, ListQuery, pageOf } from '../../src/common/pagination';

const dates = (year: number) => mexicanFederalHolidays(year).map((h) => h.date);

describe('business calendar (common/calendar.ts)', () => {
  it('computes the LFT art. 74 holidays of any year, matching the days seeded before for 2016, 2020 and 2026', () => {
    expect(dates(2016)).toEqual(['2016-01-01', '2016-02-01', '2016-03-21', '2016-05-01', '2016-09-16', '2016-11-21', '2016-12-25']);
    expect(dates(2020)).toEqual(['2020-01-01', '2020-02-03', '2020-03-16', '2020-05-01', '2020-09-16', '2020-11-16', '2020-12-25']);
    expect(dates(2026)).toEqual(['2026-01-01', '2026-02-02', '2026-03-16', '2026-05-01', '2026-09-16', '2026-11-16', '2026-12-25']);
    // Years nobody seeded: the transfer of the federal executive (1 Dec up to 2018, 1 Oct from 2024).
    expect(dates(2018)).toContain('2018-12-01');
    expect(dates(2024)).toEqual(['2024-01-01', '2024-02-05', '2024-03-18', '2024-05-01', '2024-09-16', '2024-10-01', '2024-11-18', '2024-12-25']);
    expect(dates(2030)).toContain('2030-10-01');
    expect(dates(2027)).toHaveLength(7);
  });

  it('refuses a year it cannot answer rather than counting it without holidays', () => {
    expect(() => mexicanFederalHolidays(2005)).toThrow(expect.objectContaining({ status: 422, code: 'calendar_year_not_supported' }));
    expect(() => mexicanFederalHolidays(2101)).toThrow(/2101/);
    expect(() => addBusinessDays('2005-12-20', 3)).toThrow(/2005/);
  });

  it('counts business days over weekends, holidays and year ends', () => {
    expect(addBusinessDays('2016-03-01', 20)).toBe('2016-03-30');
    expect(addBusinessDays('2016-01-29', 1)).toBe('2016-02-02'); // Fri → (Mon 1 Feb holiday) → Tue
    expect(addBusinessDays('2031-12-24', 1)).toBe('2031-12-26'); // a year no table ever held
    expect(isBusinessDay('2026-11-16')).toBe(false);
    expect(isBusinessDay('2026-11-17')).toBe(true);
  });

  it('adds days, validates dates, and converts business dates and instants in a time zone', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(isDate('2028-02-29')).toBe(true);
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-01', '20260101', 20260101]) expect(isDate(bad)).toBe(false);
    expect(startOfBusinessDate('2016-03-01', 'America/Mexico_City').toISOString()).toBe('2016-03-01T06:00:00.000Z');
    expect(startOfBusinessDate('2016-06-01', 'America/Mexico_City').toISOString()).toBe('2016-06-01T05:00:00.000Z'); // DST in 2016
    expect(startOfBusinessDate('2026-07-01', 'America/New_York').toISOString()).toBe('2026-07-01T04:00:00.000Z');
    expect(businessDate(new Date('2016-03-01T05:59:59Z'), 'America/Mexico_City')).toBe('2016-02-29');
    expect(businessDate(new Date('2016-03-01T06:00:00Z'), 'America/Mexico_City')).toBe('2016-03-01');
    expect(isTimeBound('2016-03-01T06:00:00Z')).toBe(true);
    expect(isTimeBound('2016-03-01T06:00:00')).toBe(false); // an instant names its zone
    expect(isTimeBound('31/12/2016')).toBe(false);
  });
});

describe('lists (common/pagination.ts)', () => {
  const check = (query: Record<string, unknown>) => {
    const dto = plainToInstance(ListQuery, query);
    return { dto, errors: validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }) };
  };

  it('one limit rule for every list: 1..500, default 50; an empty value is absent', () => {
    expect(check({}).dto.limit).toBe(50);
    expect(check({ limit: '' }).dto.limit).toBe(50);
    expect(check({ limit: '500' }).dto.limit).toBe(500);
    expect(check({ limit: '1' }).errors).toEqual([]);
    for (const bad of ['0', '501', '-1', '1.5', 'abc', '1e2', ['1', '2']]) expect(check({ limit: bad }).errors).not.toEqual([]);
    expect(check({ limt: '5' }).errors).not.toEqual([]); // a misspelt parameter is refused, not ignored
  });

  it('one cursor codec: round-trips a keyset with microsecond timestamps and refuses forged cursors', () => {
    const key = ['2026-12-01 17:27:49.123456+00', '0b6f4c1e-8a0e-4f7e-9d61-0f6f5d4c3b2a'];
    expect(decodeCursor(encodeCursor(key), ['timestamp', 'uuid'] as const)).toEqual(key);
    expect(decodeCursor(undefined, ['int'] as const)).toBeNull();
    expect(decodeCursor('', ['int'] as const)).toBeNull();
    for (const forged of ['not-a-cursor', encodeCursor(['x', 'y']), encodeCursor(['1']), Buffer.from('{"id":1}').toString('base64url')]) {
      expect(() => decodeCursor(forged, ['timestamp', 'uuid'] as const)).toThrow(/cursor is not valid/);
    }
    expect(() => decodeCursor(encodeCursor(['1; DROP TABLE x']), ['int'] as const)).toThrow(/cursor/);
  });

  it('pages rows fetched with limit + 1', () => {
    expect(pageOf([{ n: 1 }, { n: 2 }, { n: 3 }], 2, (r) => [r.n])).toEqual({ data: [{ n: 1 }, { n: 2 }], nextCursor: encodeCursor(['2']) });
    expect(pageOf([{ n: 1 }], 2, (r) => [r.n])).toEqual({ data: [{ n: 1 }], nextCursor: null });
  });
});

describe('CSV (common/csv.ts)', () => {
  it('one escaping policy: RFC 4180 quoting, CRLF, formulas neutralised, plain numbers kept', () => {
    expect(csvText([['a,b', 'say "hi"', 'x\ny', null, 12, true]])).toBe('"a,b","say ""hi""","x\ny",,12,true\r\n');
    for (const f of ['=SUM(A1)', '+1+2', '-2+3', '@cmd', '\tx', '＝1']) expect(escapeFormula(f)).toBe(`'${f}`);
    for (const n of ['-12.50', '0.00', '1075.20', 'Ana']) expect(escapeFormula(n)).toBe(n);
    expect(csvText([['=HYPERLINK("x")', '-12.50']], { quoted: true })).toBe(`"'=HYPERLINK(""x"")","-12.50"\r\n`);
  });
});

describe('CLI arguments (node:util parseArgs, strict)', () => {
  const spec = { program: { type: 'string' }, 'issue-instruments': { type: 'boolean' } } as const;

  it('reads --name value, --name=value and flags, and refuses what the command does not take', () => {
    expect(parseOptions(['--program', 'UTILES-2016', '--issue-instruments'], spec)).toEqual({ program: 'UTILES-2016', 'issue-instruments': true });
    expect(parseOptions(['--program=PENSION-AM-2016'], spec)).toEqual({ program: 'PENSION-AM-2016' });
    expect(() => parseOptions(['--porgram', 'X'], spec)).toThrow(CliUsageError); // a typo is an error, not ignored
    expect(() => parseOptions(['--program'], spec)).toThrow(CliUsageError);
    expect(() => parseOptions(['stray'], spec)).toThrow(CliUsageError);
    expect(() => parseOptions(['--issue-instruments=yes'], spec)).toThrow(CliUsageError);
  });
});
