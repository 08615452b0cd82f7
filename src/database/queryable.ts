/** Anything that runs SQL: the DataSource, an EntityManager inside a transaction, a QueryRunner. */
export interface Queryable {
  query<T = any>(sql: string, parameters?: unknown[]): Promise<T>;
}
