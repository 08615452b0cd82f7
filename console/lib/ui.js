// Shared pieces of the console: the htm binding, language context, money, errors, charts, progress.
import { h, createContext } from 'preact';
import { useContext, useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { formatMoney, formatCount, ratio, toCents } from './money.js';
import { translate } from './i18n.js';

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

/** Shows an API problem (title, detail, code) or any error; announced to screen readers. */
export function ProblemAlert({ error, onDismiss }) {
  const t = useT();
  const ref = useRef(null);
  useEffect(() => {
    if (error && ref.current) ref.current.focus();
  }, [error]);
  if (!error) return null;
  const p = error.problem ?? {};
  const title = p.title || t('error.generic');
  const detail = p.detail || (error.status === 0 ? t('error.network') : error.message);
  return html`<div class="alert alert-error" role="alert" tabindex="-1" ref=${ref} data-code=${error.code}>
    <strong>${title}</strong>${detail ? html`: <span class="detail">${detail}</span>` : null}
    ${error.code ? html` <code class="problem-code">${error.code}</code>` : null}
    ${onDismiss ? html` <button type="button" class="link" onClick=${onDismiss}>${t('action.dismiss')}</button>` : null}
  </div>`;
}

export function Notice({ children, kind = 'info' }) {
  return html`<div class=${`alert alert-${kind}`} role="status">${children}</div>`;
}

/** A status word as a coloured badge (text, not colour alone, carries the meaning). */
export function StatusBadge({ status }) {
  const t = useT();
  return html`<span class=${`badge status-${status}`}>${t(`status.${status}`, {}, status)}</span>`;
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

export function fmtDate(iso, lang) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang === 'en' ? 'en-US' : 'es-MX', { dateStyle: 'medium', timeStyle: 'short' });
}

export { translate };
