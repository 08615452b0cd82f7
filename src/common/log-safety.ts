/**
 * Logs never carry personal data (README): no CURP, name, birth date, address, card number,
 * CLABE, PIN, key, password or token. The dangerous part of a log line is an error: TypeORM puts a
 * failed query's parameters on it, PostgreSQL the failing row (DETAIL) and sometimes the offending
 * value in its message. This serializer is the `err` serializer of every pino logger of the
 * service: it keeps what tells an operator what went wrong and where, and nothing that came from
 * a request.
 */
export interface SafeError {
  type: string;
  message: string;
  stack?: string;
  /** SQLSTATE or errno. */
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  cause?: SafeError;
}

const PERSONAL_DATA: Array<[RegExp, string]> = [
  // PostgreSQL quotes the offending input: invalid input syntax for type uuid: "…"
  [/: "(?:[^"\\]|\\.)*"/g, ': "[redacted]"'],
  [/Key \(.*?\)=\(.*?\)/g, 'Key [redacted]'],
  [/\b[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d\b/g, '[curp]'],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[token]'],
  [/\bmk_[\w-]{8,}/g, '[api-key]'],
  // Card numbers (16), CLABEs (18) and other long digit runs.
  [/\d{12,}/g, '[number]'],
];

/** The text with every known shape of personal data replaced. */
export function scrubPersonalData(text: string): string {
  return PERSONAL_DATA.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

export function serializeErrorSafely(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: scrubPersonalData(String(error)) };
  const e = error as Error & { code?: unknown; constraint?: unknown; table?: unknown; column?: unknown; driverError?: Record<string, unknown>; cause?: unknown };
  const driver = e.driverError ?? {};
  const pick = (key: 'code' | 'constraint' | 'table' | 'column') => {
    const value = e[key] ?? driver[key];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };
  const message = scrubPersonalData(e.message);
  const safe: SafeError = { type: e.constructor?.name ?? 'Error', message };
  // The stack's first line repeats the message: only the frames are kept as they are.
  if (e.stack) safe.stack = [`${safe.type}: ${message}`, ...e.stack.split('\n').filter((line) => /^\s+at /.test(line))].join('\n');
  for (const key of ['code', 'constraint', 'table', 'column'] as const) {
    const value = pick(key);
    if (value !== undefined) safe[key] = value;
  }
  if (e.cause !== undefined && depth < 3) safe.cause = serializeErrorSafely(e.cause, depth + 1);
  return safe;
}
