CREATE OR REPLACE TRIGGER payee_bank_accounts_clabe BEFORE INSERT OR UPDATE ON payee_bank_accounts FOR EACH ROW EXECUTE FUNCTION payout_bank_account_check();
