import type Decimal from 'decimal.js';

export type Side = 'debit' | 'credit';

/** What an account is for; used by reports and reconciliation. */
export type AccountCategory =
  | 'treasury'
  | 'program_budget'
  | 'instrument'
  | 'grant'
  | 'merchant_payable'
  | 'bank'
  | 'reintegro_payable'
  | 'pending_reintegro'
  | 'insurer_payable'
  | 'payee_payable'
  | 'bank_in_transit'
  | 'suspense'
  | 'cycle_commitment'
  /** A grant award's reserve: unreleased tranches (docs/grants.md). */
  | 'grant_award'
  /** Memo pair of a receivable from a grantee (no program: outside the program's money). */
  | 'grant_receivable'
  | 'grant_demanded'
  /** A grant's counterpart share and its source (no program: reported apart from public money). */
  | 'counterpart_source'
  | 'grant_counterpart'
  /** Loans (docs/loans.md): budget reserved by approved, not yet disbursed loans. */
  | 'loan_commitment'
  /** Memo accounts of a loan program (no program: outside the program's money): principal owed, lent, written off. */
  | 'loan_receivable'
  | 'loan_principal'
  | 'loan_written_off'
  /** Repayments of a program that does not revolve: recovered, not lendable again. */
  | 'loan_recoveries'
  | 'test';

export interface AccountSpec {
  code: string;
  name: string;
  category: AccountCategory;
  /** `debit` only for the treasury (the source of every peso); everything that holds money is `credit`. */
  normalSide?: Side;
  programId?: string | null;
  ownerType?: string | null;
  ownerId?: string | null;
  currency?: string;
  noNegativeBalance?: boolean;
  /** Hot account credited by many concurrent postings: totals roll up later (see DESIGN.md). */
  deferredTotals?: boolean;
}

export interface Account {
  id: string;
  code: string;
  name: string;
  category: AccountCategory;
  normalSide: Side;
  programId: string | null;
  ownerType: string | null;
  ownerId: string | null;
  currency: string;
  noNegativeBalance: boolean;
  deferredTotals: boolean;
}

export interface PostingInput {
  accountId: string;
  side: Side;
  amount: Decimal;
}

export interface EntryInput {
  kind: string;
  /** Unique across the ledger: a second post with the same key returns the first entry. */
  idempotencyKey?: string | null;
  effectiveAt: Date;
  description?: string | null;
  metadata?: Record<string, unknown>;
  createdBy?: string | null;
  postings: PostingInput[];
}

export interface PostResult {
  entryId: string;
  replayed: boolean;
}

export interface Balance {
  posted: Decimal;
  pending: Decimal;
  available: Decimal;
  postedDebits: Decimal;
  postedCredits: Decimal;
}

export type HoldStatus = 'authorized' | 'captured' | 'voided' | 'expired';

export interface Hold {
  id: string;
  accountId: string;
  amount: Decimal;
  status: HoldStatus;
  capturedAmount: Decimal | null;
  expiresAt: Date;
  captureEntryId: string | null;
}
