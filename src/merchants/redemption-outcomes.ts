import { formatMoney } from '../common/money';
import { ApiProblem, ReplayedResponse } from '../common/problem';
import { maskInstrumentNumber } from './merchants.rules';

/**
 * The merchant SQL functions (src/merchants/sql/) return domain outcomes: what happened and the
 * facts behind it, never an HTTP status. This is where the till's responses are chosen, once:
 * the status of each outcome, the problem document of each refusal (rendered by ApiProblem, the
 * API's one renderer) and the body of each success.
 */
export type Facts = Record<string, unknown> | null;
export type Body = Record<string, unknown>;

/** HTTP status of a refusal; every refusal not listed is 422. */
const REFUSAL_STATUS: Record<string, number> = {
  unknown_instrument: 404,
  not_found: 404,
  forbidden: 403,
  request_in_progress: 409,
};

/** The `detail` of each refusal, from its facts. */
const REFUSAL_DETAIL: Record<string, (f: Record<string, any>, what: 'authorization' | 'redemption') => string> = {
  merchant_not_allowed: (f) =>
    f.currency
      ? `The merchant does not take instruments in ${f.currency}`
      : f.category
        ? `The program does not allow the ${f.category} category`
        : 'The merchant is suspended',
  unknown_instrument: () => 'No instrument has this number',
  pin_locked: () => 'The PIN is locked after three wrong attempts',
  invalid_pin: (f) => (f.pinLockedNow ? 'Wrong PIN; the PIN is now locked' : 'Wrong PIN'),
  instrument_not_active: (f) => `The instrument is ${f.instrumentStatus}`,
  instrument_expired: () => 'The instrument has expired',
  insufficient_funds: () => 'The balance does not cover this amount',
  request_in_progress: () => 'A request with this Idempotency-Key is still being processed',
  idempotency_key_reused: () => 'This Idempotency-Key was used with a different request',
  not_found: (_f, what) => `${what} not found`,
  forbidden: (_f, what) => `This ${what} belongs to another merchant`,
  hold_not_capturable: (f) =>
    f.kind === 'direct' ? 'This is a direct redemption, not an authorization' : f.holdStatus === 'expired' ? 'The authorization has expired' : `The authorization is ${f.holdStatus}`,
  hold_not_voidable: (f) => (f.holdStatus === 'expired' ? 'The authorization has expired' : `The authorization is ${f.holdStatus}`),
  amount_exceeds_hold: () => 'The amount exceeds the authorized amount',
  redemption_not_refundable: (f) => `The redemption is ${f.redemptionStatus}, not captured`,
  refund_exceeds_captured: (f) => `At most ${formatMoney(String(f.refundable))} can still be refunded`,
};

export function refusal(outcome: string, facts: Facts, what: 'authorization' | 'redemption' = 'redemption'): ApiProblem {
  const detail = REFUSAL_DETAIL[outcome]?.(facts ?? {}, what) ?? outcome;
  return new ApiProblem(REFUSAL_STATUS[outcome] ?? 422, outcome, detail);
}

const iso = (value: unknown) => (value ? new Date(String(value)).toISOString() : null);

/** 201 of POST /v1/redemptions and /v1/authorizations. */
export function redemptionBody(outcome: 'captured' | 'authorized', f: Record<string, unknown>): Body {
  return {
    id: f.id,
    status: outcome,
    amount: formatMoney(String(f.amount)),
    instrumentNumber: maskInstrumentNumber(String(f.last4)),
    reference: f.reference ?? null,
    createdAt: iso(f.createdAt),
    ...(outcome === 'authorized' ? { expiresAt: iso(f.expiresAt) } : {}),
  };
}

/** 200 of a capture or a void. */
export function resolutionBody(f: Record<string, unknown>): Body {
  return {
    id: f.id,
    status: f.status,
    amount: formatMoney(String(f.amount)),
    authorizedAmount: formatMoney(String(f.authorizedAmount)),
    instrumentNumber: maskInstrumentNumber(String(f.last4)),
    reference: f.reference ?? null,
    createdAt: iso(f.createdAt),
    capturedAt: iso(f.capturedAt),
  };
}

/** 201 of a refund. */
export function refundBody(f: Record<string, unknown>): Body {
  return {
    id: f.id,
    redemptionId: f.redemptionId,
    status: 'refunded',
    amount: formatMoney(String(f.amount)),
    refundedTotal: formatMoney(String(f.refundedTotal)),
    refundable: formatMoney(String(f.refundable)),
    reference: f.reference ?? null,
    createdAt: iso(f.createdAt),
  };
}

/**
 * The response of a redemption or authorization: its body, or the refusal thrown. A replay
 * renders the remembered outcome exactly as the first time (ReplayedResponse carries the
 * Idempotent-Replayed header); a record written before outcomes were remembered holds its HTTP
 * status and body, which are sent back verbatim.
 */
export function renderRedemption(row: { outcome: string; facts: Facts; replayed: boolean }): Body {
  if (row.replayed) {
    const record = (row.facts ?? {}) as { outcome?: string; facts?: Facts; status?: number; body?: unknown };
    if (record.outcome === undefined) throw new ReplayedResponse(Number(record.status), record.body);
    const again = rendered(record.outcome, record.facts ?? null);
    throw again instanceof ApiProblem ? new ReplayedResponse(again.status, again.toBody()) : new ReplayedResponse(201, again);
  }
  const result = rendered(row.outcome, row.facts);
  if (result instanceof ApiProblem) throw result;
  return result;
}

function rendered(outcome: string, facts: Facts): Body | ApiProblem {
  if (outcome === 'captured' || outcome === 'authorized') return redemptionBody(outcome, facts ?? {});
  return refusal(outcome, facts);
}
