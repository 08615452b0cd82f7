import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { navigate } from '../lib/data.js';
import { actorName, can } from '../lib/roles.js';
import {
  BeneficiaryLabel,
  ConfirmButton,
  fmtDate,
  fmtPeriod,
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

/** "2016-03" of today in the program's time zone: the arrears API's default `upTo`. */
function currentPeriod(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
}

/**
 * Money owed (GET /v1/programs/{id}/arrears): who was not paid which period, why and how much.
 * The operator pays one owed period with a payment order (maker); an approver approves it (checker).
 */
export function ArrearsPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('arrears.title'));
  const { programs, programId, program, choose } = useChosenProgram('/arrears');
  const [upTo, setUpTo] = useState('');
  const [error, setError] = useState(null);
  const owed = usePager((cursor) => (programId ? api('GET', `/v1/programs/${programId}/arrears`, { query: { upTo, limit: PAGE_SIZE, cursor } }) : null), [programId, upTo]);
  const rows = owed.page?.data ?? [];
  const mayOrder = can(me?.role, 'preparePaymentOrder');
  const order = (row) => async (reason) => {
    setError(null);
    const o = await api('POST', '/v1/payment-orders', {
      body: { programId, beneficiaryId: row.beneficiaryId, amount: row.amount, period: row.period, reason },
      idempotent: `console-order-${row.beneficiaryId}-${row.period}-${row.loadNo}`,
    });
    navigate(`/payment-orders/${o.id}`);
  };
  return html`<section aria-labelledby="arrears-h">
    <h1 id="arrears-h">${t('arrears.title')}</h1>
    <p class="muted">${t('arrears.intro')}</p>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <div class="field">
        <label for="arrears-up-to">${t('arrears.upTo')}</label>
        <input id="arrears-up-to" type="month" value=${upTo} placeholder=${program ? currentPeriod(program.timeZone) : ''} onChange=${(e) => setUpTo(e.currentTarget.value)} aria-describedby="arrears-up-to-help" />
        <small id="arrears-up-to-help">${t('arrears.upToHelp')}</small>
      </div>
    </div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && owed.loading && !owed.page ? html`<${Loading} />` : null}
    <${ProblemAlert} error=${owed.error} />
    ${owed.page
      ? html`<${Pager} pager=${owed} id="arrears-pager" noun=${t('arrears.noun')} />
          <${TableWrap}><table class="data" id="arrears-table">
            <caption>${t('arrears.caption', { code: program?.code ?? '' })}</caption>
            <thead>
              <tr>
                <th scope="col">${t('arrears.folio')}</th>
                <th scope="col">${t('arrears.period')}</th>
                <th scope="col">${t('arrears.reason')}</th>
                <th scope="col" class="num">${t('lines.amount')}</th>
                <th scope="col">${t('arrears.inCycle')}</th>
                ${mayOrder ? html`<th scope="col">${t('common.actions')}</th>` : null}
              </tr>
            </thead>
            <tbody>
              ${rows.length === 0 ? html`<tr><td colspan=${mayOrder ? 6 : 5}>${t('arrears.none')}</td></tr>` : null}
              ${rows.map((r, i) => {
                const name = `${r.folio} ${fmtPeriod(r.period, lang)}${r.loadNo ? ` #${r.loadNo}` : ''}`;
                return html`<tr key=${`${r.beneficiaryId}-${r.period}-${r.loadNo}`} data-beneficiary=${r.beneficiaryId} data-period=${r.period}>
                  <th scope="row" class="folio">${r.folio}</th>
                  <td class="nowrap">${fmtPeriod(r.period, lang)}${r.loadNo ? ` #${r.loadNo}` : ''}</td>
                  <td>${t(`reason.${r.reason}`, {}, r.reason)}</td>
                  <td class="num">${r.noAmount || r.amount === null ? '—' : html`<${Money} value=${r.amount} currency=${program?.currency} />`}</td>
                  <td>${r.pendingCycleId ? html`<a href=${`#/cycles/${r.pendingCycleId}`}>${t('arrears.pendingCycle')}</a>` : '—'}</td>
                  ${mayOrder
                    ? html`<td>
                        ${!r.pendingCycleId && !r.noAmount && r.amount
                          ? html`<${ConfirmButton} id=${`order-${owed.offset + i + 1}`} kind="secondary" label=${t('arrears.order')} aria-label=${`${t('arrears.order')} ${name}`}
                              title=${t('arrears.orderTitle', { name })} confirmLabel=${t('arrears.orderConfirm')} askReason onConfirm=${order(r)} onError=${setError}>
                              <p>${t('arrears.orderRestate', { period: fmtPeriod(r.period, lang) })} <strong><${Money} value=${r.amount} currency=${program?.currency} /></strong>.</p>
                            <//>`
                          : null}
                      </td>`
                    : null}
                </tr>`;
              })}
            </tbody>
          </table><//>`
      : null}
  </section>`;
}

/** One payment order: what it pays, to whom and why; approve (another person) or cancel. */
export function PaymentOrderPage({ id }) {
  const { t, me, lang } = useSession();
  const [error, setError] = useState(null);
  const head = useApi(() => api('GET', `/v1/payment-orders/${id}`), [id]);
  const o = head.data;
  const program = useApi(() => (o?.programId ? api('GET', `/v1/programs/${o.programId}`) : null), [o?.programId]);
  usePageTitle(t('orders.title'));
  if (head.loading && !o) return html`<${Loading} />`;
  if (head.error && !o) return html`<${ProblemAlert} error=${head.error} />`;
  const p = program.data;
  const tz = p?.timeZone;
  const isPreparer = o.preparedBy === actorName(me);
  const act = (verb) => async () => {
    setError(null);
    try {
      await api('POST', `/v1/payment-orders/${id}/${verb}`, verb === 'approve' ? { idempotent: `console-order-approve-${id}` } : {});
    } finally {
      head.reload();
    }
  };
  const amount = html`<strong><${Money} value=${o.amount} currency=${p?.currency} /></strong>`;
  return html`<section aria-labelledby="order-h">
    <p><a href=${`#/arrears?program=${o.programId}`}>← ${t('orders.back')}</a></p>
    <h1 id="order-h">${t('orders.title')} ${p ? html`<span class="muted">· ${p.code}</span>` : null}</h1>
    <div class="actions top-actions">
      ${o.status === 'draft' && can(me?.role, 'approvePaymentOrder') && !isPreparer
        ? html`<${ConfirmButton} id="approve-order" label=${t('orders.approve')} title=${t('orders.approveTitle')} confirmLabel=${t('orders.approveConfirm')} onConfirm=${act('approve')} onError=${setError}>
            <p>${t('orders.approveRestate')} ${amount}.</p>
          <//>`
        : null}
      ${o.status === 'draft' && can(me?.role, 'cancelPaymentOrder')
        ? html`<${ConfirmButton} id="cancel-order" kind="danger" label=${t('orders.cancel')} title=${t('orders.cancelTitle')} confirmLabel=${t('orders.cancelConfirm')} onConfirm=${act('cancel')} onError=${setError}>
            <p>${t('orders.cancelRestate')} ${amount}.</p>
          <//>`
        : null}
    </div>
    ${o.status === 'draft' && isPreparer ? html`<div id="sent-for-approval"><${Notice} kind="info">${t('orders.sentForApproval')}<//></div>` : null}
    ${o.status === 'cancelled' ? html`<div id="order-cancelled"><${Notice} kind="warning">${t('orders.cancelledBy', { who: (o.cancelledBy ?? '').replace(/^user:/, ''), when: fmtDate(o.cancelledAt, lang, tz) })}<//></div>` : null}
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="order-status" data-status=${o.status}><${StatusBadge} status=${o.status} noun="payment_order" /></dd></div>
      <div><dt>${t('orders.beneficiary')}</dt><dd id="order-beneficiary"><${BeneficiaryLabel} id=${o.beneficiaryId} /></dd></div>
      <div><dt>${t('lines.amount')}</dt><dd id="order-amount"><${Money} value=${o.amount} currency=${p?.currency} /></dd></div>
      <div><dt>${t('arrears.period')}</dt><dd>${o.period ? fmtPeriod(o.period, lang) : t('orders.noPeriod')}${o.loadNumber ? ` #${o.loadNumber}` : ''}</dd></div>
      <div><dt>${t('common.reason')}</dt><dd id="order-reason">${o.reason}</dd></div>
      ${p ? html`<div><dt>${t('budget.available')}</dt><dd id="order-available"><${Money} value=${p.budget?.available} currency=${p.currency} /></dd></div>` : null}
      <div><dt>${t('cycles.preparedBy')}</dt><dd id="order-prepared"><${StaffName} actor=${o.preparedBy} /> <span class="muted">(${fmtDate(o.createdAt, lang, tz)})</span></dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd><${StaffName} actor=${o.approvedBy} /> ${o.approvedAt ? html`<span class="muted">(${fmtDate(o.approvedAt, lang, tz)})</span>` : null}</dd></div>
      ${o.journalEntryId ? html`<div><dt>${t('orders.entry')}</dt><dd class="hash">${o.journalEntryId}</dd></div>` : null}
    </dl>
  </section>`;
}
