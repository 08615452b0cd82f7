-- A CLABE: 18 digits whose last is the check digit of the first 17 with the weights 3, 7, 1
-- (each digit times its weight, modulo 10, summed; check = (10 − sum mod 10) mod 10). The same
-- rule as src/payouts/clabe.rules.ts, so no bank detail the API refused can be stored by SQL.
CREATE OR REPLACE FUNCTION payout_clabe_valid(p_clabe text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_clabe IS NULL OR p_clabe !~ '^[0-9]{18}$' THEN false
    ELSE (10 - (SELECT sum((substr(p_clabe, i, 1)::int * (ARRAY[3, 7, 1])[(i - 1) % 3 + 1]) % 10)
                  FROM generate_series(1, 17) AS i)::int % 10) % 10 = substr(p_clabe, 18, 1)::int
  END
$$;
