import { api } from '../lib/api.js';
import { can } from '../lib/roles.js';
import { Count, fmtDate, html, Money, PAGE_SIZE, Pager, ProblemAlert, StaffName, TableWrap, usePager, usePageTitle, useSession } from '../lib/ui.js';

/** Where each kind of draft opens (one entry per kind the inbox knows; src/console/approval-sources.ts). */
export const APPROVAL_LINKS = {
  cycle: (a) => `#/cycles/${a.id}`,
  remittance: (a) => `#/remittances/${a.id}`,
  payout_batch: (a) => `#/payouts/${a.id}`,
  payment_order: (a) => `#/payment-orders/${a.id}`,
  loan: (a) => `#/loans/${a.id}`,
  write_off: (a) => `#/loans/${a.id}`,
};

/** The approvals inbox: what waits for me (approvers) and what I sent for approval (preparers). */
export function ApprovalsPage() {
  const { t, me } = useSession();
  usePageTitle(t('approvals.title'));
  const approver = can(me?.role, 'approveCycle');
  const preparer = can(me?.role, 'prepareCycle');
  return html`<section aria-labelledby="approvals-h">
    <h1 id="approvals-h">${t('approvals.title')}</h1>
    ${approver ? html`<${Inbox} scope="to_approve" id="inbox-to-approve" heading=${t('approvals.toApprove')} empty=${t('approvals.noneToApprove')} />` : null}
    ${preparer ? html`<${Inbox} scope="sent" id="inbox-sent" heading=${t('approvals.sent')} empty=${t('approvals.noneSent')} />` : null}
    ${!approver && !preparer ? html`<${Inbox} scope="all" id="inbox-all" heading=${t('approvals.all')} empty=${t('approvals.noneToApprove')} />` : null}
  </section>`;
}

function Inbox({ scope, id, heading, empty }) {
  const { t, lang } = useSession();
  const pager = usePager((cursor) => api('GET', '/v1/console/approvals', { query: { scope, limit: PAGE_SIZE, cursor } }), [scope]);
  const rows = pager.page?.data ?? [];
  return html`<section aria-labelledby=${`${id}-h`} id=${id}>
    <h2 id=${`${id}-h`}>${heading} ${pager.page ? html`<span class="badge count-badge" data-total=${pager.page.total}>${pager.page.total}</span>` : null}</h2>
    <${ProblemAlert} error=${pager.error} />
    <${TableWrap}><table class="data">
      <caption class="sr-only">${heading}</caption>
      <thead>
        <tr>
          <th scope="col">${t('approvals.what')}</th>
          <th scope="col">${t('common.program')}</th>
          <th scope="col" class="num">${t('approvals.count')}</th>
          <th scope="col" class="num">${t('approvals.amount')}</th>
          <th scope="col">${t('cycles.preparedBy')}</th>
          <th scope="col">${t('approvals.sentAt')}</th>
        </tr>
      </thead>
      <tbody>
        ${pager.page && rows.length === 0 ? html`<tr><td colspan="6">${empty}</td></tr>` : null}
        ${rows.map(
          (a) => html`<tr key=${a.id} data-kind=${a.kind} data-id=${a.id}>
            <th scope="row"><a href=${APPROVAL_LINKS[a.kind]?.(a) ?? '#/approvals'}>${t(`approvals.kind.${a.kind}`, {}, a.kind)} <span class="nowrap">${a.reference}</span>${a.detail ? ` · ${t(`detail.${a.detail}`, {}, a.detail)}` : ''}</a>
              ${a.scheduledFor ? html`<br /><small>${t('cycles.scheduledShort', { when: fmtDate(a.scheduledFor, lang, a.timeZone) })}</small>` : null}</th>
            <td>${a.programCode}<br /><small class="muted">${a.programName}</small></td>
            <td class="num"><${Count} value=${a.controlCount} /></td>
            <td class="num"><${Money} value=${a.controlTotal} currency=${a.currency} /></td>
            <td><${StaffName} actor=${a.preparedBy} /></td>
            <td>${fmtDate(a.createdAt, lang, a.timeZone)}</td>
          </tr>`,
        )}
      </tbody>
    </table><//>
    <${Pager} pager=${pager} id=${`${id}-pager`} noun=${t('approvals.noun')} />
  </section>`;
}
