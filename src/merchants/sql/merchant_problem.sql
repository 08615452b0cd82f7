-- An RFC 9457 problem document, as src/common/problem.ts renders it.
CREATE OR REPLACE FUNCTION merchant_problem(p_status integer, p_code text, p_detail text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'type', 'https://monedero.example/problems/' || replace(p_code, '_', '-'),
    'title', CASE p_status WHEN 403 THEN 'Forbidden' WHEN 404 THEN 'Not Found' WHEN 409 THEN 'Conflict'
                           WHEN 422 THEN 'Unprocessable Content' ELSE 'Error' END,
    'status', p_status, 'detail', p_detail, 'code', p_code)
$$;
