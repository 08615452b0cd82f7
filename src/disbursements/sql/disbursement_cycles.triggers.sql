CREATE OR REPLACE TRIGGER disbursement_cycles_frozen BEFORE UPDATE ON disbursement_cycles FOR EACH ROW EXECUTE FUNCTION disbursement_cycles_frozen();
