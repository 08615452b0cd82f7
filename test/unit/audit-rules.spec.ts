import { money } from '../../src/common/money';
import { blockHash, boundInstantText, GENESIS_HASH, verifyChain } from '../../src/audit/audit.rules';
import { classifyFlow, reconcile } from '../../src/audit/reconciliation.rules';
import { bucketOf } from '../../src/audit/indicators.service';

describe('audit rules', () => {
  const block = (n: number, prev: string) => {
    const b = { blockNo: n, prevHash: prev, entriesHash: `e${n}`.padEnd(64, '0'), entryCount: 2, fromTxid: '10', fromSeq: '1', toTxid: '11', toSeq: '2', horizon: '12' };
    return { ...b, hash: blockHash(b) };
  };

  it('chains seals: any change to a block or its entries breaks exactly that block', () => {
    const b1 = block(1, GENESIS_HASH);
    const b2 = block(2, b1.hash);
    const digests = new Map([[1, { hash: b1.entriesHash, count: 2 }], [2, { hash: b2.entriesHash, count: 2 }]]);
    expect(verifyChain([b1, b2], digests)).toEqual([]);
    expect(verifyChain([{ ...b1, entryCount: 3 }, b2], digests).map((p) => p.blockNo)).toEqual([1, 1]);
    const other = new Map(digests).set(2, { hash: 'x', count: 2 });
    expect(verifyChain([b1, b2], other)).toEqual([{ blockNo: 2, detail: expect.stringContaining('digests') }]);
    expect(verifyChain([b1, { ...b2, prevHash: GENESIS_HASH }], digests).map((p) => p.blockNo)).toEqual([2, 2]);
  });

  it('checks a chain incrementally from a block verified before: the link to it, the numbering, the hashes', () => {
    const b1 = block(1, GENESIS_HASH);
    const b2 = block(2, b1.hash);
    const b3 = block(3, b2.hash);
    const digests = new Map([[2, { hash: b2.entriesHash, count: 2 }], [3, { hash: b3.entriesHash, count: 2 }]]);
    expect(verifyChain([b2, b3], digests, { blockNo: 1, hash: b1.hash })).toEqual([]);
    expect(verifyChain([b2, b3], digests, { blockNo: 1, hash: GENESIS_HASH }).map((p) => p.blockNo)).toEqual([2]);
    expect(verifyChain([b3], digests, { blockNo: 1, hash: b1.hash }).map((p) => p.detail)).toEqual([expect.stringContaining('expected block 2'), expect.stringContaining('previous hash')]);
  });

  it('classifies flows, reversals counting backwards', () => {
    expect(classifyFlow('treasury', 'budget')).toEqual({ term: 'appropriated', sign: 1 });
    expect(classifyFlow('holding', 'budget')).toEqual({ term: 'disbursed', sign: -1 });
    expect(classifyFlow('commitment', 'insurer')).toEqual({ term: 'disbursed', sign: 1 });
    expect(classifyFlow('merchant', 'holding')).toEqual({ term: 'redeemed', sign: -1 });
    expect(classifyFlow('holding', 'holding')).toEqual({ term: 'internal', sign: 1 });
    expect(classifyFlow('treasury', 'holding')).toBeNull();
  });

  it('reconciles a Seguro split line: the premium is disbursed and sits in the insurer payable', () => {
    const r = reconcile({
      flows: [
        { from: 'treasury', to: 'budget', amount: money('10000.00') },
        { from: 'budget', to: 'commitment', amount: money('1537.00') },
        { from: 'commitment', to: 'holding', amount: money('1500.00') },
        { from: 'commitment', to: 'insurer', amount: money('37.00') },
      ],
      balances: { budgetPosted: money('8463.00'), budgetPending: money('0'), commitment: money('0'), holding: money('1500.00'), insurer: money('37.00'), payable: money('0'), transit: money('0'), reintegro: money('0') },
    });
    expect(r.equations.map((e) => e.ok)).toEqual([true, true]);
    expect(r.figures).toMatchObject({ disbursed: '1537.00', insurerPayable: '37.00', instrumentBalances: '1500.00' });
  });

  it('S-bank, W11: reconciles a bank-paid month: payables, money in transit, paid out, returned by the bank, reintegrated after rejections', () => {
    const r = reconcile({
      flows: [
        { from: 'treasury', to: 'budget', amount: money('10000.00') },
        { from: 'budget', to: 'commitment', amount: money('3074.00') },
        { from: 'commitment', to: 'payable', amount: money('3074.00') },
        { from: 'payable', to: 'transit', amount: money('3037.00') },
        { from: 'transit', to: 'bank', amount: money('1537.00') },
        { from: 'transit', to: 'payable', amount: money('1500.00') },
        { from: 'payable', to: 'reintegro', amount: money('1500.00') },
      ],
      balances: { budgetPosted: money('6926.00'), budgetPending: money('0'), commitment: money('0'), holding: money('0'), insurer: money('0'), payable: money('37.00'), transit: money('0'), reintegro: money('1500.00') },
    });
    expect(r.equations.map((e) => e.ok)).toEqual([true, true]);
    expect(r.figures).toMatchObject({ disbursed: '3074.00', payables: '37.00', inTransit: '0.00', paidOut: '1537.00', reintegrated: '1500.00' });
    // A payable that lost its money without a flow (e.g. a missing entry) shows as a difference.
    const broken = reconcile({ flows: [], balances: { budgetPosted: money('0'), budgetPending: money('0'), commitment: money('0'), holding: money('0'), insurer: money('0'), payable: money('1.00'), transit: money('0'), reintegro: money('0') } });
    expect(broken.equations[1]).toMatchObject({ ok: false, difference: '-1.00' });
    expect(classifyFlow('payable', 'transit')).toEqual({ term: 'internal', sign: 1 });
    expect(classifyFlow('transit', 'bank')).toEqual({ term: 'paidOut', sign: 1 });
  });

  it('turns bounds into exact instants (a date in the service zone, an inclusive instant), and ages tranches', () => {
    const tz = 'America/Mexico_City';
    expect(boundInstantText('2016-12-31', 'start', tz)).toBe('2016-12-31T06:00:00.000000Z');
    expect(boundInstantText('2016-12-31', 'end', tz)).toBe('2017-01-01T06:00:00.000000Z');
    expect(boundInstantText('2016-07-01', 'start', tz)).toBe('2016-07-01T05:00:00.000000Z'); // daylight saving time in 2016
    expect(boundInstantText('2016-12-31T10:00:00Z', 'start', tz)).toBe('2016-12-31T10:00:00.000000Z');
    expect(boundInstantText('2016-12-31T10:00:00.999999-06:00', 'end', tz)).toBe('2016-12-31T16:00:01.000000Z');
    expect([0, 30, 31, 45, 46, 91].map(bucketOf)).toEqual(['0-30', '0-30', '31-45', '31-45', '46-90', '90+']);
  });
});
