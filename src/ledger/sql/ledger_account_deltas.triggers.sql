CREATE OR REPLACE TRIGGER ledger_account_deltas_account AFTER INSERT ON ledger_account_deltas REFERENCING NEW TABLE AS new_deltas
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_delta_accounts();
