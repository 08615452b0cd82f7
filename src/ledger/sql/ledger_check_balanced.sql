-- Every entry balances and has a debit and a credit; all postings of an entry arrive in one
-- statement (so nobody can append to an entry later); and every posting names an entry and an
-- account that exist. Statement-level, so a bulk insert of a million postings is checked with a
-- hash aggregate and two anti-joins rather than a million row triggers and row locks.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad uuid;
BEGIN
  SELECT n.entry_id INTO bad
  FROM (SELECT entry_id,
               sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) AS net,
               count(*) AS cnt,
               bool_or(side = 'debit') AS has_debit,
               bool_or(side = 'credit') AS has_credit
          FROM new_postings GROUP BY entry_id) n
  WHERE n.net <> 0 OR NOT n.has_debit OR NOT n.has_credit
     OR n.cnt <> (SELECT count(*) FROM postings p WHERE p.entry_id = n.entry_id)
  LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'MN002', MESSAGE = format('journal entry %s is not balanced (or was appended to)', bad);
  END IF;
  SELECT n.entry_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = n.entry_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting of journal entry %s, which does not exist', bad);
  END IF;
  SELECT n.account_id INTO bad FROM new_postings n
   WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('posting to ledger account %s, which does not exist', bad);
  END IF;
  RETURN NULL;
END $$;
