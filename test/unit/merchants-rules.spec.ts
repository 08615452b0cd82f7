import { takeBatch } from '../../src/merchants/redemption-batcher';
import { decodeCursor, encodeCursor, maskInstrumentNumber, parseTimeRange, payoutCsv } from '../../src/merchants/merchants.rules';

describe('merchants rules', () => {
  it('masks the instrument number to its last four digits', () => {
    expect(maskInstrumentNumber('1234')).toBe('************1234');
  });

  it('round-trips cursors and refuses forged ones', () => {
    const c = { at: '2026-03-15T18:00:00.000Z', id: '0b6f4c1e-8a0e-4f7e-9d61-0f6f5d4c3b2a' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(undefined)).toBeNull();
    expect(() => decodeCursor('not-a-cursor')).toThrow(/cursor/);
    expect(() => decodeCursor(Buffer.from('["x","y"]').toString('base64url'))).toThrow(/cursor/);
  });

  it('reads from/to as whole business days, or instants', () => {
    const r = parseTimeRange('2026-03-15', '2026-03-15', 'America/Mexico_City');
    expect(r.from!.toISOString()).toBe('2026-03-15T06:00:00.000Z');
    expect(r.to!.toISOString()).toBe('2026-03-16T06:00:00.000Z');
    expect(parseTimeRange('2026-03-15T10:00:00Z', undefined, 'UTC')).toEqual({ from: new Date('2026-03-15T10:00:00Z'), to: null });
    expect(() => parseTimeRange('yesterday', undefined, 'UTC')).toThrow();
    expect(() => parseTimeRange('2026-03-16', '2026-03-15', 'UTC')).toThrow(/before/);
  });

  it('writes the payout CSV quoted, with formulas neutralised', () => {
    const csv = payoutCsv([
      { statementId: 'ST-1', merchantId: 'm', merchantName: '=HYPERLINK("x")', bankAccount: null, amount: '10.00', currency: 'MXN', businessDate: '2026-03-15' },
    ]);
    expect(csv.split('\r\n')[1]).toBe(`"ST-1","m","'=HYPERLINK(""x"")","","10.00","MXN","2026-03-15"`);
  });
});

describe('takeBatch (group commit)', () => {
  const w = (card: string, key: string) => ({ item: { numberHash: card, idemScope: 'merchant:1', idemKey: key } });

  it('takes requests in arrival order up to the limit and leaves the rest waiting, in order', () => {
    const waiting = [w('a', '1'), w('b', '2'), w('c', '3'), w('d', '4')];
    const batch = takeBatch(waiting, 3);
    expect(batch.map((x) => x.item.numberHash)).toEqual(['a', 'b', 'c']);
    expect(waiting.map((x) => x.item.numberHash)).toEqual(['d']);
  });

  it('keeps a second request on the same card, or with the same Idempotency-Key, for a later batch', () => {
    const waiting = [w('a', '1'), w('a', '2'), w('b', '1'), w('c', '3'), w('a', '4')];
    const batch = takeBatch(waiting, 10);
    expect(batch.map((x) => `${x.item.numberHash}${x.item.idemKey}`)).toEqual(['a1', 'c3']);
    expect(waiting.map((x) => `${x.item.numberHash}${x.item.idemKey}`)).toEqual(['a2', 'b1', 'a4']);
    expect(takeBatch(waiting, 10).map((x) => `${x.item.numberHash}${x.item.idemKey}`)).toEqual(['a2', 'b1']);
    expect(waiting.map((x) => `${x.item.numberHash}${x.item.idemKey}`)).toEqual(['a4']);
  });

  it('the same key in another scope is another key', () => {
    const waiting = [w('a', '1'), { item: { numberHash: 'b', idemScope: 'merchant:2', idemKey: '1' } }];
    expect(takeBatch(waiting, 10)).toHaveLength(2);
  });
});
