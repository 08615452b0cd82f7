/**
 * TypeORM's query() returns `[rows, rowCount]` for UPDATE and DELETE (and plain rows for the rest):
 * this gives the rows of any `… RETURNING` statement.
 */
export function returnedRows<T = Record<string, any>>(result: unknown): T[] {
  const r = result as unknown[];
  return Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? (r[0] as T[]) : (r as T[]);
}
