-- Posted, pending and available balances, including deltas not rolled up yet.
CREATE OR REPLACE VIEW ledger_balances AS
SELECT a.id AS account_id, a.code, a.category, a.normal_side, a.program_id, a.owner_type, a.owner_id, a.currency,
       a.posted_debits + coalesce(d.debits, 0) AS posted_debits,
       a.posted_credits + coalesce(d.credits, 0) AS posted_credits,
       a.pending_debits, a.pending_credits,
       CASE a.normal_side WHEN 'credit' THEN a.posted_credits + coalesce(d.credits, 0) - a.posted_debits - coalesce(d.debits, 0)
                          ELSE a.posted_debits + coalesce(d.debits, 0) - a.posted_credits - coalesce(d.credits, 0) END AS posted,
       CASE a.normal_side WHEN 'credit' THEN a.pending_debits ELSE a.pending_credits END AS pending
  FROM ledger_accounts a
  LEFT JOIN LATERAL (
    SELECT sum(x.debits) AS debits, sum(x.credits) AS credits FROM ledger_account_deltas x WHERE x.account_id = a.id
  ) d ON a.deferred_totals;
