-- A time-ordered id in the UUIDv7 layout (48-bit Unix milliseconds, the version digit 7, then
-- p_seq in 28 bits and 48 random bits): rows inserted together (a cycle chunk's entries, in line
-- order) land at the right edge of their indexes instead of at random pages. Not RFC 9562's
-- variant bits: only the ordering matters here.
CREATE OR REPLACE FUNCTION ledger_uuid_v7(p_seq bigint DEFAULT 0, p_at timestamptz DEFAULT clock_timestamp())
RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM p_at) * 1000)::bigint), 12, '0') || '7'
          || lpad(to_hex(p_seq & 268435455), 7, '0') || substr(gen_random_uuid()::text, 25, 12))::uuid
$$;
