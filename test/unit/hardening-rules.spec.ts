import { attributesProblem } from '../../src/beneficiaries/attributes.rules';
import { inputProblem, isStorableText, MAX_JSON_DEPTH, storableText } from '../../src/common/input-guard';
import { scrubPersonalData, serializeErrorSafely } from '../../src/common/log-safety';

describe('input guard (issue 22 item 1)', () => {
  it('text PostgreSQL can store: anything but NUL and unpaired surrogates', () => {
    expect(isStorableText('José Ñandú 😀 \t\n')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('\ud800')).toBe(false);
    expect(isStorableText('x\udc00')).toBe(false);
    expect(isStorableText('\ude00\ud83d')).toBe(false);
    expect(storableText('a\u0000b\ud800')).toBe('a\ufffdb\ufffd');
  });

  it('names the first bad field with its path, keys included', () => {
    expect(inputProblem({ a: [{ b: 'ok' }, { c: 'x\u0000' }] }, 'body')).toMatchObject({ status: 400, code: 'invalid_text', extras: { field: 'body.a[1].c' } });
    expect(inputProblem({ ['k\ud800']: 1 }, 'query')).toMatchObject({ code: 'invalid_text', extras: { field: 'query.k\ufffd' } });
    expect(inputProblem('plain text body \u0000', 'body')).toMatchObject({ code: 'invalid_text', extras: { field: 'body' } });
    expect(inputProblem({ a: 1, b: null, c: true, d: ['x'] }, 'body')).toBeNull();
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels without recursion`, () => {
    const nest = (levels: number) => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
      return v;
    };
    expect(inputProblem(nest(MAX_JSON_DEPTH), 'body')).toBeNull();
    expect(inputProblem(nest(MAX_JSON_DEPTH + 1), 'body')).toMatchObject({ code: 'nesting_too_deep' });
    expect(inputProblem(nest(100_000), 'body')).toMatchObject({ code: 'nesting_too_deep' });
  });
});

describe('beneficiary attributes (issue 22 item 6)', () => {
  it('standard attributes have their types in every program', () => {
    expect(attributesProblem({ residenceSince: '1990-01-01', schoolLevel: 'primaria', lastPaymentAt: '2015-12-31' })).toBeNull();
    expect(attributesProblem({ residenceSince: '1990-02-30' })).toMatch(/residenceSince must be a real date/);
    expect(attributesProblem({ lastPaymentAt: 20151231 })).toMatch(/lastPaymentAt must be a real date/);
    expect(attributesProblem({ schoolLevel: 'Primaria' })).toMatch(/schoolLevel must be one of preescolar, primaria, secundaria/);
  });

  it('program-defined attributes are short strings, numbers or booleans; at most 30', () => {
    expect(attributesProblem({ folioIne: 'A1', members: 4, indigenous: true })).toBeNull();
    expect(attributesProblem({ note: 'x'.repeat(201) })).toMatch(/more than 200 characters/);
    expect(attributesProblem({ nested: { a: 1 } })).toMatch(/string, a number or a boolean/);
    expect(attributesProblem({ n: Number.NaN })).toMatch(/string, a number or a boolean/);
    expect(attributesProblem({ ['x'.repeat(65)]: 'a' })).toMatch(/names have 1 to 64/);
    expect(attributesProblem(Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`a${i}`, i])))).toMatch(/at most 30/);
    expect(attributesProblem([])).toMatch(/must be an object/);
  });
});

describe('log safety (issue 22 item 2)', () => {
  it('scrubs the shapes of personal data from error texts', () => {
    const text = scrubPersonalData(
      'invalid input syntax for type uuid: "HEGG560427MVZRRL04" Key (curp)=(HEGG560427MVZRRL04) card 4000001234567899 clabe 002010077777777771 eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl mk_abcdefghijklmnop',
    );
    expect(text).toBe('invalid input syntax for type uuid: "[redacted]" Key [redacted] card [number] clabe [number] [token] [api-key]');
    expect(scrubPersonalData('CURP HEGG560427MVZRRL04 in a sentence')).toBe('CURP [curp] in a sentence');
  });

  it('keeps type, message, frames and SQLSTATE of a database error, never its parameters, query or failing row', () => {
    const driverError = Object.assign(new Error('new row violates check constraint "x"'), { code: '23514', constraint: 'x', table: 'beneficiaries', detail: 'Failing row contains (HEGG560427MVZRRL04, Rosa)' });
    const error = Object.assign(new Error('new row violates check constraint "x"'), { driverError, query: 'INSERT …', parameters: ['HEGG560427MVZRRL04', 'Rosa'] });
    const safe = serializeErrorSafely(error);
    expect(safe).toMatchObject({ type: 'Error', message: 'new row violates check constraint "x"', code: '23514', constraint: 'x', table: 'beneficiaries' });
    expect(safe.stack).toMatch(/^Error: new row violates check constraint "x"\n\s+at /);
    expect(JSON.stringify(safe)).not.toMatch(/HEGG|Rosa|INSERT|parameters|detail/);
    expect(serializeErrorSafely(new Error('outer', { cause: new Error('4000001234567899') })).cause).toMatchObject({ message: '[number]' });
  });
});
