import { ApiProblem, problems } from './problem';

/**
 * SQLSTATE codes raised by our own SQL functions and triggers (class "MN", see migrations),
 * and the PostgreSQL states that mean "the database is not there right now".
 */
export const SQLSTATE = {
  insufficientFunds: 'MN001',
  unbalancedEntry: 'MN002',
  immutable: 'MN003',
  holdNotCapturable: 'MN004',
  holdAmountExceeded: 'MN005',
  checkViolation: '23514',
  uniqueViolation: '23505',
  queryCanceled: '57014',
  numericOverflow: '22003',
  characterNotInRepertoire: '22021',
  untranslatableCharacter: '22P05',
} as const;

const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export function constraintName(error: unknown): string | undefined {
  const e = error as { constraint?: string; driverError?: { constraint?: string } };
  return e?.driverError?.constraint ?? e?.constraint;
}

export function isNoNegativeViolation(error: unknown): boolean {
  const state = sqlState(error);
  return (
    state === SQLSTATE.insufficientFunds ||
    (state === SQLSTATE.checkViolation && /no_negative|available/.test(constraintName(error) ?? ''))
  );
}

/** Maps errors that are not server faults to problems; returns undefined for real faults. */
export function problemFromDatabaseError(error: unknown): ApiProblem | undefined {
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : '';
  if (isNoNegativeViolation(error)) return problems.unprocessable('insufficient_funds', 'The balance does not cover this amount');
  if (state === SQLSTATE.holdNotCapturable) return problems.unprocessable('hold_not_capturable', message || 'The hold cannot be captured');
  if (state === SQLSTATE.holdAmountExceeded) return problems.unprocessable('amount_exceeds_hold', 'The amount exceeds the held amount');
  // Client amounts whose sum no NUMERIC column can hold (running totals are NUMERIC(20,2)).
  if (state === SQLSTATE.numericOverflow) {
    return problems.unprocessable('amount_out_of_range', 'The amount would take a total beyond what the ledger can hold (less than 10^18)');
  }
  // Text PostgreSQL cannot store; the request edge refuses it first (input-guard.ts), this is the backstop.
  if (state === SQLSTATE.characterNotInRepertoire || state === SQLSTATE.untranslatableCharacter) {
    return new ApiProblem(400, 'invalid_text', 'A text contains a NUL character or an unpaired UTF-16 surrogate');
  }
  if (state && UNAVAILABLE_STATES.has(state)) return problems.unavailable('The database is unavailable; retry later');
  if (state && UNAVAILABLE_ERRNOS.has(state)) return problems.unavailable('The database is unavailable; retry later');
  if (state === SQLSTATE.queryCanceled) return new ApiProblem(503, 'database_timeout', 'The database took too long; retry later');
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) {
    return problems.unavailable('The database is unavailable; retry later');
  }
  return undefined;
}
