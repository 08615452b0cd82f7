-- Records the reintegro of a 'baja_reintegro' journal entry (called in the baja's transaction,
-- and by the backfill below). Idempotent on the entry. Design decision (docs/treasury.md): for a
-- baja for death, the deposits posted for periods whose payment date is after the date of death
-- (effectiveDate) are part of the reintegro; they are itemised in details.depositsAfterDeath.
-- Source 'payable' when the baja emptied only payee payables (a bank-paid program: money credited
-- to the beneficiary and not sent to their bank yet), else 'instrument'.
CREATE OR REPLACE FUNCTION treasury_record_baja_reintegro(p_entry uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  e journal_entries;
  v_id uuid;
  v_program uuid;
  v_amount numeric;
  v_sources uuid[];
  v_cause text;
  v_effective date;
  v_deaths jsonb := NULL;
BEGIN
  SELECT * INTO e FROM journal_entries WHERE id = p_entry AND kind = 'baja_reintegro';
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT r.id INTO v_id FROM reintegros r WHERE r.journal_entry_id = p_entry;
  IF FOUND THEN RETURN v_id; END IF;
  SELECT pr.id, sum(p.amount) INTO v_program, v_amount
    FROM postings p JOIN programs pr ON pr.reintegro_account_id = p.account_id
   WHERE p.entry_id = p_entry AND p.side = 'credit' GROUP BY pr.id;
  IF v_program IS NULL THEN RETURN NULL; END IF;
  SELECT array_agg(p.account_id ORDER BY p.account_id) INTO v_sources FROM postings p WHERE p.entry_id = p_entry AND p.side = 'debit';
  v_cause := coalesce(e.metadata->>'cause', 'unknown');
  v_effective := (e.metadata->>'effectiveDate')::date;
  IF v_cause = 'death' AND v_effective IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'journalEntryId', d.id, 'kind', d.kind, 'cycleId', c.id, 'period', c.period,
             'paymentDate', to_char(c.payment_date, 'YYYY-MM-DD'), 'amount', to_char(x.amount, 'FM9999999999999990.00'))
             ORDER BY c.payment_date, d.id), '[]'::jsonb)
      INTO v_deaths
      FROM postings x
      JOIN journal_entries d ON d.id = x.entry_id AND d.metadata ? 'cycleId'
      JOIN disbursement_cycles c ON c.id = (d.metadata->>'cycleId')::uuid
     WHERE x.account_id = ANY (v_sources) AND x.side = 'credit' AND c.payment_date > v_effective;
  END IF;
  INSERT INTO reintegros (program_id, cause, baja_cause, amount, source, source_account_ids, journal_entry_id,
                          beneficiary_id, instrument_ids, details, created_at)
  VALUES (v_program,
          CASE WHEN v_cause = 'card_not_collected' THEN 'card_not_collected' ELSE 'baja' END,
          v_cause, v_amount,
          CASE WHEN EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = ANY (v_sources) AND a.category <> 'payee_payable')
               THEN 'instrument' ELSE 'payable' END,
          v_sources, p_entry,
          (e.metadata->>'beneficiaryId')::uuid,
          CASE WHEN jsonb_typeof(e.metadata->'instrumentIds') = 'array'
               THEN ARRAY(SELECT jsonb_array_elements_text(e.metadata->'instrumentIds')::uuid) END,
          jsonb_strip_nulls(jsonb_build_object(
            'effectiveDate', e.metadata->>'effectiveDate',
            'depositsAfterDeath', v_deaths,
            'depositsAfterDeathTotal', CASE WHEN v_deaths IS NOT NULL THEN
              (SELECT to_char(coalesce(sum((x->>'amount')::numeric), 0), 'FM9999999999999990.00') FROM jsonb_array_elements(v_deaths) x) END)),
          e.effective_at)
  ON CONFLICT (journal_entry_id) DO NOTHING
  RETURNING id INTO v_id;
  RETURN v_id;
END $$;
