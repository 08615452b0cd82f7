// Shared pieces of the console: the htm binding, language context, money, errors, charts, progress.
import { h, createContext } from 'preact';
import { useContext, useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { formatMoney, formatCount, ratio, toCents } from './money.js';
import { translate } from './i18n.js';
import { api } from './api.js';
import { hashQuery, loadPrograms, navigate, rememberedProgram, rememberProgram } from './data.js';

export const html = htm.bind(h);

/** { lang, t, me, setLang } of the session. */
export const Session = createContext({ lang: 'es', t: (k) => k, me: null });
export const useSession = () => useContext(Session);

export function useT() {
  return useSession().t;
}

/** Money from a decimal string, always two decimals with thousands separators. */
export function Money({ value, currency }) {
  const text = formatMoney(value, currency);
  const negative = text.startsWith('-');
  return html`<span class=${negative ? 'money negative' : 'money'}>${text}</span>`;
}

export function Count({ value }) {
  return html`<span class="count">${formatCount(value)}</span>`;
}

/**
 * Shows an API problem or any error, announced to screen readers. The message is the console's
 * own text for the problem's stable `code` (Spanish by default); the service's English detail is
 * shown only in English, or when the code is not known to the console.
 */
export function ProblemAlert({ error, onDismiss }) {
  const { t, lang } = useSession();
  const ref = useRef(null);
  useEffect(() => {
    if (error && ref.current) ref.current.focus();
  }, [error]);
  if (!error) return null;
  const p = error.problem ?? {};
  const known = t(`error.code.${error.code}`, {}, '');
  const title = known || t(`error.status.${error.status}`, {}, '') || t('error.generic');
  const detail = error.status === 0 ? t('error.network') : lang === 'en' || !known ? p.detail || (known ? '' : error.message) : '';
  return html`<div class="alert alert-error" role="alert" tabindex="-1" ref=${ref} data-code=${error.code}>
    <strong>${title}</strong>${detail && detail !== title ? html`: <span class="detail">${detail}</span>` : null}
    ${onDismiss ? html` <button type="button" class="link" onClick=${onDismiss}>${t('action.dismiss')}</button>` : null}
  </div>`;
}

export function Notice({ children, kind = 'info' }) {
  return html`<div class=${`alert alert-${kind}`} role="status">${children}</div>`;
}

/**
 * A status word as a coloured badge (text, not colour alone, carries the meaning). `noun` picks the
 * word's gender and sense: remittance → "Aprobada", payout_batch → "Enviado", else the default.
 */
export function StatusBadge({ status, noun }) {
  const t = useT();
  const text = (noun && t(`status.${noun}.${status}`, {}, '')) || t(`status.${status}`, {}, status);
  return html`<span class=${`badge status-${status}`}>${text}</span>`;
}

export function OkBadge({ ok }) {
  const t = useT();
  return html`<span class=${ok ? 'badge ok' : 'badge bad'}>${ok ? t('common.ok') : t('common.notOk')}</span>`;
}

/** Loads data with the API; { data, error, loading, reload }. */
export function useApi(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(load)
      .then(
        (data) => n === seq.current && setState({ data, error: null, loading: false }),
        (error) => n === seq.current && setState({ data: null, error, loading: false }),
      );
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { ...state, reload };
}

export function Loading() {
  const t = useT();
  return html`<p class="loading" role="status">${t('common.loading')}</p>`;
}

/** A button that runs an async action once at a time and reports its failure. */
export function ActionButton({ onAction, children, kind = 'primary', id, disabled, onError, ...rest }) {
  const [busy, setBusy] = useState(false);
  const click = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await onAction();
    } catch (e) {
      onError?.(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" id=${id} class=${`btn btn-${kind}`} disabled=${disabled || busy} aria-busy=${busy ? 'true' : 'false'} onClick=${click} ...${rest}>${children}</button>`;
}

/** CSV download button: fetch with the token, save as a Blob. */
export function CsvButton({ label, run, onError }) {
  return html`<${ActionButton} kind="secondary" onAction=${run} onError=${onError}>⬇ ${label}<//>`;
}

/** Progress of a running cycle: a native-semantics progress bar with the percentage as text. */
export function ProgressBar({ done, total, label }) {
  const d = Number(done) || 0;
  const tot = Number(total) || 0;
  const pct = tot > 0 ? Math.min(100, Math.floor((d * 100) / tot)) : 0;
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct} aria-valuetext=${`${pct}%`}>
    <div class="progress-fill" style=${{ width: `${pct}%` }}></div>
    <span class="progress-text">${pct}%</span>
  </div>`;
}

const BAR_COLORS = { appropriated: '#1f4e79', disbursed: '#2e7d32', available: '#8a6d00', reintegrated: '#8e2424' };

/**
 * The program's budget as horizontal bars in inline SVG, scaled to the appropriation (ratios
 * from integer centavos). Each bar has its value as text; the SVG has a title and description.
 */
export function BudgetChart({ budget, currency, title, id }) {
  const t = useT();
  const keys = ['appropriated', 'disbursed', 'available', 'reintegrated'];
  const max = keys.map((k) => toCents(budget?.[k])).reduce((a, b) => (b > a ? b : a), 0n);
  const rowH = 26;
  const labelW = 120;
  const barW = 300;
  const height = keys.length * rowH + 4;
  const desc = keys.map((k) => `${t(`budget.${k}`)} ${formatMoney(budget?.[k], currency)}`).join('; ');
  return html`<svg class="chart" role="img" width=${labelW + barW + 170} height=${height} viewBox=${`0 0 ${labelW + barW + 170} ${height}`} aria-labelledby=${`${id}-t ${id}-d`}>
    <title id=${`${id}-t`}>${title}</title>
    <desc id=${`${id}-d`}>${desc}</desc>
    ${keys.map((k, i) => {
      const w = Math.max(max > 0n && toCents(budget?.[k]) > 0n ? 1 : 0, Math.round(ratio(budget?.[k], max) * barW));
      const y = i * rowH + 2;
      return html`<g key=${k}>
        <text x="0" y=${y + 16} class="chart-label">${t(`budget.${k}`)}</text>
        <rect x=${labelW} y=${y} width=${barW} height="20" class="chart-track" />
        <rect x=${labelW} y=${y} width=${w} height="20" fill=${BAR_COLORS[k]} data-key=${k} />
        <text x=${labelW + barW + 8} y=${y + 16} class="chart-value">${formatMoney(budget?.[k], currency)}</text>
      </g>`;
    })}
  </svg>`;
}

/** A labelled program selector fed by GET /v1/programs. */
export function ProgramSelect({ programs, value, onChange, id = 'program-select' }) {
  const t = useT();
  return html`<div class="field">
    <label for=${id}>${t('common.program')}</label>
    <select id=${id} value=${value ?? ''} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${t('common.chooseProgram')}</option>
      ${(programs ?? []).map((p) => html`<option value=${p.id} key=${p.id}>${p.code} — ${p.name}</option>`)}
    </select>
  </div>`;
}

export const DEFAULT_TIME_ZONE = 'America/Mexico_City';

/** An instant in the program's time zone (default America/Mexico_City), with the zone named. */
export function fmtDate(iso, lang, timeZone = DEFAULT_TIME_ZONE) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang === 'en' ? 'en-US' : 'es-MX', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });
}

/** A business date (YYYY-MM-DD) as words: "1 mar 2016". */
export function fmtDay(day, lang) {
  if (!day) return '—';
  const d = new Date(`${day}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return String(day);
  return d.toLocaleDateString(lang === 'en' ? 'en-US' : 'es-MX', { dateStyle: 'medium', timeZone: 'UTC' });
}

/** A period (YYYY-MM) as words: "marzo de 2016". */
export function fmtPeriod(period, lang) {
  if (!/^\d{4}-\d{2}$/.test(period ?? '')) return period ?? '—';
  const d = new Date(`${period}-15T12:00:00Z`);
  return d.toLocaleDateString(lang === 'en' ? 'en-US' : 'es-MX', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** Staff as people: "user:lucia.ramirez" → "lucia.ramirez"; the scheduler in words. */
export function StaffName({ actor }) {
  const t = useT();
  if (!actor) return '—';
  if (actor.startsWith('system:')) return t('staff.system');
  return html`<span class="staff">${actor.replace(/^user:/, '')}</span>`;
}

/** The browser tab names the page: "Ciclo marzo de 2016 · Consola · Monedero". */
export function usePageTitle(title) {
  const t = useT();
  useEffect(() => {
    if (title) document.title = `${title} · ${t('app.short')} · Monedero`;
  }, [title, t]);
}

/** A wide table scrolls inside its own box on a narrow screen; the page never scrolls sideways. */
export function TableWrap({ children }) {
  return html`<div class="table-wrap">${children}</div>`;
}

/**
 * Keyset paging with totals: "1–100 de 4,708" and Previous / Next. `load(cursor)` returns a page
 * `{ data, nextCursor, total? }`; `deps` restart at the first page.
 */
export function usePager(load, deps) {
  const [state, setState] = useState({ page: null, error: null, loading: true, stack: [], cursor: null });
  const seq = useRef(0);
  const go = useCallback((cursor, stack) => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(() => load(cursor))
      .then(
        (page) => n === seq.current && setState({ page, error: null, loading: false, stack, cursor }),
        (error) => n === seq.current && setState((s) => ({ ...s, error, loading: false })),
      );
  }, deps);
  useEffect(() => go(null, []), [go]);
  const offset = state.stack.length * PAGE_SIZE;
  return {
    ...state,
    offset,
    reload: () => go(state.cursor, state.stack),
    next: () => state.page?.nextCursor && go(state.page.nextCursor, [...state.stack, state.cursor]),
    prev: () => state.stack.length && go(state.stack[state.stack.length - 1], state.stack.slice(0, -1)),
  };
}

export const PAGE_SIZE = 100;

/** "Registros 101–200 de 4,708" with Previous / Next buttons. */
export function Pager({ pager, id, noun }) {
  const t = useT();
  const rows = pager.page?.data?.length ?? 0;
  const total = pager.page?.total;
  const range = rows ? `${formatCount(pager.offset + 1)}–${formatCount(pager.offset + rows)}` : '0';
  return html`<div class="pager" id=${id}>
    <span class="pager-range" aria-live="polite">${t('pager.range', { noun: noun ?? t('pager.rows'), range, total: total === undefined || total === null ? '' : t('pager.of', { n: formatCount(total) }) })}</span>
    <button type="button" class="btn btn-secondary" disabled=${!pager.stack.length || pager.loading} onClick=${pager.prev}>${t('pager.prev')}</button>
    <button type="button" class="btn btn-secondary" disabled=${!pager.page?.nextCursor || pager.loading} onClick=${pager.next}>${t('pager.next')}</button>
  </div>`;
}

/**
 * A confirmation in a native modal <dialog>: it restates what the action does (the amount and
 * the object) and, for a cancel, asks why. `onConfirm(reason)` runs the action.
 */
export function ConfirmButton({ id, label, kind = 'primary', title, children, confirmLabel, askReason, onConfirm, onError, ...rest }) {
  const t = useT();
  const ref = useRef(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const open = () => {
    setReason('');
    ref.current?.showModal();
  };
  const submit = async (e) => {
    e.preventDefault();
    if (busy || (askReason && !reason.trim())) return;
    setBusy(true);
    try {
      await onConfirm(askReason ? reason.trim() : undefined);
      ref.current?.close();
    } catch (err) {
      ref.current?.close();
      onError?.(err);
    } finally {
      setBusy(false);
    }
  };
  const dialogId = `${id}-dialog`;
  return html`<button type="button" id=${id} class=${`btn btn-${kind}`} onClick=${open} aria-haspopup="dialog" ...${rest}>${label}</button>
    <dialog ref=${ref} id=${dialogId} aria-labelledby=${`${dialogId}-h`} class="confirm">
      <form method="dialog" onSubmit=${submit}>
        <h2 id=${`${dialogId}-h`}>${title}</h2>
        <div class="confirm-body">${children}</div>
        ${askReason
          ? html`<div class="field">
              <label for=${`${dialogId}-reason`}>${t('confirm.reason')}</label>
              <textarea id=${`${dialogId}-reason`} required maxlength="500" rows="3" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea>
            </div>`
          : null}
        <div class="actions">
          <button type="submit" class=${`btn btn-${kind}`} id=${`${id}-confirm`} disabled=${busy || (askReason && !reason.trim())}>${confirmLabel}</button>
          <button type="button" class="btn btn-secondary" onClick=${() => ref.current?.close()}>${t('confirm.back')}</button>
        </div>
      </form>
    </dialog>`;
}

/**
 * The program a list page works on: from the route (#/loans?program=…) or the one chosen last,
 * kept in the route when changed. `only` narrows the choice (loan programs for the loans page).
 */
export function useChosenProgram(path, only) {
  const programs = useApi(loadPrograms, []);
  const [programId, setProgramId] = useState(hashQuery().program || rememberedProgram());
  const choose = (id) => {
    setProgramId(id);
    rememberProgram(id);
    navigate(path, { program: id });
  };
  const list = only && programs.data ? programs.data.filter(only) : programs.data;
  const program = (programs.data ?? []).find((p) => p.id === programId);
  return { programs: { ...programs, data: list }, programId, program, choose };
}

/** A labelled filter of a list by status: "Todos", then each status in words (`word(status)`). */
export function StatusSelect({ id, value, onChange, statuses, word, label }) {
  const t = useT();
  return html`<div class="field">
    <label for=${id}>${label ?? t('cycles.status')}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${t('common.all')}</option>
      ${statuses.map((s) => html`<option value=${s} key=${s}>${word(s)}</option>`)}
    </select>
  </div>`;
}

/** A beneficiary as people read it: folio, and the name for roles that may read names (GET /v1/console/beneficiaries/{id}/label). */
export function BeneficiaryLabel({ id }) {
  const label = useApi(() => (id ? api('GET', `/v1/console/beneficiaries/${id}/label`) : null), [id]);
  if (!label.data) return html`<span class="muted">${label.error ? '—' : '…'}</span>`;
  return html`<span class="folio">${label.data.folio}</span>${label.data.name ? html` · <span>${label.data.name}</span>` : null}`;
}

/** A ratio given as a decimal string ("0.8333") as a percentage with one decimal ("83.3 %"). */
export function fmtRate(rate, lang) {
  if (rate === null || rate === undefined || rate === '') return '—';
  return new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'es-MX', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(rate);
}

export { translate };
