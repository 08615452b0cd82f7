import { parseCsvTable } from '../common/csv';
import { csvText } from '../common/csv';
import { formatMoney, isPositiveMoneyString } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { ProgramRules } from '../programs/program-rules';

/**
 * Pure rules of the payouts module (no I/O): which programs are paid through a bank, payee and
 * batch kinds, attempts, the bank file and the bank's results file. Unit-tested in
 * test/unit/payouts-rules.spec.ts.
 */

/** Whose money waits on a payable (MONEY-PATHS "Payables and payouts"). */
export const PAYEE_KINDS = ['beneficiary', 'insurer', 'grantee', 'supplier', 'borrower'] as const;
export type PayeeKind = (typeof PAYEE_KINDS)[number];

/** Batch kinds of API.md and the payee kind each one pays. */
export const BATCH_KINDS = {
  beneficiaries: 'beneficiary',
  insurer: 'insurer',
  grants: 'grantee',
  suppliers: 'supplier',
  loans: 'borrower',
} as const satisfies Record<string, PayeeKind>;
export type BatchKind = keyof typeof BATCH_KINDS;

/**
 * Whose bank details pay a payee: beneficiaries, grantees and borrowers are rows of the padrón
 * (one CLABE per beneficiary, whatever they are paid for); the insurer is the program's (owner id =
 * program id); a supplier is the supplier's.
 */
export type BankOwnerKind = 'beneficiary' | 'insurer' | 'supplier';
export function bankOwnerKind(kind: PayeeKind): BankOwnerKind {
  return kind === 'insurer' ? 'insurer' : kind === 'supplier' ? 'supplier' : 'beneficiary';
}

/** Code of a payee's payable: program:<programId>:payable:<kind>:<payeeId>. */
export function payableCode(programId: string, kind: PayeeKind, payeeId: string): string {
  return `program:${programId}:payable:${kind}:${payeeId}`;
}

/** Money between a batch's approval and the bank's answer. */
export function transitCode(programId: string): string {
  return `program:${programId}:bank-transit`;
}

/** Where paid transfers go: the paying bank account, outside every program. */
export function bankCode(currency: string): string {
  return `bank:payouts:${currency}`;
}

/** Paid through a bank (API.md): instrumentType bank_account or loan (disbursed to the borrower's account), or rules.payout. */
export function isBankPaid(program: { instrumentType: string; rules: Pick<ProgramRules, 'payout'> }): boolean {
  return program.instrumentType === 'bank_account' || program.instrumentType === 'loan' || program.rules.payout !== undefined;
}

/** Rejected transfers a payee's money survives before it goes to reintegro (rules.payout.maxAttempts, default 3). */
export const DEFAULT_MAX_ATTEMPTS = 3;
export function maxAttempts(rules: Pick<ProgramRules, 'payout'>): number {
  return typeof rules.payout === 'object' ? (rules.payout.maxAttempts ?? DEFAULT_MAX_ATTEMPTS) : DEFAULT_MAX_ATTEMPTS;
}

// ------------------------------------------------------------------ the bank file

export interface BankFileLine {
  lineId: string;
  clabe: string;
  holderName: string;
  amount: string;
  reference: string;
}

export const BANK_FILE_HEADER = ['line_id', 'clabe', 'holder', 'amount', 'reference'];

/** Reference the bank echoes back for one line: batch number and line number. */
export function lineReference(batchNumber: string, lineNo: number): string {
  return `${batchNumber}-${String(lineNo).padStart(6, '0')}`;
}

/**
 * The bank file (docs/payouts.md "Bank file"): RFC 4180 CSV in UTF-8 without BOM, CRLF line
 * ends, a header, one line per transfer in line order, then the totals line
 * `TOTAL,,<number of lines>,<sum of amounts>,<batch number>`. A function of the frozen lines only,
 * so the same batch always gives the same bytes.
 */
export function renderBankFile(batchNumber: string, lines: BankFileLine[], total: string): Buffer {
  // common/csv.ts: RFC 4180, CRLF, and a holder name starting with = + - @ gets a ' (the project's CSV policy).
  const records = lines.map((l) => [l.lineId, l.clabe, l.holderName, formatMoney(l.amount), l.reference]);
  return Buffer.from(csvText([BANK_FILE_HEADER, ...records, ['TOTAL', '', String(lines.length), formatMoney(total), batchNumber]]), 'utf8');
}

// ------------------------------------------------------------------ the bank's results

export interface ResultLine {
  lineId: string;
  status: 'paid' | 'rejected';
  reason: string | null;
  /** The amount the bank reports, when it reports one: it must equal the line's. */
  amount: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_RESULT_LINES = 500_000;

function resultLine(raw: { lineId?: unknown; status?: unknown; reason?: unknown; amount?: unknown }, where: string): ResultLine {
  if (typeof raw.lineId !== 'string' || !UUID.test(raw.lineId)) throw problems.validation(`${where}: lineId must be a line id (UUID)`);
  if (raw.status !== 'paid' && raw.status !== 'rejected') throw problems.validation(`${where}: status must be paid or rejected`);
  if (raw.reason !== undefined && raw.reason !== null && (typeof raw.reason !== 'string' || raw.reason.length > 200)) {
    throw problems.validation(`${where}: reason must be a string of at most 200 characters`);
  }
  if (raw.amount !== undefined && raw.amount !== null && raw.amount !== '' && !isPositiveMoneyString(raw.amount)) {
    throw problems.invalidAmount(`${where}: amount must be a string with at most two decimals, greater than zero`);
  }
  const reason = typeof raw.reason === 'string' && raw.reason.trim() ? raw.reason.trim() : null;
  return { lineId: raw.lineId.toLowerCase(), status: raw.status, reason, amount: typeof raw.amount === 'string' && raw.amount !== '' ? raw.amount : null };
}

/** JSON results: `[{ lineId, status: "paid"|"rejected", reason?, amount? }]`. */
export function parseResultsJson(body: unknown): ResultLine[] {
  if (!Array.isArray(body) || body.length === 0) throw problems.validation('results must be a non-empty JSON array of { lineId, status, reason?, amount? }');
  if (body.length > MAX_RESULT_LINES) throw problems.validation(`at most ${MAX_RESULT_LINES} result lines per import`);
  return body.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw problems.validation(`results[${i}] must be an object`);
    const unknown = Object.keys(item).filter((k) => !['lineId', 'status', 'reason', 'amount'].includes(k));
    if (unknown.length) throw problems.validation(`results[${i}]: unknown field ${unknown[0]}`);
    return resultLine(item, `results[${i}]`);
  });
}

/**
 * CSV results (docs/payouts.md "Results file"): a header naming at least `line_id` and `status`
 * (and optionally `reason`, `amount`), then one line per transfer. A totals line (first field
 * `TOTAL`, as in the bank file) is skipped.
 */
export function parseResultsCsv(text: string): ResultLine[] {
  const { columns, rows: data } = parseCsvTable(text, 'the results file');
  const at = (name: string) => columns.indexOf(name);
  if (at('line_id') < 0 || at('status') < 0) throw problems.validation('the results file needs a header with line_id and status (and optionally reason, amount)');
  const lines = data.filter((r) => r[0] !== 'TOTAL');
  if (!lines.length) throw problems.validation('the results file has no result lines');
  if (lines.length > MAX_RESULT_LINES) throw problems.validation(`at most ${MAX_RESULT_LINES} result lines per import`);
  const field = (r: string[], name: string) => (at(name) >= 0 ? r[at(name)] : undefined);
  return lines.map((r, i) =>
    resultLine({ lineId: field(r, 'line_id'), status: field(r, 'status'), reason: field(r, 'reason'), amount: field(r, 'amount') }, `line ${i + 2}`),
  );
}

/** Results of one import must name each line once. */
export function assertDistinctLines(lines: ResultLine[]): void {
  const seen = new Set<string>();
  for (const l of lines) {
    if (seen.has(l.lineId)) throw new ApiProblem(422, 'duplicate_result_line', `line ${l.lineId} appears more than once in the results`, { lineIds: [l.lineId] });
    seen.add(l.lineId);
  }
}
