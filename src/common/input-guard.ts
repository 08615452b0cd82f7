import { ApiProblem } from './problem';

/**
 * The edge check of every request, before validation and before any SQL: a JSON body nested
 * deeper than this, or a text (string value or object key, in the body, the query or the path)
 * holding a NUL character or an unpaired UTF-16 surrogate, is refused here once for all routes.
 * PostgreSQL stores neither (text and jsonb reject them), and the validation pipe recurses once
 * per level, so without this check such input reached the database or the stack limit as a 500.
 */
export const MAX_JSON_DEPTH = 32;

/** A NUL, or a lone surrogate (a valid pair is one code point in a `u` regex, never `\p{Cs}`). */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** The same text with every NUL and lone surrogate replaced by U+FFFD, for records of refused input. */
export function storableText(text: string): string {
  return text.replace(/[\u0000\p{Cs}]/gu, '\ufffd');
}

/**
 * The first problem of a parsed request part (`where`: body, query or path), or null. Iterative,
 * so a 10,000-level object costs a loop, not a stack overflow.
 */
export function inputProblem(value: unknown, where: string): ApiProblem | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: where }];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node.value === 'string') {
      if (!isStorableText(node.value)) return invalidText(node.path);
      continue;
    }
    if (node.value === null || typeof node.value !== 'object') continue;
    if (node.depth >= MAX_JSON_DEPTH) {
      return new ApiProblem(400, 'nesting_too_deep', `The ${where} nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
    }
    for (const [key, child] of Object.entries(node.value)) {
      const path = Array.isArray(node.value) ? `${node.path}[${key}]` : `${node.path}.${key}`;
      if (!isStorableText(key)) return invalidText(`${node.path}.${storableText(key)}`);
      stack.push({ value: child, depth: node.depth + 1, path });
    }
  }
  return null;
}

function invalidText(field: string): ApiProblem {
  return new ApiProblem(400, 'invalid_text', `${field} contains a NUL character or an unpaired UTF-16 surrogate`, { field });
}
