import { RateLimitStorage } from '../../src/ops/rate-limit-storage';

describe('RateLimitStorage (merchant rate limit, sliding log)', () => {
  let now: number;
  let storage: RateLimitStorage;
  beforeEach(() => {
    now = 1_000_000;
    storage = new RateLimitStorage(() => now);
  });
  const hit = (key = 'k', limit = 3) => storage.hit(key, 1000, limit, 1000);

  it('lets `limit` hits through within the window, then blocks for the block duration', () => {
    expect([hit(), hit(), hit()].map((r) => r.isBlocked)).toEqual([false, false, false]);
    expect(hit()).toMatchObject({ isBlocked: true, totalHits: 4, timeToBlockExpire: 1 });
    now += 999;
    expect(hit()).toMatchObject({ isBlocked: true });
    now += 1;
    // The block is over: counting starts afresh.
    expect(hit()).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('counts a sliding window: a hit leaves exactly ttl after it was made', () => {
    hit();
    now += 400;
    hit();
    now += 400;
    expect(hit()).toMatchObject({ isBlocked: false, totalHits: 3, timeToExpire: 1 });
    now += 200; // the first hit (t=0) has expired
    expect(hit()).toMatchObject({ isBlocked: false, totalHits: 3 });
  });

  it('keeps every key on its own', () => {
    for (let i = 0; i < 3; i++) hit('a');
    expect(hit('a').isBlocked).toBe(true);
    expect(hit('b').isBlocked).toBe(false);
  });

  it('stays exact over many hits at a high limit (the queue compacts as hits expire)', () => {
    const limit = 2000;
    let refused = 0;
    for (let ms = 0; ms < 5000; ms++) {
      now = 1_000_000 + ms;
      if (hit('busy', limit).isBlocked) refused++;
    }
    // One hit per ms is 1,000 per second: always under 2,000.
    expect(refused).toBe(0);
    expect(hit('busy', limit).totalHits).toBe(1001); // the last second's 1,000 hits and this one
  });

  it('forgets idle keys when swept', () => {
    hit('a');
    hit('b');
    expect(storage.size).toBe(2);
    now += 1000;
    storage.sweep();
    expect(storage.size).toBe(0);
  });
});
