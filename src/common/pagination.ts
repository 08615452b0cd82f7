import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { problems } from './problem';

/**
 * Lists (API.md "Lists"): `?limit=` 1..500 (default 50) and `?cursor=`, answered with
 * `{ data, nextCursor }`. Every list of the API reads them through `ListQuery` (or a DTO that
 * extends it) and keyset-pages with the cursor codec below: one rule, one codec.
 */
export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 500;

/** An empty query value (`?limit=`) is the same as an absent one. */
export const emptyAsAbsent = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** `limit`: a decimal integer becomes a number (absent or empty: the default); anything else stays as sent and fails @IsInt. */
const toInteger = ({ value }: { value: unknown }) => {
  if (value === '' || value === undefined) return LIST_DEFAULT_LIMIT;
  return typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
};

export class ListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT, description: 'rows per page' })
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: `limit must be an integer from 1 to ${LIST_MAX_LIMIT}` })
  @Min(1, { message: `limit must be an integer from 1 to ${LIST_MAX_LIMIT}` })
  @Max(LIST_MAX_LIMIT, { message: `limit must be an integer from 1 to ${LIST_MAX_LIMIT}` })
  limit: number = LIST_DEFAULT_LIMIT;

  @ApiPropertyOptional({ description: 'opaque: the nextCursor of the previous page' })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @IsString()
  @MaxLength(1000)
  cursor?: string;
}

/**
 * The kinds of value a keyset cursor carries. Timestamps travel as PostgreSQL prints them
 * (`created_at::text`, microseconds and offset included): a JavaScript Date would cut them to
 * milliseconds, and two rows inside one millisecond would then be skipped or repeated.
 */
export type CursorPart = 'int' | 'decimal' | 'text' | 'uuid' | 'timestamp' | 'date';

const PART_CHECKS: Record<CursorPart, (v: unknown) => boolean> = {
  int: (v) => typeof v === 'string' && /^-?\d{1,19}$/.test(v),
  decimal: (v) => typeof v === 'string' && /^-?\d{1,30}(\.\d{1,2})?$/.test(v),
  text: (v) => typeof v === 'string' && v.length <= 500,
  uuid: (v) => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  timestamp: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/.test(v),
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
};

type Decoded<T extends readonly CursorPart[]> = { [K in keyof T]: string };

/** The opaque cursor of a keyset: the sort key of the last row of a page, as strings. */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key.map(String)), 'utf8').toString('base64url');
}

/** The key a cursor carries, checked against the list's key shape; null for the first page. 400 when it is not one of ours. */
export function decodeCursor<T extends readonly CursorPart[]>(cursor: string | undefined | null, shape: T): Decoded<T> | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.length === shape.length && shape.every((part, i) => PART_CHECKS[part](value[i]))) {
    return value as Decoded<T>;
  }
  throw problems.validation('cursor is not valid');
}

/**
 * A page from rows fetched with `LIMIT limit + 1`: the extra row only says there is a next page.
 * `key` gives the sort key of a row (the values the cursor must carry).
 */
export function pageOf<R, V = R>(
  rows: R[],
  limit: number,
  key: (row: R) => ReadonlyArray<string | number>,
  view: (row: R) => V = (row) => row as unknown as V,
): { data: V[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  return { data: page.map(view), nextCursor: more ? encodeCursor(key(page[page.length - 1])) : null };
}
