import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { actorName, can } from '../lib/roles.js';
import {
  BeneficiaryLabel,
  ConfirmButton,
  Count,
  fmtDate,
  fmtDay,
  fmtPeriod,
  fmtRate,
  html,
  Loading,
  Money,
  Notice,
  OkBadge,
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

const LOAN_STATUSES = ['applied', 'approved', 'disbursed', 'delinquent', 'repaid', 'written_off'];

/** Loans of a program: the portfolio's figures (by status, ageing, caps, the fund), then every loan, paged. */
export function LoansPage() {
  const { t, lang } = useSession();
  usePageTitle(t('loans.title'));
  const { programs, programId, program, choose } = useChosenProgram('/loans', (p) => p.instrumentType === 'loan');
  const [status, setStatus] = useState('');
  const portfolio = useApi(() => (programId ? api('GET', `/v1/programs/${programId}/loan-portfolio`) : null), [programId]);
  const loans = usePager((cursor) => (programId ? api('GET', `/v1/console/programs/${programId}/loans`, { query: { status, limit: PAGE_SIZE, cursor } }) : null), [programId, status]);
  const pf = portfolio.data;
  const currency = pf?.currency ?? program?.currency;
  const rows = loans.page?.data ?? [];
  return html`<section aria-labelledby="loans-h">
    <h1 id="loans-h">${t('loans.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <${StatusSelect} id="loan-status" value=${status} onChange=${setStatus} statuses=${LOAN_STATUSES} word=${(s) => t(`status.loan.${s}`)} />
    </div>
    ${!programId ? html`<p>${t('loans.pickProgram')}</p>` : null}
    <${ProblemAlert} error=${portfolio.error} />
    ${pf
      ? html`<section aria-labelledby="portfolio-h" id="portfolio">
          <h2 id="portfolio-h">${t('loans.portfolio', { date: fmtDay(pf.asOf, lang) })}</h2>
          <dl class="facts">
            <div><dt>${t('loans.capLoans')}</dt><dd id="cap-loans"><${Count} value=${pf.caps.loans.approved} />${pf.caps.loans.max !== null ? html` ${t('loans.of')} <${Count} value=${pf.caps.loans.max} />` : ''}</dd></div>
            <div><dt>${t('loans.capital')}</dt><dd><${Money} value=${pf.caps.money.capital} currency=${currency} /></dd></div>
            <div><dt>${t('loans.lent')}</dt><dd id="portfolio-lent"><${Money} value=${pf.caps.money.lent} currency=${currency} /></dd></div>
            <div><dt>${t('loans.committed')}</dt><dd><${Money} value=${pf.caps.money.committed} currency=${currency} /></dd></div>
            <div><dt>${t('loans.available')}</dt><dd id="portfolio-available"><${Money} value=${pf.caps.money.available} currency=${currency} /></dd></div>
            <div><dt>${t('loans.repaymentRate')}</dt><dd id="repayment-rate">${fmtRate(pf.repaymentRate, lang)}</dd></div>
            <div><dt>${t('loans.fund')}</dt><dd id="fund-ok" data-ok=${String(Boolean(pf.fund?.ok))}><${OkBadge} ok=${pf.fund?.ok} /></dd></div>
          </dl>
          <div class="cards two">
            <${TableWrap}><table class="data" id="portfolio-status">
              <caption>${t('loans.byStatus')}</caption>
              <thead><tr><th scope="col">${t('cycles.status')}</th><th scope="col" class="num">${t('loans.noun')}</th><th scope="col" class="num">${t('loans.principal')}</th><th scope="col" class="num">${t('loans.outstanding')}</th></tr></thead>
              <tbody>
                ${pf.byStatus.length === 0 ? html`<tr><td colspan="4">${t('loans.none')}</td></tr>` : null}
                ${pf.byStatus.map(
                  (s) => html`<tr key=${s.status} data-status=${s.status}>
                    <th scope="row"><${StatusBadge} status=${s.status} noun="loan" /></th>
                    <td class="num"><${Count} value=${s.loans} /></td>
                    <td class="num"><${Money} value=${s.principal} currency=${currency} /></td>
                    <td class="num"><${Money} value=${s.outstanding} currency=${currency} /></td>
                  </tr>`,
                )}
              </tbody>
            </table><//>
            <${TableWrap}><table class="data" id="portfolio-ageing">
              <caption>${t('loans.ageing')}</caption>
              <thead><tr><th scope="col">${t('loans.daysPastDue')}</th><th scope="col" class="num">${t('loans.noun')}</th><th scope="col" class="num">${t('loans.outstanding')}</th></tr></thead>
              <tbody>
                ${pf.ageing.map(
                  (a) => html`<tr key=${a.bucket} data-bucket=${a.bucket} class=${a.bucket !== 'current' && a.loans > 0 ? 'row-exception' : ''}>
                    <th scope="row">${t(`ageing.${a.bucket}`, {}, a.bucket)}</th>
                    <td class="num"><${Count} value=${a.loans} /></td>
                    <td class="num"><${Money} value=${a.outstanding} currency=${currency} /></td>
                  </tr>`,
                )}
              </tbody>
            </table><//>
          </div>
          ${pf.expectedCollections.length
            ? html`<${TableWrap}><table class="data" id="portfolio-expected">
                <caption>${t('loans.expected')}</caption>
                <thead><tr><th scope="col">${t('arrears.period')}</th><th scope="col" class="num">${t('lines.amount')}</th></tr></thead>
                <tbody>${pf.expectedCollections.slice(0, 24).map((e) => html`<tr key=${e.month}><th scope="row">${fmtPeriod(e.month, lang)}</th><td class="num"><${Money} value=${e.amount} currency=${currency} /></td></tr>`)}</tbody>
              </table><//>`
            : null}
        </section>`
      : null}
    ${programId && loans.loading && !loans.page ? html`<${Loading} />` : null}
    <${ProblemAlert} error=${loans.error} />
    ${loans.page
      ? html`<h2 id="loans-list-h">${t('loans.list')}</h2>
          <${Pager} pager=${loans} id="loans-pager" noun=${t('loans.noun')} />
          <${TableWrap}><table class="data" id="loans-table" aria-labelledby="loans-list-h">
            <thead>
              <tr>
                <th scope="col">${t('loans.number')}</th>
                <th scope="col">${t('loans.borrower')}</th>
                <th scope="col">${t('cycles.status')}</th>
                <th scope="col" class="num">${t('loans.principal')}</th>
                <th scope="col" class="num">${t('loans.repaid')}</th>
                <th scope="col" class="num">${t('loans.outstanding')}</th>
                <th scope="col">${t('loans.pastDueSince')}</th>
                <th scope="col">${t('loans.applied')}</th>
              </tr>
            </thead>
            <tbody>
              ${rows.length === 0 ? html`<tr><td colspan="8">${t('loans.none')}</td></tr>` : null}
              ${rows.map(
                (l) => html`<tr key=${l.id} data-loan=${l.id} data-status=${l.status} class=${l.status === 'delinquent' ? 'row-exception' : ''}>
                  <th scope="row" class="nowrap"><a href=${`#/loans/${l.id}`}>${l.number}</a></th>
                  <td><span class="folio">${l.folio}</span>${l.name ? html`<br /><small>${l.name}</small>` : null}</td>
                  <td><${StatusBadge} status=${l.status} noun="loan" />${l.writeOffRequested ? html` <span class="badge status-draft">${t('loans.writeOffPending')}</span>` : null}</td>
                  <td class="num"><${Money} value=${l.principal} currency=${currency} /></td>
                  <td class="num"><${Money} value=${l.repaid} currency=${currency} /></td>
                  <td class="num"><${Money} value=${l.outstanding} currency=${currency} /></td>
                  <td class="nowrap">${l.pastDueSince ? fmtDay(l.pastDueSince, lang) : '—'}</td>
                  <td class="nowrap">${fmtDay(l.appliedOn, lang)}</td>
                </tr>`,
              )}
            </tbody>
          </table><//>`
      : null}
  </section>`;
}

/** Today's business date in a time zone ("2020-09-15"), the default for a repayment's date. */
function today(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/** One loan: who and how much, each step's author, the schedule, and the step the role takes next. */
export function LoanPage({ id }) {
  const { t, me, lang } = useSession();
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const head = useApi(() => api('GET', `/v1/loans/${id}`), [id]);
  const l = head.data;
  const schedule = useApi(() => (l ? api('GET', `/v1/loans/${id}/schedule`) : null), [id, l?.status, l?.repaid]);
  const program = useApi(() => (l?.programId ? api('GET', `/v1/programs/${l.programId}`) : null), [l?.programId]);
  usePageTitle(l ? `${t('loans.loan')} ${l.number}` : t('loans.loan'));
  const [repay, setRepay] = useState({ amount: '', paidOn: '', reference: '' });
  if (head.loading && !l) return html`<${Loading} />`;
  if (head.error && !l) return html`<${ProblemAlert} error=${head.error} />`;
  const tz = program.data?.timeZone;
  const cur = l.currency;
  const outstandingOpen = ['disbursed', 'delinquent'].includes(l.status);
  const wo = l.writeOff;
  const woPending = wo && !wo.approvedAt;
  const post = (path, opts, done) => async (reason) => {
    setError(null);
    setMessage(null);
    try {
      await api('POST', path, typeof opts === 'function' ? opts(reason) : opts);
      if (done) setMessage(done);
    } finally {
      head.reload();
    }
  };
  const submitRepayment = async (e) => {
    e.preventDefault();
    setError(null);
    setMessage(null);
    try {
      const body = { amount: repay.amount.trim(), paidOn: repay.paidOn || today(tz ?? 'America/Mexico_City'), reference: repay.reference.trim() };
      await api('POST', `/v1/loans/${id}/repayments`, { body, idempotent: `console-repay-${id}-${body.reference}` });
      setMessage(t('loans.repaid.done', { reference: body.reference }));
      setRepay({ amount: '', paidOn: '', reference: '' });
    } catch (err) {
      setError(err);
    } finally {
      head.reload();
    }
  };
  const principal = html`<strong><${Money} value=${l.principal} currency=${cur} /></strong>`;
  return html`<section aria-labelledby="loan-h">
    <p><a href=${`#/loans?program=${l.programId}`}>← ${t('loans.back')}</a></p>
    <h1 id="loan-h">${t('loans.loan')} ${l.number} ${program.data ? html`<span class="muted">· ${program.data.code}</span>` : null}</h1>
    <div class="actions top-actions">
      ${l.status === 'applied' && can(me?.role, 'approveLoan')
        ? html`<${ConfirmButton} id="approve-loan" label=${t('loans.approve')} title=${t('loans.approveTitle', { number: l.number })} confirmLabel=${t('loans.approveConfirm')}
            onConfirm=${post(`/v1/loans/${id}/approve`, { idempotent: `console-loan-approve-${id}` })} onError=${setError}>
            <p>${t('loans.approveRestate')} ${principal}.</p>
            ${program.data ? html`<p>${t('budget.available')}: <${Money} value=${program.data.budget?.available} currency=${cur} />.</p>` : null}
          <//>`
        : null}
      ${l.status === 'approved' && l.acceptance && can(me?.role, 'disburseLoan')
        ? html`<${ConfirmButton} id="disburse-loan" label=${t('loans.disburse')} title=${t('loans.disburseTitle', { number: l.number })} confirmLabel=${t('loans.disburseConfirm')}
            onConfirm=${post(`/v1/loans/${id}/disburse`, { idempotent: `console-loan-disburse-${id}` })} onError=${setError}>
            <p>${t('loans.disburseRestate')} ${principal}.</p>
          <//>`
        : null}
      ${outstandingOpen && !wo && can(me?.role, 'requestWriteOff')
        ? html`<${ConfirmButton} id="request-write-off" kind="danger" label=${t('loans.writeOff')} title=${t('loans.writeOffTitle', { number: l.number })} confirmLabel=${t('loans.writeOffConfirm')} askReason
            onConfirm=${post(`/v1/loans/${id}/write-off`, (reason) => ({ body: { reason } }))} onError=${setError}>
            <p>${t('loans.writeOffRestate')} <strong><${Money} value=${l.outstanding} currency=${cur} /></strong>.</p>
          <//>`
        : null}
      ${woPending && outstandingOpen && can(me?.role, 'approveWriteOff') && wo.requestedBy !== actorName(me)
        ? html`<${ConfirmButton} id="approve-write-off" kind="danger" label=${t('loans.approveWriteOff')} title=${t('loans.writeOffTitle', { number: l.number })} confirmLabel=${t('loans.approveWriteOffConfirm')}
            onConfirm=${post(`/v1/loans/${id}/write-off/approve`, { idempotent: `console-write-off-approve-${id}` })} onError=${setError}>
            <p>${t('loans.writeOffRestate')} <strong><${Money} value=${l.outstanding} currency=${cur} /></strong>.</p>
            <p>${t('common.reason')}: «${wo.reason}» (<${StaffName} actor=${wo.requestedBy} />).</p>
          <//>`
        : null}
    </div>
    ${l.status === 'applied' && !can(me?.role, 'approveLoan') ? html`<${Notice} kind="info">${t('loans.awaitingApproval')}<//>` : null}
    ${l.status === 'approved' && !l.acceptance ? html`<div id="awaiting-acceptance"><${Notice} kind="warning">${t('loans.awaitingAcceptance')}<//></div>` : null}
    ${woPending ? html`<div id="write-off-pending"><${Notice} kind="warning">${t('loans.writeOffRequested', { who: (wo.requestedBy ?? '').replace(/^user:/, ''), when: fmtDate(wo.requestedAt, lang, tz) })} ${t('common.reason')}: «${wo.reason}»<//></div>` : null}
    <div aria-live="polite">${message ? html`<${Notice} kind="success">${message}<//>` : null}</div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="loan-status-value" data-status=${l.status}><${StatusBadge} status=${l.status} noun="loan" /></dd></div>
      <div><dt>${t('loans.borrower')}</dt><dd id="loan-borrower"><${BeneficiaryLabel} id=${l.beneficiaryId} /></dd></div>
      <div><dt>${t('loans.principal')}</dt><dd id="loan-principal"><${Money} value=${l.principal} currency=${cur} /></dd></div>
      <div><dt>${t('loans.repaid')}</dt><dd id="loan-repaid"><${Money} value=${l.repaid} currency=${cur} /></dd></div>
      <div><dt>${t('loans.outstanding')}</dt><dd id="loan-outstanding"><${Money} value=${l.outstanding} currency=${cur} /></dd></div>
      <div><dt>${t('loans.writtenOff')}</dt><dd><${Money} value=${l.writtenOff} currency=${cur} /></dd></div>
      <div><dt>${t('loans.daysPastDue')}</dt><dd id="loan-days-past-due">${l.ageingBucket ? html`<${Count} value=${l.daysPastDue} /> · ${t(`ageing.${l.ageingBucket}`, {}, l.ageingBucket)}` : '—'}</dd></div>
      <div><dt>${t('loans.applied')}</dt><dd>${fmtDay(l.appliedOn, lang)} · <${StaffName} actor=${l.appliedBy} /></dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd><${StaffName} actor=${l.approvedBy} /> ${l.approvedAt ? html`<span class="muted">(${fmtDate(l.approvedAt, lang, tz)})</span>` : null}</dd></div>
      <div><dt>${t('loans.acceptance')}</dt><dd>${l.acceptance ? html`${fmtDate(l.acceptance.acceptedAt, lang, tz)} · ${l.acceptance.documentRef}` : '—'}</dd></div>
      <div><dt>${t('loans.disbursed')}</dt><dd>${l.disbursedOn ? html`${fmtDay(l.disbursedOn, lang)} · <${StaffName} actor=${l.disbursedBy} />` : '—'}</dd></div>
      <div><dt>${t('loans.terms')}</dt><dd>${l.instalments ? t('loans.termsValue', { n: l.instalments, grace: l.graceMonths ?? 0 }) : '—'}</dd></div>
    </dl>
    ${outstandingOpen && can(me?.role, 'recordRepayment')
      ? html`<form class="panel row" id="repayment-form" onSubmit=${submitRepayment} aria-labelledby="repayment-h">
          <h2 id="repayment-h" class="full">${t('loans.recordRepayment')}</h2>
          <div class="field">
            <label for="repay-amount">${t('lines.amount')}</label>
            <input id="repay-amount" inputmode="decimal" required pattern="[0-9]+(\\.[0-9]{1,2})?" value=${repay.amount} onInput=${(e) => setRepay({ ...repay, amount: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="repay-date">${t('loans.paidOn')}</label>
            <input id="repay-date" type="date" value=${repay.paidOn} onInput=${(e) => setRepay({ ...repay, paidOn: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="repay-reference">${t('loans.bankReference')}</label>
            <input id="repay-reference" required maxlength="100" value=${repay.reference} onInput=${(e) => setRepay({ ...repay, reference: e.currentTarget.value })} />
          </div>
          <div class="field end"><button type="submit" class="btn btn-primary" id="repay-submit">${t('loans.recordRepaymentSubmit')}</button></div>
        </form>`
      : null}
    <h2 id="schedule-h">${t('loans.schedule')}</h2>
    <${ProblemAlert} error=${schedule.error} />
    <${TableWrap}><table class="data" id="loan-schedule" aria-labelledby="schedule-h">
      <thead>
        <tr>
          <th scope="col" class="num">#</th>
          <th scope="col">${t('loans.dueOn')}</th>
          <th scope="col" class="num">${t('lines.amount')}</th>
          <th scope="col" class="num">${t('loans.paid')}</th>
          <th scope="col">${t('cycles.status')}</th>
        </tr>
      </thead>
      <tbody>
        ${schedule.data && schedule.data.length === 0 ? html`<tr><td colspan="5">${t('loans.noSchedule')}</td></tr>` : null}
        ${(schedule.data ?? []).map(
          (i) => html`<tr key=${i.number} data-status=${i.status} class=${i.status === 'late' ? 'row-exception' : ''}>
            <td class="num">${i.number}</td>
            <td class="nowrap">${fmtDay(i.dueOn, lang)}</td>
            <td class="num"><${Money} value=${i.amount} currency=${cur} /></td>
            <td class="num"><${Money} value=${i.paid} currency=${cur} /></td>
            <td><${StatusBadge} status=${i.status} noun="instalment" /></td>
          </tr>`,
        )}
      </tbody>
    </table><//>
  </section>`;
}
