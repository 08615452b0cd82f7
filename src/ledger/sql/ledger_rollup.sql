-- Folds the appended deltas of hot accounts into their rows. DELETE … RETURNING only takes
-- committed rows, so a delta committed during the roll-up is simply left for the next one.
CREATE OR REPLACE FUNCTION ledger_rollup(p_account uuid DEFAULT NULL) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH moved AS (
    DELETE FROM ledger_account_deltas WHERE p_account IS NULL OR account_id = p_account
    RETURNING account_id, debits, credits),
  agg AS (SELECT account_id, sum(debits) AS d, sum(credits) AS c, count(*) AS k FROM moved GROUP BY account_id),
  upd AS (
    UPDATE ledger_accounts a SET posted_debits = a.posted_debits + agg.d, posted_credits = a.posted_credits + agg.c
      FROM agg WHERE a.id = agg.account_id RETURNING agg.k)
  SELECT coalesce(sum(k), 0)::int INTO n FROM upd;
  RETURN n;
END $$;
