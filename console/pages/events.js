import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { fmtDate, html, Loading, ProblemAlert, useSession, TableWrap, usePageTitle } from '../lib/ui.js';

const EMPTY = { actor: '', action: '', kind: '', outcome: '', from: '', to: '' };

/** The staff action log (GET /v1/audit/events) with its filters; newest first, page by page. */
export function EventsPage() {
  const { t, lang } = useSession();
  usePageTitle(t('events.title'));
  const [draft, setDraft] = useState(EMPTY);
  const [rows, setRows] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [filters, setFilters] = useState(EMPTY);
  const load = async (f, after) => {
    setLoading(true);
    try {
      const page = await api('GET', '/v1/audit/events', { query: { ...f, limit: 100, cursor: after ?? undefined } });
      setRows((r) => (after ? [...(r ?? []), ...page.data] : page.data));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load(EMPTY, null);
  }, []);
  const submit = (e) => {
    e.preventDefault();
    setFilters(draft);
    load(draft, null);
  };
  const field = (name, label, type = 'text', extra = {}) =>
    html`<div class="field">
      <label for=${`ev-${name}`}>${label}</label>
      <input id=${`ev-${name}`} name=${name} type=${type} value=${draft[name]} onInput=${(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} ...${extra} />
    </div>`;
  return html`<section aria-labelledby="events-h">
    <h1 id="events-h">${t('events.title')}</h1>
    <form class="panel" onSubmit=${submit} aria-label=${t('events.filters')}>
      <div class="row">
        ${field('actor', t('events.actor'))}
        ${field('action', t('events.action'), 'text', { placeholder: 'POST /v1/cycles' })}
        <div class="field">
          <label for="ev-kind">${t('events.kind')}</label>
          <select id="ev-kind" value=${draft.kind} onChange=${(e) => setDraft({ ...draft, kind: e.currentTarget.value })}>
            <option value="">${t('common.all')}</option>
            <option value="request">${t('events.k.request')}</option>
            <option value="login">${t('events.k.login')}</option>
            <option value="login_failed">${t('events.k.login_failed')}</option>
          </select>
        </div>
        <div class="field">
          <label for="ev-outcome">${t('events.outcome')}</label>
          <select id="ev-outcome" value=${draft.outcome} onChange=${(e) => setDraft({ ...draft, outcome: e.currentTarget.value })}>
            <option value="">${t('common.all')}</option>
            <option value="success">${t('events.o.success')}</option>
            <option value="failure">${t('events.o.failure')}</option>
            <option value="403">403</option>
            <option value="401">401</option>
          </select>
        </div>
        ${field('from', t('events.from'), 'date')}
        ${field('to', t('events.to'), 'date')}
      </div>
      <button type="submit" class="btn btn-primary" id="events-search">${t('events.search')}</button>
      <button type="button" class="btn btn-secondary" onClick=${() => { setDraft(EMPTY); setFilters(EMPTY); load(EMPTY, null); }}>${t('events.clear')}</button>
    </form>
    <${ProblemAlert} error=${error} />
    ${loading && rows === null ? html`<${Loading} />` : null}
    ${rows
      ? html`<${TableWrap}><table class="data" id="events-table">
          <caption>${t('events.caption', { n: String(rows.length) })}</caption>
          <thead>
            <tr>
              <th scope="col">${t('events.when')}</th>
              <th scope="col">${t('events.actor')}</th>
              <th scope="col">${t('events.role')}</th>
              <th scope="col">${t('events.action')}</th>
              <th scope="col">${t('events.target')}</th>
              <th scope="col">${t('events.outcome')}</th>
            </tr>
          </thead>
          <tbody>
            ${rows.length === 0 ? html`<tr><td colspan="6">${t('events.none')}</td></tr>` : null}
            ${rows.map(
              (e) => html`<tr key=${e.id} class=${e.outcome === 'failure' ? 'row-failure' : ''}>
                <td>${fmtDate(e.at, lang)}</td>
                <td>${e.actor ?? '—'}</td>
                <td>${e.role ? t(`role.${e.role}`, {}, e.role) : '—'}</td>
                <td>${actionWords(e, t)}</td>
                <td>${e.target?.id ? html`<code>${e.target.id}</code>` : ''}</td>
                <td>${e.status ?? ''} ${e.outcome ? t(`events.o.${e.outcome}`, {}, e.outcome) : ''} ${e.problemCode ? html`<code>${e.problemCode}</code>` : null}</td>
              </tr>`,
            )}
          </tbody>
        </table><//>`
      : null}
    ${cursor ? html`<button type="button" class="btn btn-secondary" disabled=${loading} onClick=${() => load(filters, cursor)}>${t('common.loadMore')}</button>` : null}
  </section>`;
}

/** Routes of the staff action log in words; an unknown route is shown as it is. */
const ACTIONS = {
  'POST /v1/programs/:id/cycles': 'act.prepareCycle',
  'POST /v1/cycles/:id/approve': 'act.approveCycle',
  'POST /v1/cycles/:id/cancel': 'act.cancelCycle',
  'POST /v1/remittances': 'act.prepareRemittance',
  'POST /v1/remittances/:id/approve': 'act.approveRemittance',
  'POST /v1/remittances/:id/cancel': 'act.cancelRemittance',
  'POST /v1/payout-batches': 'act.prepareBatch',
  'POST /v1/payout-batches/:id/approve': 'act.approveBatch',
  'POST /v1/payout-batches/:id/cancel': 'act.cancelBatch',
  'POST /v1/payout-batches/:id/results': 'act.batchResults',
  'POST /v1/auth/token': 'act.login',
  'POST /v1/beneficiaries/:id/deactivate': 'act.deactivate',
  'POST /v1/programs/:id/appropriations': 'act.appropriate',
};

function actionWords(e, t) {
  const key = ACTIONS[e.action];
  if (!key) return html`<code>${e.action ?? e.kind}</code>`;
  return html`<span title=${e.action}>${t(key)}</span>`;
}
