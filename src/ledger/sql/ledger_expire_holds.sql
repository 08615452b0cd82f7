-- Releases every hold that expired by p_now (at most p_limit), set-based. Returns the count.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_now timestamptz, p_limit integer DEFAULT 10000)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH due AS (
    SELECT id, account_id, amount FROM ledger_holds
     WHERE status = 'authorized' AND expires_at <= p_now
     ORDER BY account_id LIMIT p_limit FOR UPDATE SKIP LOCKED),
  upd AS (
    UPDATE ledger_holds h SET status = 'expired', resolved_at = p_now FROM due WHERE h.id = due.id
    RETURNING due.account_id, due.amount),
  agg AS (SELECT account_id, sum(amount) AS s, count(*) AS k FROM upd GROUP BY account_id),
  acc AS (
    UPDATE ledger_accounts a SET pending_debits = a.pending_debits - agg.s FROM agg WHERE a.id = agg.account_id
    RETURNING agg.k)
  SELECT coalesce(sum(k), 0)::int INTO n FROM acc;
  RETURN n;
END $$;
