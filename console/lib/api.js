// All data comes from the same /v1 API the service publishes, with the staff JWT of POST /v1/auth/token,
// kept in sessionStorage (gone when the tab closes). Errors are the API's problem documents.

const TOKEN_KEY = 'monedero.console.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error answer of the API: RFC 9457 problem document (title, detail, code, status). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.code = this.problem.code ?? (status === 0 ? 'network_error' : `http_${status}`);
  }
}

/** Dispatched on the window after every request that changed something. */
export const CHANGED_EVENT = 'monedero:changed';

let onUnauthenticated = () => {};
/** Called when a request answers 401 (expired or revoked token): the app goes back to the login. */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

function newIdempotencyKey() {
  return `console-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`}`;
}

async function problemOf(res) {
  const type = res.headers.get('content-type') || '';
  try {
    if (type.includes('json')) return await res.json();
    const text = await res.text();
    return { title: res.statusText, detail: text.slice(0, 300) };
  } catch {
    return { title: res.statusText };
  }
}

/**
 * api('GET', '/v1/programs') → parsed JSON. Options: body (JSON), idempotent (adds an
 * Idempotency-Key: every POST that moves money needs one), query (object; undefined/'' skipped),
 * raw + contentType (a text body as it is: a bank's results CSV).
 */
export async function api(method, path, { body, raw, contentType, idempotent, query, auth = true, accept } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  const headers = { accept: accept ?? 'application/json' };
  const token = getToken();
  if (auth && token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = contentType ?? 'text/plain';
  if (idempotent) headers['idempotency-key'] = typeof idempotent === 'string' ? idempotent : newIdempotencyKey();
  let res;
  try {
    res = await fetch(url, { method, headers, body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: String(e?.message ?? e), code: 'network_error' });
  }
  if (!res.ok) {
    const problem = await problemOf(res);
    const error = new ApiError(res.status, problem);
    if (res.status === 401 && auth && token) onUnauthenticated(error);
    throw error;
  }
  // Anything that changed state may change what waits for approval (the header's count listens).
  if (method !== 'GET') dispatchEvent(new Event(CHANGED_EVENT));
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? res.json() : res.text();
}

/**
 * Downloads a CSV the API offers: fetched with the bearer token (a plain link could not send it),
 * then saved from a Blob under the server's file name (Content-Disposition) or `fallbackName`.
 */
export async function downloadCsv(path, query, fallbackName) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  let res;
  try {
    res = await fetch(url, { headers: { accept: 'text/csv', authorization: `Bearer ${getToken()}` } });
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: String(e?.message ?? e), code: 'network_error' });
  }
  if (!res.ok) {
    const error = new ApiError(res.status, await problemOf(res));
    if (res.status === 401) onUnauthenticated(error);
    throw error;
  }
  const blob = await res.blob();
  const disposition = res.headers.get('content-disposition') || '';
  const name = /filename="?([^";]+)"?/i.exec(disposition)?.[1] || fallbackName;
  const href = URL.createObjectURL(blob.type ? blob : new Blob([blob], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return name;
}
