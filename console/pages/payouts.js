import { useRef, useState } from 'preact/hooks';
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
  StatusSelect,
  StatusBadge,
  TableWrap,
  useApi,
  useChosenProgram,
  usePager,
  usePageTitle,
  useSession,
} from '../lib/ui.js';

const KINDS = ['beneficiaries', 'insurer', 'grants', 'suppliers', 'loans'];
const BATCH_STATUSES = ['draft', 'sent', 'completed', 'cancelled'];
const LINE_STATUSES = ['', 'sent', 'paid', 'rejected', 'exception', 'draft', 'cancelled'];

/** Payout batches of a program (bank transfers): prepare (operator), then each opens to its lines. */
export function PayoutsPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('payouts.title'));
  const { programs, programId, choose } = useChosenProgram('/payouts');
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('beneficiaries');
  const [error, setError] = useState(null);
  const batches = usePager((cursor) => (programId ? api('GET', '/v1/payout-batches', { query: { programId, status, limit: PAGE_SIZE, cursor } }) : null), [programId, status]);
  const program = (programs.data ?? []).find((p) => p.id === programId);
  const prepare = async () => {
    setError(null);
    try {
      const b = await api('POST', '/v1/payout-batches', { body: { programId, kind }, idempotent: true });
      navigate(`/payouts/${b.id}`);
    } catch (e) {
      setError(e);
    }
  };
  return html`<section aria-labelledby="payouts-h">
    <h1 id="payouts-h">${t('payouts.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <${StatusSelect} id="batch-status" value=${status} onChange=${setStatus} statuses=${BATCH_STATUSES} word=${(s) => t(`status.payout_batch.${s}`)} />
    </div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && can(me?.role, 'preparePayoutBatch')
      ? html`<div class="panel row" id="prepare-batch">
          <div class="field">
            <label for="batch-kind">${t('payouts.kind')}</label>
            <select id="batch-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
              ${KINDS.map((k) => html`<option value=${k}>${t(`detail.${k}`)}</option>`)}
            </select>
          </div>
          <div class="field end"><${ActionButton} id="prepare-batch-submit" onAction=${prepare}>${t('payouts.prepare')}<//></div>
        </div>`
      : null}
    ${programId && batches.loading && !batches.page ? html`<${Loading} />` : null}
    <${ProblemAlert} error=${batches.error} />
    ${batches.page
      ? html`<${TableWrap}><table class="data" id="batches-table">
            <caption>${t('payouts.caption', { code: program?.code ?? '' })}</caption>
            <thead>
              <tr>
                <th scope="col">${t('treasury.number')}</th>
                <th scope="col">${t('payouts.kind')}</th>
                <th scope="col">${t('cycles.status')}</th>
                <th scope="col" class="num">${t('cycles.controlCount')}</th>
                <th scope="col" class="num">${t('cycles.controlTotal')}</th>
                <th scope="col" class="num">${t('payouts.paid')}</th>
                <th scope="col" class="num">${t('payouts.rejected')}</th>
                <th scope="col">${t('cycles.preparedBy')}</th>
                <th scope="col">${t('treasury.created')}</th>
              </tr>
            </thead>
            <tbody>
              ${batches.page.data.length === 0 ? html`<tr><td colspan="9">${t('payouts.none')}</td></tr>` : null}
              ${batches.page.data.map(
                (b) => html`<tr key=${b.id} data-batch=${b.id}>
                  <th scope="row" class="nowrap"><a href=${`#/payouts/${b.id}`}>${b.number}</a></th>
                  <td>${t(`detail.${b.kind}`, {}, b.kind)}</td>
                  <td><${StatusBadge} status=${b.status} noun="payout_batch" /></td>
                  <td class="num"><${Count} value=${b.controlCount} /></td>
                  <td class="num"><${Money} value=${b.controlTotal} currency=${b.currency} /></td>
                  <td class="num"><${Money} value=${b.paidTotal} currency=${b.currency} /></td>
                  <td class="num"><${Money} value=${b.rejectedTotal} currency=${b.currency} /></td>
                  <td><${StaffName} actor=${b.preparedBy} /></td>
                  <td>${fmtDate(b.createdAt, lang, program?.timeZone)}</td>
                </tr>`,
              )}
            </tbody>
          </table><//>
          <${Pager} pager=${batches} id="batches-pager" noun=${t('payouts.noun')} />`
      : null}
  </section>`;
}

/** How many lines of the batch have this status, from the batch's own counters. */
function lineTotal(b, status) {
  switch (status) {
    case '':
      return b.controlCount;
    case 'exception':
      return b.exceptionCount;
    case 'paid':
      return b.paidCount;
    case 'rejected':
      return b.rejectedCount;
    case 'sent':
      return b.status === 'draft' || b.status === 'cancelled' ? 0 : b.pendingCount;
    case 'draft':
      return b.status === 'draft' ? b.controlCount : 0;
    case 'cancelled':
      return b.status === 'cancelled' ? b.controlCount : 0;
    default:
      return null;
  }
}

/** One payout batch: approve / cancel, the bank file, the bank's results, and every line. */
export function PayoutBatchPage({ id }) {
  const { t, me, lang } = useSession();
  const [status, setStatus] = useState('');
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const head = useApi(() => api('GET', `/v1/payout-batches/${id}`, { query: { limit: 1 } }), [id]);
  const b = head.data;
  const program = useApi(() => (b?.programId ? api('GET', `/v1/programs/${b.programId}`) : null), [b?.programId]);
  const lines = usePager(
    (cursor) => api('GET', `/v1/payout-batches/${id}`, { query: { status, limit: PAGE_SIZE, cursor } }).then((r) => ({ data: r.lines, nextCursor: r.nextCursor })),
    [id, status, b?.status, b?.resultsApplied],
  );
  const file = useRef(null);
  usePageTitle(b ? `${t('payouts.batch')} ${b.number}` : t('payouts.batch'));
  if (head.loading && !b) return html`<${Loading} />`;
  if (head.error && !b) return html`<${ProblemAlert} error=${head.error} />`;
  if (lines.page) lines.page.total = lineTotal(b, status);
  const tz = program.data?.timeZone;
  const isPreparer = b.preparedBy === actorName(me);
  const act = (verb) => async (reason) => {
    setError(null);
    setMessage(null);
    try {
      await api('POST', `/v1/payout-batches/${id}/${verb}`, verb === 'approve' ? { idempotent: `console-batch-approve-${id}` } : { body: { reason } });
    } finally {
      head.reload();
    }
  };
  const upload = async () => {
    setError(null);
    setMessage(null);
    const f = file.current?.files?.[0];
    if (!f) {
      file.current?.focus();
      return;
    }
    try {
      const text = await f.text();
      const r = await api('POST', `/v1/payout-batches/${id}/results`, { raw: text, contentType: 'text/csv', idempotent: true });
      setMessage(t('payouts.resultsApplied', { paid: String(r?.paid ?? r?.applied?.paid ?? ''), name: f.name }));
      file.current.value = '';
    } catch (e) {
      setError(e);
    } finally {
      head.reload();
    }
  };
  const rows = lines.page?.data ?? [];
  return html`<section aria-labelledby="batch-h">
    <p><a href=${`#/payouts?program=${b.programId}`}>← ${t('payouts.back')}</a></p>
    <h1 id="batch-h">${t('payouts.batch')} ${b.number} ${program.data ? html`<span class="muted">· ${program.data.code}</span>` : null}</h1>
    <div class="actions top-actions">
      ${b.status === 'draft' && can(me?.role, 'approvePayoutBatch') && !isPreparer
        ? html`<${ConfirmButton} id="approve-batch" label=${t('payouts.approve')} title=${t('payouts.approveTitle', { number: b.number })} confirmLabel=${t('payouts.approveConfirm')} onConfirm=${act('approve')} onError=${setError}>
            <p>${t('payouts.approveRestate', { n: b.controlCount.toLocaleString('es-MX') })} <strong><${Money} value=${b.controlTotal} currency=${b.currency} /></strong>.</p>
          <//>`
        : null}
      ${b.status === 'draft' && can(me?.role, 'cancelPayoutBatch')
        ? html`<${ConfirmButton} id="cancel-batch" kind="danger" label=${t('payouts.cancel')} title=${t('payouts.cancelTitle', { number: b.number })} confirmLabel=${t('payouts.cancelConfirm')} askReason onConfirm=${act('cancel')} onError=${setError}>
            <p>${t('payouts.cancelRestate')}</p>
          <//>`
        : null}
      ${b.file ? html`<${CsvButton} label=${t('payouts.file')} onError=${setError} run=${() => downloadCsv(`/v1/payout-batches/${id}/file`, {}, `${b.number}.csv`)} />` : null}
    </div>
    ${b.status === 'sent' && can(me?.role, 'uploadPayoutResults')
      ? html`<div class="panel row" id="upload-results">
          <div class="field">
            <label for="results-file">${t('payouts.resultsFile')}</label>
            <input id="results-file" type="file" accept=".csv,text/csv" ref=${file} aria-describedby="results-help" />
            <small id="results-help">${t('payouts.resultsHelp')}</small>
          </div>
          <div class="field end"><${ActionButton} id="upload-results-submit" onAction=${upload}>${t('payouts.upload')}<//></div>
        </div>`
      : null}
    ${b.status === 'draft' && isPreparer ? html`<div id="sent-for-approval"><${Notice} kind="info">${t('payouts.sentForApproval')}<//></div>` : null}
    ${b.status === 'cancelled'
      ? html`<div id="batch-cancelled"><${Notice} kind="warning">${t('payouts.cancelledBy', { who: (b.cancelledBy ?? '').replace(/^user:/, ''), when: fmtDate(b.cancelledAt, lang, tz) })}${b.cancelReason ? html` ${t('common.reason')}: «${b.cancelReason}»` : null}<//></div>`
      : null}
    <div aria-live="polite">${message ? html`<${Notice} kind="success">${message}<//>` : null}</div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="batch-status-value" data-status=${b.status}><${StatusBadge} status=${b.status} noun="payout_batch" /></dd></div>
      <div><dt>${t('payouts.kind')}</dt><dd>${t(`detail.${b.kind}`, {}, b.kind)}</dd></div>
      <div><dt>${t('cycles.controlTotal')}</dt><dd id="batch-control-total"><${Count} value=${b.controlCount} /> · <${Money} value=${b.controlTotal} currency=${b.currency} /></dd></div>
      <div><dt>${t('payouts.sent')}</dt><dd><${Count} value=${b.sentCount} /> · <${Money} value=${b.sentTotal} currency=${b.currency} /></dd></div>
      <div><dt>${t('payouts.paid')}</dt><dd id="batch-paid"><${Count} value=${b.paidCount} /> · <${Money} value=${b.paidTotal} currency=${b.currency} /></dd></div>
      <div><dt>${t('payouts.rejected')}</dt><dd><${Count} value=${b.rejectedCount} /> · <${Money} value=${b.rejectedTotal} currency=${b.currency} /></dd></div>
      <div><dt>${t('cycles.exceptions')}</dt><dd><${Count} value=${b.exceptionCount} /> · <${Money} value=${b.exceptionTotal} currency=${b.currency} /></dd></div>
      <div><dt>${t('payouts.awaiting')}</dt><dd><${Count} value=${b.pendingCount} /></dd></div>
      <div><dt>${t('cycles.preparedBy')}</dt><dd><${StaffName} actor=${b.preparedBy} /> <span class="muted">(${fmtDate(b.createdAt, lang, tz)})</span></dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd><${StaffName} actor=${b.approvedBy} /> ${b.approvedAt ? html`<span class="muted">(${fmtDate(b.approvedAt, lang, tz)})</span>` : null}</dd></div>
    </dl>
    ${Object.keys(b.exclusions ?? {}).length
      ? html`<p id="batch-exclusions">${t('approval.exclusions', { n: '' })} ${Object.entries(b.exclusions).map(([reason, n]) => html`<span class="badge" key=${reason}>${t(`reason.${reason}`, {}, reason)}: ${n}</span> `)}</p>`
      : null}
    <h2>${t('payouts.lines')}</h2>
    <div class="field">
      <label for="batch-lines-status">${t('lines.show')}</label>
      <select id="batch-lines-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        ${LINE_STATUSES.map((s) => html`<option value=${s}>${s ? t(`status.payout_line.${s}`) : t('lines.all')}</option>`)}
      </select>
    </div>
    <${ProblemAlert} error=${lines.error} />
    <${Pager} pager=${lines} id="batch-lines-pager" noun=${t('lines.noun')} />
    <${TableWrap}><table class="data" id="batch-lines">
      <caption>${t('payouts.linesCaption', { number: b.number })}</caption>
      <thead>
        <tr>
          <th scope="col" class="num">#</th>
          <th scope="col">${t('payouts.reference')}</th>
          <th scope="col">${t('payouts.payee')}</th>
          <th scope="col">CLABE</th>
          <th scope="col" class="num">${t('lines.amount')}</th>
          <th scope="col">${t('cycles.status')}</th>
          <th scope="col">${t('payouts.reason')}</th>
        </tr>
      </thead>
      <tbody>
        ${lines.page && rows.length === 0 ? html`<tr><td colspan="7">${t('lines.none')}</td></tr>` : null}
        ${rows.map(
          (l) => html`<tr key=${l.id} data-status=${l.status} class=${l.status === 'rejected' || l.status === 'exception' ? 'row-exception' : ''}>
            <td class="num">${l.lineNo}</td>
            <td class="nowrap">${l.reference}</td>
            <td>${t(`payee.${l.payeeKind}`, {}, l.payeeKind)}</td>
            <td class="nowrap">${l.clabe ?? '—'}</td>
            <td class="num"><${Money} value=${l.amount} currency=${b.currency} /></td>
            <td><${StatusBadge} status=${l.status} noun="payout_line" /></td>
            <td>${l.exceptionReason ? t(`reason.${l.exceptionReason}`, {}, l.exceptionReason) : (l.resultReason ?? '')}</td>
          </tr>`,
        )}
      </tbody>
    </table><//>
  </section>`;
}
