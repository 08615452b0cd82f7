-- The budget-execution contributions of some journal entries (docs/audit.md "Execution summary"):
-- their postings on accounts of a program (of p_program, or of any program when null), grouped by
-- the program's business date, the account's category, the account itself where the report needs
-- it (budget side and the reintegro account; every card or payable is summed over), the entry's
-- kind (a reversal counts under the kind of the entry it reverses), the component of a cycle entry
-- and the zone the report places it in: for a posting on the program's reintegro account, the
-- address of the reintegro's beneficiary (null when none); for a cycle entry's other postings
-- outside the budget side, the address of its beneficiary. net = credits − debits.
-- p_cycle_kinds: the kinds that execute the budget (ExecutionService EXECUTING_KINDS: cycle lines,
-- payment orders, compliance payments, supplier invoices, loan disbursements and pool returns).
CREATE OR REPLACE FUNCTION audit_execution_rows(p_entries uuid[], p_cycle_kinds text[], p_program uuid DEFAULT NULL)
RETURNS TABLE (program_id uuid, day date, category text, account_id uuid, kind text, component text, zone jsonb, net numeric, postings bigint)
LANGUAGE sql STABLE AS $$
  SELECT a.program_id,
         (x.effective_at AT TIME ZONE pr.time_zone)::date,
         a.category,
         CASE WHEN a.category IN ('program_budget', 'cycle_commitment', 'grant_award', 'loan_commitment') OR a.id = pr.reintegro_account_id THEN a.id END,
         coalesce(o.kind, e.kind),
         CASE WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) THEN coalesce(o.metadata, e.metadata)->>'component' END,
         CASE WHEN a.id = pr.reintegro_account_id THEN
                CASE WHEN rb.id IS NULL THEN NULL ELSE jsonb_build_object('comuna', rb.address->>'comuna', 'municipality', rb.address->>'municipality') END
              WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) AND a.category NOT IN ('program_budget', 'cycle_commitment', 'grant_award', 'loan_commitment') THEN
                jsonb_build_object('comuna', cb.address->>'comuna', 'municipality', cb.address->>'municipality')
         END,
         sum(CASE WHEN x.side = 'credit' THEN x.amount ELSE -x.amount END),
         count(*)
    FROM journal_entries e
    LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id
    JOIN postings x ON x.entry_id = e.id AND x.effective_at = e.effective_at
    JOIN ledger_accounts a ON a.id = x.account_id AND a.program_id IS NOT NULL AND (p_program IS NULL OR a.program_id = p_program)
    JOIN programs pr ON pr.id = a.program_id
    LEFT JOIN reintegros r ON a.id = pr.reintegro_account_id AND r.journal_entry_id = coalesce(o.id, e.id)
    LEFT JOIN beneficiaries rb ON rb.id = r.beneficiary_id
    LEFT JOIN beneficiaries cb ON cb.id = CASE WHEN coalesce(o.kind, e.kind) = ANY(p_cycle_kinds) THEN (coalesce(o.metadata, e.metadata)->>'beneficiaryId')::uuid END
   WHERE e.id = ANY(p_entries)
   GROUP BY 1, 2, 3, 4, 5, 6, 7
$$;
