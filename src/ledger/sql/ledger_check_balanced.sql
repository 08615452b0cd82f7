-- Every entry balances and has a debit and a credit; all postings of an entry arrive in one
-- statement (so nobody can append to an entry later); and every posting names an entry and an
-- account that exist, and is effective at its entry's instant (so an entry's postings sit in one
-- monthly partition, and looking them up by entry and instant reads that partition only).
-- Statement-level, so a bulk insert of a million postings is checked with a hash aggregate and
-- two joins rather than a million row triggers and row locks.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid; missing boolean;
BEGIN
  SELECT n.entry_id INTO bad
  FROM (SELECT entry_id, min(effective_at) AS at, max(effective_at) AS at_max,
               sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) AS net,
               count(*) AS cnt,
               bool_or(side = 'debit') AS has_debit,
               bool_or(side = 'credit') AS has_credit
          FROM new_postings GROUP BY entry_id) n
  WHERE n.net <> 0 OR NOT n.has_debit OR NOT n.has_credit OR n.at <> n.at_max
     OR n.cnt <> (SELECT count(*) FROM postings p WHERE p.entry_id = n.entry_id AND p.effective_at = n.at)
  LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('journal entry %s is not balanced (or was appended to)', bad);
  END IF;
  SELECT n.entry_id, e.id IS NULL INTO bad, missing FROM new_postings n LEFT JOIN journal_entries e ON e.id = n.entry_id
   WHERE e.id IS NULL OR e.effective_at <> n.effective_at LIMIT 1;
  IF missing THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting of journal entry %s, which does not exist', bad);
  ELSIF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('a posting of journal entry %s is effective at another instant than its entry', bad);
  END IF;
  SELECT n.account_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting to ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;
