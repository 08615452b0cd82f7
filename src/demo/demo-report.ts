/**
 * The demo's final summary as readable text (pure: unit-tested without a database). The JSON
 * summary (`--json`) is the same object, printed as is.
 */

export interface DemoStep {
  name: string;
  seconds: number;
  detail: string;
}

export interface DemoEquation {
  equation: string;
  left: string;
  right: string;
  difference: string;
  ok: boolean;
}

export interface DemoCycle {
  kind?: string;
  period?: string;
  status?: string;
  controlCount?: number;
  controlTotal?: string | null;
  postedCount?: number;
  postedTotal?: string | null;
  exceptionCount?: number;
  exceptionTotal?: string;
  ok?: boolean | null;
}

export interface DemoReconciliation {
  code: string;
  ok: boolean;
  appropriated: string;
  available: string;
  committed: string;
  disbursed: string;
  budgetReintegrated: string;
  instrumentBalances: string;
  insurerPayable: string;
  inTransit: string;
  redeemed: string;
  reintegrated: string;
  paidOut: string;
  remitted: string;
  reintegroPending: string;
  equations: DemoEquation[];
  differenceCount: number;
  accountMismatches: unknown[];
  cyclesOk: boolean;
  cycles: DemoCycle[];
}

export interface DemoIntegrity {
  ok: boolean;
  checkedEntries: number;
  checkedPostings: number;
  checkedAccounts: number;
  sealedEntries: number;
  unsealedEntries: number;
  sealedBlocks: number;
  chain: { ok: boolean; lastBlock: number | null; lastHash: string | null };
  totals: { debits: string; credits: string };
  problemCount: number;
  problems: Array<{ type: string; detail: string }>;
}

export interface DemoSummary {
  ok: boolean;
  database: string;
  people: number;
  seconds: number;
  steps: DemoStep[];
  redemptions: { attempted: number; byOutcome: Record<string, number>; captured: string };
  skipped: string[];
  reconciliation: DemoReconciliation[];
  integrity: DemoIntegrity;
}

// Mexican Spanish grouping, like the console; Intl formats the decimal string exactly (no float).
const MONEY = new Intl.NumberFormat('es-MX', { minimumFractionDigits: 2, maximumFractionDigits: 2, roundingMode: 'halfEven' } as Intl.NumberFormatOptions);
const COUNT = new Intl.NumberFormat('es-MX', { maximumFractionDigits: 0 });

/** "1234567.8" → "1,234,567.80" from a money string. */
export function groupMoney(amount: string): string {
  return MONEY.format(amount as unknown as number);
}

export function groupInt(n: number): string {
  return COUNT.format(n);
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

const mark = (ok: boolean | null | undefined) => (ok === false ? 'FAIL' : 'ok');

export function formatSummary(s: DemoSummary): string {
  const out: string[] = [];
  out.push(`Monedero demo: ${groupInt(s.people)} people, database ${s.database}, ${duration(s.seconds)} — ${s.ok ? 'everything reconciles' : 'PROBLEMS FOUND'}`);
  out.push('');
  out.push('Steps');
  const width = Math.max(...s.steps.map((st) => st.name.length));
  for (const st of s.steps) out.push(`  ${st.name.padEnd(width)}  ${duration(st.seconds).padStart(12)}  ${st.detail}`);
  for (const skip of s.skipped) out.push(`  skipped: ${skip}`);
  out.push('');
  const outcomes = Object.entries(s.redemptions.byOutcome)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${groupInt(v)}`)
    .join(', ');
  out.push(`Redemptions: ${groupInt(s.redemptions.attempted)} attempted (${outcomes}); ${groupMoney(s.redemptions.captured)} captured`);
  for (const r of s.reconciliation) {
    out.push('');
    out.push(`Reconciliation ${r.code}: ${mark(r.ok)}`);
    const figures: Array<[string, string]> = [
      ['appropriated', r.appropriated],
      ['available', r.available],
      ['committed', r.committed],
      ['disbursed', r.disbursed],
      ['budget reintegrated', r.budgetReintegrated],
      ['instrument balances', r.instrumentBalances],
      ['insurer payable', r.insurerPayable],
      ['in transit', r.inTransit],
      ['redeemed', r.redeemed],
      ['reintegrated', r.reintegrated],
      ['paid out', r.paidOut],
      ['remitted', r.remitted],
      ['reintegro pending', r.reintegroPending],
    ];
    const amounts = figures.map(([, v]) => groupMoney(v));
    const w = Math.max(...amounts.map((a) => a.length));
    figures.forEach(([k, ], i) => out.push(`  ${k.padEnd(20)} ${amounts[i].padStart(w)}`));
    for (const e of r.equations) {
      out.push(`  ${mark(e.ok).padEnd(4)} ${e.equation}`);
      out.push(`       ${groupMoney(e.left)} = ${groupMoney(e.right)}${e.ok ? '' : `  (difference ${groupMoney(e.difference)})`}`);
    }
    if (r.differenceCount) out.push(`  FAIL ${r.differenceCount} entries no equation explains`);
    if (r.accountMismatches.length) out.push(`  FAIL ${r.accountMismatches.length} accounts whose totals differ from their postings`);
    for (const c of r.cycles) {
      out.push(
        `  ${mark(c.ok).padEnd(4)} cycle ${c.period} ${c.kind} ${c.status}: control ${groupInt(c.controlCount ?? 0)} lines ${groupMoney(c.controlTotal ?? '0.00')}` +
          ` = posted ${groupInt(c.postedCount ?? 0)} ${groupMoney(c.postedTotal ?? '0.00')} + exceptions ${groupInt(c.exceptionCount ?? 0)} ${groupMoney(c.exceptionTotal ?? '0.00')}`,
      );
    }
  }
  const i = s.integrity;
  out.push('');
  out.push(
    `Integrity check: ${mark(i.ok)} — ${groupInt(i.checkedEntries)} entries, ${groupInt(i.checkedPostings)} postings, ${groupInt(i.checkedAccounts)} accounts; ` +
      `${groupInt(i.sealedEntries)} entries sealed in ${groupInt(i.sealedBlocks)} blocks (chain ${mark(i.chain.ok)}, last hash ${i.chain.lastHash?.slice(0, 16) ?? '-'}…); ` +
      `debits ${groupMoney(i.totals.debits)} = credits ${groupMoney(i.totals.credits)}`,
  );
  for (const p of i.problems.slice(0, 10)) out.push(`  FAIL ${p.type}: ${p.detail}`);
  if (i.problemCount > 10) out.push(`  … ${i.problemCount - 10} more problems`);
  return out.join('\n');
}
