-- Debits and credits of one account from the postings effective strictly before p_before:
-- whole days from the daily totals, the part of p_before's day from the postings index, and
-- the entries not folded yet (the seconds since the last run) from the (txid, seq) index.
-- (The backlog is MATERIALIZED first so it is read from the (txid, seq) index, and its postings by
-- entry (OFFSET 0 keeps that nested loop), never by scanning the account's history; JIT is off because these are short, index-driven queries.)
CREATE OR REPLACE FUNCTION audit_account_totals_before(p_account uuid, p_before timestamptz,
  OUT debits numeric, OUT credits numeric)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH bounds AS (
    SELECT (p_before AT TIME ZONE 'UTC')::date AS d0,
           ((p_before AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS d0_start),
  backlog AS MATERIALIZED (
    SELECT e.id, e.effective_at FROM journal_entries e
     WHERE (e.txid, e.seq) > ((SELECT last_txid FROM audit_day_totals_progress WHERE id), (SELECT last_seq FROM audit_day_totals_progress WHERE id))),
  parts AS (
    SELECT t.debits AS d, t.credits AS c FROM audit_account_day_totals t, bounds
     WHERE t.account_id = p_account AND t.day < bounds.d0
    UNION ALL
    SELECT CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END, CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END
      FROM postings p, bounds
     WHERE p.account_id = p_account AND p.effective_at >= bounds.d0_start AND p.effective_at < p_before
    UNION ALL
    SELECT CASE p.side WHEN 'debit' THEN p.amount ELSE 0 END, CASE p.side WHEN 'credit' THEN p.amount ELSE 0 END
      FROM bounds, backlog b,
           LATERAL (SELECT x.side, x.amount, x.account_id, x.effective_at FROM postings x WHERE x.entry_id = b.id AND x.effective_at = b.effective_at OFFSET 0) p
     WHERE p.account_id = p_account AND p.effective_at < bounds.d0_start)
  SELECT coalesce(sum(d), 0), coalesce(sum(c), 0) FROM parts
$$;
