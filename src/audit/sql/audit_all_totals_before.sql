-- The same for every account at once (trial balance).
CREATE OR REPLACE FUNCTION audit_all_totals_before(p_before timestamptz)
RETURNS TABLE (account_id uuid, debits numeric, credits numeric)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH bounds AS (
    SELECT (p_before AT TIME ZONE 'UTC')::date AS d0,
           ((p_before AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS d0_start),
  backlog AS MATERIALIZED (
    SELECT e.id, e.effective_at FROM journal_entries e
     WHERE (e.txid, e.seq) > ((SELECT last_txid FROM audit_day_totals_progress WHERE id), (SELECT last_seq FROM audit_day_totals_progress WHERE id))),
  parts AS (
    SELECT t.account_id, sum(t.debits) AS d, sum(t.credits) AS c FROM audit_account_day_totals t, bounds
     WHERE t.day < bounds.d0 GROUP BY t.account_id
    UNION ALL
    SELECT p.account_id, sum(p.amount) FILTER (WHERE p.side = 'debit'), sum(p.amount) FILTER (WHERE p.side = 'credit')
      FROM bounds, journal_entries e JOIN postings p ON p.entry_id = e.id
     WHERE e.effective_at >= bounds.d0_start AND e.effective_at < p_before
       AND p.effective_at >= bounds.d0_start AND p.effective_at < p_before
     GROUP BY p.account_id
    UNION ALL
    SELECT p.account_id, sum(p.amount) FILTER (WHERE p.side = 'debit'), sum(p.amount) FILTER (WHERE p.side = 'credit')
      FROM bounds, backlog b,
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id AND x.effective_at = b.effective_at OFFSET 0) p
     WHERE p.effective_at < bounds.d0_start
     GROUP BY p.account_id)
  SELECT account_id, coalesce(sum(d), 0), coalesce(sum(c), 0) FROM parts GROUP BY account_id
$$;
