import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { navigate } from '../lib/data.js';
import { actorName, can } from '../lib/roles.js';
import {
  ActionButton,
  ConfirmButton,
  Count,
  CsvButton,
  fmtDate,
  html,
  Loading,
  Money,
  Notice,
  PAGE_SIZE,
  Pager,
  ProblemAlert,
  ProgramSelect,
  StaffName,
  StatusBadge,
  TableWrap,
  useApi,
  useChosenProgram,
  usePager,
  usePageTitle,
  useSession,
} from '../lib/ui.js';

/** The cause of a reintegro in words; a baja names its own cause once ("Baja · No localizado"). */
export function ReintegroCause({ r }) {
  const { t } = useSession();
  if (r.bajaCause && r.bajaCause !== r.cause) return html`${t(`cause.${r.cause}`, {}, r.cause)} · ${t(`cause.${r.bajaCause}`, {}, r.bajaCause)}`;
  return html`${t(`cause.${r.cause}`, {}, r.cause ?? '—')}`;
}

/** A page of reintegros as a table (the treasury page and a remittance's contents share it). */
export function ReintegrosTable({ pager, currency, timeZone, id, caption }) {
  const { t, lang } = useSession();
  const rows = pager.page?.data ?? [];
  return html`<${TableWrap}><table class="data" id=${id}>
      <caption>${caption}</caption>
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
        ${pager.page && rows.length === 0 ? html`<tr><td colspan="5">${t('treasury.noReintegros')}</td></tr>` : null}
        ${rows.map(
          (r) => html`<tr key=${r.id}>
            <td>${fmtDate(r.createdAt, lang, timeZone)}</td>
            <td><${ReintegroCause} r=${r} /></td>
            <td class="num"><${Money} value=${r.amount} currency=${currency} /></td>
            <td><${StatusBadge} status=${r.status} noun="reintegro" /></td>
            <td>${r.beneficiaryFolio ?? (r.trancheNo ? `${t('treasury.tranche')} ${r.trancheNo}` : t(`source.${r.source}`, {}, r.source ?? '—'))}</td>
          </tr>`,
        )}
      </tbody>
    </table><//>`;
}

/** Reintegros (money returned by bajas, uncollected cards, expiry …) paged with totals, and remittances. */
export function TreasuryPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('treasury.title'));
  const { programs, programId, choose } = useChosenProgram('/treasury');
  const [status, setStatus] = useState('');
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const totals = useApi(() => (programId ? api('GET', `/v1/console/programs/${programId}/reintegro-totals`) : null), [programId]);
  const reintegros = usePager(
    (cursor) => (programId ? api('GET', '/v1/reintegros', { query: { programId, status, limit: PAGE_SIZE, cursor } }) : null),
    [programId, status],
  );
  const remittances = usePager((cursor) => (programId ? api('GET', '/v1/remittances', { query: { programId, limit: 50, cursor } }) : null), [programId]);
  const program = (programs.data ?? []).find((p) => p.id === programId);
  const currency = program?.currency;
  const byStatus = Object.fromEntries((totals.data?.byStatus ?? []).map((s) => [s.status, s]));
  const pending = byStatus.pending;
  // The list's total: from the totals by status (the list API pages without a count).
  if (reintegros.page && totals.data) reintegros.page.total = status ? (byStatus[status]?.count ?? 0) : totals.data.count;

  const prepare = async () => {
    setError(null);
    setMessage(null);
    try {
      const r = await api('POST', '/v1/remittances', { body: { programId }, idempotent: true });
      navigate(`/remittances/${r.id}`);
    } catch (e) {
      setError(e);
      totals.reload();
      reintegros.reload();
    }
  };

  return html`<section aria-labelledby="treasury-h">
    <h1 id="treasury-h">${t('treasury.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
    <div aria-live="polite">${message ? html`<${Notice} kind="success">${message}<//>` : null}</div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && totals.data
      ? html`<div class="panel" id="reintegro-totals">
          <h2>${t('treasury.totals')}</h2>
          <dl class="facts">
            ${['pending', 'in_remittance', 'remitted'].map(
              (s) => html`<div key=${s}><dt>${t(`status.reintegro.${s}`)}</dt><dd data-status=${s}><${Count} value=${byStatus[s]?.count ?? 0} /> · <${Money} value=${byStatus[s]?.total ?? '0.00'} currency=${currency} /></dd></div>`,
            )}
            <div><dt>${t('treasury.allReintegros')}</dt><dd><${Count} value=${totals.data.count} /> · <${Money} value=${totals.data.total} currency=${currency} /></dd></div>
          </dl>
          ${can(me?.role, 'prepareRemittance')
            ? pending
              ? html`<${ActionButton} id="prepare-remittance" onAction=${prepare}>${t('treasury.prepareRemittanceN', { n: pending.count.toLocaleString('es-MX') })}<//>
                  <small class="muted">${t('treasury.newRemittanceHelp')}</small>`
              : html`<p class="muted" id="nothing-to-remit">${t('treasury.nothingPending')}</p>`
            : null}
        </div>`
      : null}
    ${programId
      ? html`<h2>${t('treasury.remittances')}</h2>
          <${ProblemAlert} error=${remittances.error} />
          <${TableWrap}><table class="data" id="remittances-table">
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
              </tr>
            </thead>
            <tbody>
              ${remittances.page && remittances.page.data.length === 0 ? html`<tr><td colspan="7">${t('treasury.noRemittances')}</td></tr>` : null}
              ${(remittances.page?.data ?? []).map(
                (r) => html`<tr key=${r.id} data-remittance=${r.id}>
                  <th scope="row" class="nowrap"><a href=${`#/remittances/${r.id}`}>${r.number}</a></th>
                  <td>${fmtDate(r.createdAt, lang, program?.timeZone)}</td>
                  <td class="num"><${Count} value=${r.itemCount} /></td>
                  <td class="num"><${Money} value=${r.total} currency=${currency} /></td>
                  <td><${StatusBadge} status=${r.status} noun="remittance" /></td>
                  <td><${StaffName} actor=${r.preparedBy} /></td>
                  <td><${StaffName} actor=${r.approvedBy} /></td>
                </tr>`,
              )}
            </tbody>
          </table><//>
          <${Pager} pager=${remittances} id="remittances-pager" noun=${t('treasury.remittancesNoun')} />
          <h2>${t('treasury.reintegros')}</h2>
          <div class="field">
            <label for="reintegro-status">${t('treasury.status')}</label>
            <select id="reintegro-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
              <option value="">${t('common.all')}</option>
              ${['pending', 'in_remittance', 'remitted'].map((s) => html`<option value=${s}>${t(`status.reintegro.${s}`)}</option>`)}
            </select>
          </div>
          ${reintegros.loading && !reintegros.page ? html`<${Loading} />` : null}
          <${ProblemAlert} error=${reintegros.error} />
          <${Pager} pager=${reintegros} id="reintegros-pager" noun=${t('treasury.reintegrosNoun')} />
          <${ReintegrosTable} pager=${reintegros} currency=${currency} timeZone=${program?.timeZone} id="reintegros-table" caption=${t('treasury.reintegrosCaption', { code: program?.code ?? '' })} />`
      : null}
  </section>`;
}

/** One remittance: its facts, Approve / Cancel with confirmation and reason, its document, and every reintegro in it. */
export function RemittancePage({ id }) {
  const { t, me, lang } = useSession();
  const remittance = useApi(() => api('GET', `/v1/remittances/${id}`), [id]);
  const r = remittance.data;
  const program = useApi(() => (r?.programId ? api('GET', `/v1/programs/${r.programId}`) : null), [r?.programId]);
  const items = usePager((cursor) => api('GET', '/v1/reintegros', { query: { remittanceId: id, limit: PAGE_SIZE, cursor } }), [id, r?.status]);
  const [error, setError] = useState(null);
  usePageTitle(r ? `${t('treasury.remittance')} ${r.number}` : t('treasury.remittance'));
  if (remittance.loading && !r) return html`<${Loading} />`;
  if (remittance.error && !r) return html`<${ProblemAlert} error=${remittance.error} />`;
  if (items.page) items.page.total = r.itemCount;
  const currency = program.data?.currency ?? r.currency;
  const tz = program.data?.timeZone;
  const isPreparer = r.preparedBy === actorName(me);
  const act = (verb) => async (reason) => {
    setError(null);
    try {
      await api('POST', `/v1/remittances/${id}/${verb}`, verb === 'approve' ? { idempotent: `console-remittance-approve-${id}` } : { body: { reason } });
    } finally {
      remittance.reload();
    }
  };
  return html`<section aria-labelledby="remittance-h">
    <p><a href=${`#/treasury?program=${r.programId}`}>← ${t('treasury.back')}</a></p>
    <h1 id="remittance-h">${t('treasury.remittance')} ${r.number} ${program.data ? html`<span class="muted">· ${program.data.code}</span>` : null}</h1>
    <div class="actions top-actions">
      ${r.status === 'draft' && can(me?.role, 'approveRemittance') && !isPreparer
        ? html`<${ConfirmButton} id="approve-remittance" label=${t('treasury.approve')} title=${t('treasury.approveTitle', { number: r.number })} confirmLabel=${t('treasury.approveConfirm')} onConfirm=${act('approve')} onError=${setError}>
            <p>${t('treasury.approveRestate', { n: r.itemCount.toLocaleString('es-MX') })} <strong><${Money} value=${r.total} currency=${currency} /></strong>.</p>
          <//>`
        : null}
      ${r.status === 'draft' && can(me?.role, 'cancelRemittance')
        ? html`<${ConfirmButton} id="cancel-remittance" kind="danger" label=${t('treasury.cancel')} title=${t('treasury.cancelTitle', { number: r.number })} confirmLabel=${t('treasury.cancelConfirm')} askReason onConfirm=${act('cancel')} onError=${setError}>
            <p>${t('treasury.cancelRestate')}</p>
          <//>`
        : null}
      <${CsvButton} label=${t('treasury.documentCsv')} onError=${setError} run=${() => downloadCsv(`/v1/remittances/${r.id}/document.csv`, { lang: 'es' }, `remesa-${r.number}.csv`)} />
    </div>
    ${r.status === 'draft' && isPreparer ? html`<div id="sent-for-approval"><${Notice} kind="info">${t('treasury.sentForApproval')}<//></div>` : null}
    ${r.status === 'cancelled'
      ? html`<div id="remittance-cancelled"><${Notice} kind="warning">${t('treasury.cancelledBy', { who: (r.cancelledBy ?? '').replace(/^user:/, ''), when: fmtDate(r.cancelledAt, lang, tz) })}${r.cancelReason ? html` ${t('common.reason')}: «${r.cancelReason}»` : null}<//></div>`
      : null}
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <dl class="facts">
      <div><dt>${t('treasury.status')}</dt><dd id="remittance-status" data-status=${r.status}><${StatusBadge} status=${r.status} noun="remittance" /></dd></div>
      <div><dt>${t('treasury.count')}</dt><dd><${Count} value=${r.itemCount} /></dd></div>
      <div><dt>${t('treasury.amount')}</dt><dd id="remittance-total"><${Money} value=${r.total} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.preparedBy')}</dt><dd><${StaffName} actor=${r.preparedBy} /> <span class="muted">(${fmtDate(r.createdAt, lang, tz)})</span></dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd><${StaffName} actor=${r.approvedBy} /> ${r.approvedAt ? html`<span class="muted">(${fmtDate(r.approvedAt, lang, tz)})</span>` : null}</dd></div>
    </dl>
    <h2>${t('treasury.contents')}</h2>
    <${ProblemAlert} error=${items.error} />
    <${Pager} pager=${items} id="remittance-items-pager" noun=${t('treasury.reintegrosNoun')} />
    <${ReintegrosTable} pager=${items} currency=${currency} timeZone=${tz} id="remittance-items" caption=${t('treasury.contentsCaption', { number: r.number })} />
  </section>`;
}
