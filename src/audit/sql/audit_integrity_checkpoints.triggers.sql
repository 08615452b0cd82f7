CREATE OR REPLACE TRIGGER audit_integrity_checkpoints_immutable BEFORE UPDATE OR DELETE ON audit_integrity_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER audit_integrity_checkpoints_no_truncate BEFORE TRUNCATE ON audit_integrity_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
