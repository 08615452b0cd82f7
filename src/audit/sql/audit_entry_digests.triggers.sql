CREATE OR REPLACE TRIGGER audit_entry_digests_immutable BEFORE UPDATE OR DELETE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_entry_digests_no_truncate BEFORE TRUNCATE ON audit_entry_digests FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
