-- Control totals and identity of a cycle are frozen when the draft is made.
CREATE OR REPLACE FUNCTION disbursement_cycles_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.control_count <> OLD.control_count OR NEW.control_total <> OLD.control_total OR NEW.program_id <> OLD.program_id
     OR NEW.kind <> OLD.kind OR NEW.period <> OLD.period OR NEW.payment_date <> OLD.payment_date THEN
    RAISE EXCEPTION USING ERRCODE = 'MN003', MESSAGE = 'control totals and identity of a cycle are frozen';
  END IF;
  RETURN NEW;
END $$;
