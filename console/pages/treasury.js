import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { hashQuery, loadPrograms, navigate, rememberedProgram, rememberProgram } from '../lib/data.js';
import { actorName, can } from '../lib/roles.js';
import { ActionButton, CsvButton, Count, fmtDate, html, Loading, Money, Notice, ProblemAlert, ProgramSelect, StatusBadge, useApi, useSession } from '../lib/ui.js';

// The treasury API (API.md "Treasury: reintegro") may be missing from an older service: a 404 on a
// list means "not available here", shown as such instead of an error.
async function optionalList(path, query) {
  try {
    return { available: true, page: await api('GET', path, { query }) };
  } catch (e) {
    if (e.status === 404 || e.status === 405) return { available: false, page: null };
    throw e;
  }
}

const first = (o, keys) => keys.map((k) => o?.[k]).find((v) => v !== undefined && v !== null);
const AMOUNT = ['amount', 'total'];

/** Reintegros (money returned by bajas, uncollected cards, expiry …) and remittances with their approval. */
export function TreasuryPage() {
  const { t, me, lang } = useSession();
  const programs = useApi(loadPrograms, []);
  const [programId, setProgramId] = useState(hashQuery().program || rememberedProgram());
  const [status, setStatus] = useState('');
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const choose = (id) => {
    setProgramId(id);
    rememberProgram(id);
    navigate('/treasury', { program: id });
  };
  const reintegros = useApi(() => (programId ? optionalList('/v1/reintegros', { programId, status: status || undefined, limit: 200 }) : null), [programId, status]);
  const remittances = useApi(() => (programId ? optionalList('/v1/remittances', { programId, limit: 100 }) : null), [programId]);
  const program = (programs.data ?? []).find((p) => p.id === programId);
  const currency = program?.currency;

  const prepare = async () => {
    setError(null);
    setMessage(null);
    try {
      const r = await api('POST', '/v1/remittances', { body: { programId }, idempotent: true });
      setMessage(t('treasury.prepared', { id: r?.number ?? r?.id ?? '' }));
    } catch (e) {
      setError(e);
    }
    reintegros.reload();
    remittances.reload();
  };
  const act = (r, verb) => async () => {
    setError(null);
    setMessage(null);
    try {
      await api('POST', `/v1/remittances/${r.id}/${verb}`, { idempotent: verb === 'approve' ? `console-remittance-approve-${r.id}` : undefined });
      setMessage(t(verb === 'approve' ? 'treasury.approved' : 'treasury.cancelled'));
    } catch (e) {
      setError(e);
    }
    reintegros.reload();
    remittances.reload();
  };
  const reintegroUnavailable = reintegros.data && !reintegros.data.available;

  return html`<section aria-labelledby="treasury-h">
    <h1 id="treasury-h">${t('treasury.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <div class="field">
        <label for="reintegro-status">${t('treasury.status')}</label>
        <select id="reintegro-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">${t('common.all')}</option>
          <option value="pending">${t('status.pending')}</option>
          <option value="in_remittance">${t('status.in_remittance')}</option>
          <option value="remitted">${t('status.remitted')}</option>
        </select>
      </div>
    </div>
    <div aria-live="polite">${message ? html`<${Notice} kind="success">${message}<//>` : null}</div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${reintegros.loading && programId && !reintegros.data ? html`<${Loading} />` : null}
    ${reintegros.error ? html`<${ProblemAlert} error=${reintegros.error} />` : null}
    ${reintegroUnavailable ? html`<div id="treasury-unavailable"><${Notice} kind="warning">${t('treasury.notAvailable')}<//></div>` : null}
    ${reintegros.data?.available
      ? html`<h2>${t('treasury.reintegros')}</h2>
          <table class="data" id="reintegros-table">
            <caption>${t('treasury.reintegrosCaption', { code: program?.code ?? '' })}</caption>
            <thead>
              <tr>
                <th scope="col">${t('treasury.created')}</th>
                <th scope="col">${t('treasury.cause')}</th>
                <th scope="col" class="num">${t('treasury.amount')}</th>
                <th scope="col">${t('treasury.status')}</th>
                <th scope="col">${t('treasury.reference')}</th>
              </tr>
            </thead>
            <tbody>
              ${reintegros.data.page.data.length === 0 ? html`<tr><td colspan="5">${t('treasury.noReintegros')}</td></tr>` : null}
              ${reintegros.data.page.data.map(
                (r) => html`<tr key=${r.id}>
                  <td>${fmtDate(first(r, ['createdAt', 'at', 'date']), lang)}</td>
                  <td>
                    ${t(`cause.${r.cause}`, {}, r.cause ?? '—')}${r.bajaCause ? html` · ${t(`cause.${r.bajaCause}`, {}, r.bajaCause)}` : null}
                  </td>
                  <td class="num"><${Money} value=${first(r, AMOUNT)} currency=${currency} /></td>
                  <td><${StatusBadge} status=${r.status} /></td>
                  <td><code>${first(r, ['beneficiaryId', 'grantId', 'id'])}</code>${r.trancheNo ? ` #${r.trancheNo}` : ''}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
    ${programId && reintegros.data?.available && can(me?.role, 'prepareRemittance')
      ? html`<div class="panel">
          <h2>${t('treasury.newRemittance')}</h2>
          <p class="muted">${t('treasury.newRemittanceHelp')}</p>
          <${ActionButton} id="prepare-remittance" onAction=${prepare}>${t('treasury.prepareRemittance')}<//>
        </div>`
      : null}
    ${remittances.data?.available
      ? html`<h2>${t('treasury.remittances')}</h2>
          <table class="data" id="remittances-table">
            <caption>${t('treasury.remittancesCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">${t('treasury.number')}</th>
                <th scope="col">${t('treasury.created')}</th>
                <th scope="col" class="num">${t('treasury.count')}</th>
                <th scope="col" class="num">${t('treasury.amount')}</th>
                <th scope="col">${t('treasury.status')}</th>
                <th scope="col">${t('cycles.preparedBy')}</th>
                <th scope="col">${t('cycles.approvedBy')}</th>
                <th scope="col">${t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              ${remittances.data.page.data.length === 0 ? html`<tr><td colspan="8">${t('treasury.noRemittances')}</td></tr>` : null}
              ${remittances.data.page.data.map(
                (r) => html`<tr key=${r.id} data-remittance=${r.id}>
                  <th scope="row">${r.number ?? '—'}</th>
                  <td>${fmtDate(first(r, ['createdAt', 'preparedAt']), lang)}</td>
                  <td class="num"><${Count} value=${first(r, ['itemCount', 'count'])} /></td>
                  <td class="num"><${Money} value=${first(r, AMOUNT)} currency=${currency} /></td>
                  <td><${StatusBadge} status=${r.status} /></td>
                  <td>${r.preparedBy ?? '—'}</td>
                  <td>${r.approvedBy ?? '—'}</td>
                  <td class="cell-actions">
                    ${r.status === 'draft' && can(me?.role, 'approveRemittance') && r.preparedBy !== actorName(me)
                      ? html`<${ActionButton} class="btn btn-primary approve-remittance" onAction=${act(r, 'approve')}>${t('treasury.approve')}<//>`
                      : null}
                    ${r.status === 'draft' && can(me?.role, 'cancelRemittance')
                      ? html`<${ActionButton} kind="danger" onAction=${act(r, 'cancel')}>${t('treasury.cancel')}<//>`
                      : null}
                    <${CsvButton}
                      label=${t('treasury.documentCsv')}
                      onError=${setError}
                      run=${() => downloadCsv(`/v1/remittances/${r.id}/document.csv`, {}, `remittance-${r.number ?? r.id}.csv`)}
                    />
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}

