-- The bank file is written once, at approval: every download gets the same bytes.
CREATE OR REPLACE TRIGGER payout_batch_files_immutable BEFORE UPDATE OR DELETE ON payout_batch_files FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER payout_batch_files_no_truncate BEFORE TRUNCATE ON payout_batch_files FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
