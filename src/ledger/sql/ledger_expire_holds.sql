-- Releases holds that expired by p_now (at most p_limit), set-based. Accounts are locked before
-- their holds (the order every writer uses); an account another transaction holds is skipped and
-- its holds are left for the next run. Returns how many holds it released.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_now timestamptz, p_limit integer DEFAULT 10000)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE v_ids uuid[];
BEGIN
  WITH due AS (
    SELECT h.id, h.account_id FROM ledger_holds h
     WHERE h.status = 'authorized' AND h.expires_at <= p_now ORDER BY h.account_id LIMIT p_limit),
  locked AS (
    SELECT a.id FROM ledger_accounts a WHERE a.id IN (SELECT account_id FROM due) ORDER BY a.id FOR UPDATE SKIP LOCKED)
  SELECT array_agg(due.id) INTO v_ids FROM due JOIN locked ON locked.id = due.account_id;
  IF v_ids IS NULL THEN RETURN 0; END IF;
  PERFORM ledger_post_set('{}', '{}', ARRAY(SELECT ROW('release', x, NULL, NULL, NULL, NULL, NULL, 'expired', NULL, NULL, p_now)::ledger_hold_in
                                             FROM unnest(v_ids) x));
  RETURN (SELECT count(*) FROM ledger_holds WHERE id = ANY (v_ids) AND status = 'expired' AND resolved_at = p_now);
END $$;
