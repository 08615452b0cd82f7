import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { money, formatMoney as serverFormat } from '../../src/common/money';

/** Loads one of the console's browser ES modules (no imports) as CommonJS, to test it in Node. */
function consoleModule(rel: string): any {
  const source = readFileSync(join(__dirname, '../../console', rel), 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const m = { exports: {} as any };
  new Function('exports', 'module', 'require', out)(m.exports, m, require);
  return m.exports;
}

const { formatMoney, formatCount, ratio, isZero, parseDecimal } = consoleModule('lib/money.js');
const { DICTIONARIES, translate } = consoleModule('lib/i18n.js');

describe('console money formatting (Intl.NumberFormat es-MX from the decimal string, never a JS number)', () => {
  it.each([
    ['0', '$0.00'],
    ['0.00', '$0.00'],
    ['1075.2', '$1,075.20'],
    ['1075.20', '$1,075.20'],
    ['999.99', '$999.99'],
    ['1000', '$1,000.00'],
    ['6676950641.00', '$6,676,950,641.00'],
    ['-322560.5', '-$322,560.50'],
    ['-0.00', '$0.00'],
    ['.5', '$0.50'],
    // Half-even, like the server's decimal.js (the API never sends more than two decimals).
    ['12.345', '$12.34'],
    ['12.355', '$12.36'],
    ['99.995', '$100.00'],
    ['999999.999', '$1,000,000.00'],
    ['00012.10', '$12.10'],
    // Beyond what a double holds exactly: the digits survive.
    ['90071992547409931.11', '$90,071,992,547,409,931.11'],
  ])('%s → %s', (input, expected) => {
    expect(formatMoney(input)).toBe(expected);
  });

  it('writes other currencies with their code and refuses what is not a decimal', () => {
    expect(formatMoney('1234.5', 'USD')).toBe('USD\u00a01,234.50');
    for (const bad of ['', 'abc', '1e5', '1,000.00', null, undefined, '1.2.3', '-']) expect(formatMoney(bad)).toBe('—');
  });

  it('agrees with the service formatter (decimal.js) on any two-decimal amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), (cents) => {
        const s = money((cents < 0n ? '-' : '') + (cents < 0n ? -cents : cents).toString().padStart(3, '0').replace(/(\d{2})$/, '.$1')).toFixed(2);
        const plain = serverFormat(s);
        const grouped = formatMoney(s);
        // Same digits once the sign, "$" and the thousands separators are taken out.
        expect(grouped.replace(/[$,]/g, '')).toBe(plain === '-0.00' ? '0.00' : plain);
        expect(grouped).toMatch(/^-?\$\d{1,3}(,\d{3})*\.\d{2}$/);
      }),
      { numRuns: 500 },
    );
  });

  it('counts, ratios (integer centavos) and zero tests', () => {
    expect(formatCount(300000)).toBe('300,000');
    expect(formatCount('-1234')).toBe('-1,234');
    expect(ratio('322560.00', '6676950641.00')).toBeCloseTo(0.0000483, 6);
    expect(ratio('50.00', '100.00')).toBe(0.5);
    expect(ratio('150', '100')).toBe(1);
    expect(ratio('10', '0.00')).toBe(0);
    expect(isZero('0.00')).toBe(true);
    expect(isZero('-0.001')).toBe(true);
    expect(isZero('0.01')).toBe(false);
    expect(parseDecimal('12.3')).toEqual({ negative: false, int: '12', cents: '30' });
  });
});

describe('console translations', () => {
  it('Spanish and English have the same keys, none empty', () => {
    expect(Object.keys(DICTIONARIES.en).sort()).toEqual(Object.keys(DICTIONARIES.es).sort());
    for (const lang of ['es', 'en']) for (const [k, v] of Object.entries(DICTIONARIES[lang])) expect({ k, empty: String(v).trim() === '' }).toEqual({ k, empty: false });
  });

  it('every literal key the pages use exists', () => {
    const files = ['app.js', ...readdirSync(join(__dirname, '../../console/pages')).map((f) => `pages/${f}`), 'lib/ui.js'];
    const used = new Set<string>();
    for (const f of files) {
      const src = readFileSync(join(__dirname, '../../console', f), 'utf8');
      for (const m of src.matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]);
      for (const m of src.matchAll(/\bkey: '([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !(k in DICTIONARIES.es))).toEqual([]);
  });

  it('fills variables and falls back to Spanish, then to the given text', () => {
    expect(translate('en', 'programs.chartTitle', { code: 'PENSION-AM-2016' })).toBe('Budget of PENSION-AM-2016');
    expect(translate('es', 'programs.chartTitle', { code: 'X' })).toBe('Presupuesto de X');
    expect(translate('en', 'status.nonexistent', {}, 'raw')).toBe('raw');
  });
});
