-- Who changed a payee's bank details, and when: every version is kept, never edited.
CREATE OR REPLACE TRIGGER payee_bank_account_history_clabe BEFORE INSERT ON payee_bank_account_history FOR EACH ROW EXECUTE FUNCTION payout_bank_account_check();

CREATE OR REPLACE TRIGGER payee_bank_account_history_immutable BEFORE UPDATE OR DELETE ON payee_bank_account_history FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER payee_bank_account_history_no_truncate BEFORE TRUNCATE ON payee_bank_account_history FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
