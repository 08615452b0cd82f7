import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import type { Account } from '../../src/ledger/ledger.types';

/** The treasury account (source of every peso), created once per database. */
export function treasury(ledger: LedgerService): Promise<Account> {
  return ledger.ensureAccount({ code: 'treasury:MXN', name: 'Tesorería', category: 'treasury', normalSide: 'debit' });
}

/** A fresh credit-normal account, guarded against negative balances unless told otherwise. */
export function testAccount(ledger: LedgerService, opts: { guarded?: boolean; deferred?: boolean; label?: string } = {}): Promise<Account> {
  const id = randomUUID();
  return ledger.ensureAccount({
    code: `test:${opts.label ?? 'acct'}:${id}`,
    name: `test ${opts.label ?? 'account'}`,
    category: 'test',
    noNegativeBalance: opts.guarded ?? !opts.deferred,
    deferredTotals: opts.deferred ?? false,
  });
}

/** Funds an account from the treasury. */
export async function fund(ledger: LedgerService, accountId: string, amount: string): Promise<string> {
  const t = await treasury(ledger);
  const { entryId } = await ledger.post({
    kind: 'appropriation',
    idempotencyKey: `test-fund:${randomUUID()}`,
    effectiveAt: new Date(),
    postings: [
      { accountId: t.id, side: 'debit', amount: money(amount) },
      { accountId, side: 'credit', amount: money(amount) },
    ],
  });
  return entryId;
}
