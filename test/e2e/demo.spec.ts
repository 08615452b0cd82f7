import { DemoUsageError, parseDemoArgs, runDemo } from '../../src/demo/demo';
import { formatSummary } from '../../src/demo/demo-report';

/** `npm run demo`, small: the whole disbursement year on a database of its own, through the real API and jobs. */
describe('demo', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('runs end to end on a fresh database: everything reconciles and the integrity check passes', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${url.pathname.slice(1).replace(/_test$/, '')}_demo_test`;
    const options = {
      ...parseDemoArgs(['--people', '400', '--redemptions', '60'], { ...process.env, DEMO_DATABASE_URL: url.toString() }),
      queuePrefix: `${process.env.QUEUE_PREFIX}:demo`,
      progress: false,
      log: false,
    };
    const summary = await runDemo(options);

    expect(summary.integrity).toMatchObject({ ok: true, problemCount: 0, unsealedEntries: 0 });
    expect(summary.reconciliation.map((r) => [r.code, r.ok, r.cyclesOk])).toEqual([
      ['PENSION-AM-2016', true, true],
      ['UTILES-2016', true, true],
    ]);
    expect(summary.skipped).toEqual([]);
    expect(summary.ok).toBe(true);
    // Real traffic, real refusals: nothing refused was posted (the equations above would break).
    expect(summary.redemptions.byOutcome).toMatchObject({ captured: 60, invalid_pin: 3, pin_locked: 1, insufficient_funds: 1, merchant_not_allowed: 1, instrument_expired: 1 });
    const pension = summary.reconciliation[0];
    expect(pension.cycles).toHaveLength(1);
    expect(pension.cycles[0]).toMatchObject({ status: 'completed', exceptionCount: 0 });
    expect(pension.cycles[0].postedCount).toBeGreaterThan(250);
    const utiles = summary.reconciliation[1];
    expect(utiles.instrumentBalances).toBe('0.00'); // every voucher expired and swept to reintegro
    expect(utiles.reintegroPending).not.toBe('0.00');
    expect(summary.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['programs:load', 'bajas', 'voucher expiry sweep', 'integrity check']));
    expect(formatSummary(summary)).toMatch(/everything reconciles/);
  }, 120000);

  it('refuses to recreate a database whose name does not say demo', () => {
    expect(() => parseDemoArgs([], { ...process.env, DEMO_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/monedero' })).toThrow(DemoUsageError);
    expect(() => parseDemoArgs(['--people', 'many'], process.env)).toThrow(/--people/);
    expect(parseDemoArgs([], { ...process.env, DEMO_DATABASE_URL: undefined }).databaseUrl).toMatch(/\/monedero_demo$/);
  });
});
