-- Lines are the frozen control list: never edited. Their outcome is a journal entry with the key
-- cycle:<cycleId>:line:<beneficiaryId>, or a row in cycle_line_exceptions.
CREATE OR REPLACE TRIGGER cycle_lines_immutable BEFORE UPDATE OR DELETE ON cycle_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER cycle_lines_references AFTER INSERT ON cycle_lines REFERENCING NEW TABLE AS new_lines
  FOR EACH STATEMENT EXECUTE FUNCTION cycle_lines_check_references();
