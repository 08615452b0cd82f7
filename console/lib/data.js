import { api } from './api.js';

/** Every program visible to the user (GET /v1/programs, all pages). */
export async function loadPrograms() {
  const all = [];
  let cursor;
  for (let i = 0; i < 20; i++) {
    const page = await api('GET', '/v1/programs', { query: { limit: 200, cursor } });
    all.push(...page.data);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return all;
}

const PROGRAM_KEY = 'monedero.console.program';
/** The program chosen last (cycles, treasury and reconciliation share it). */
export function rememberedProgram() {
  return sessionStorage.getItem(PROGRAM_KEY) || '';
}
export function rememberProgram(id) {
  if (id) sessionStorage.setItem(PROGRAM_KEY, id);
  else sessionStorage.removeItem(PROGRAM_KEY);
}

/** Reads and writes the query of the hash route (#/cycles?program=…). */
export function hashQuery() {
  const q = location.hash.split('?')[1] ?? '';
  return Object.fromEntries(new URLSearchParams(q));
}
export function navigate(path, query) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString() : '';
  location.hash = `#${path}${qs ? `?${qs}` : ''}`;
}
