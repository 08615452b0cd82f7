import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { navigate } from '../lib/data.js';
import { can } from '../lib/roles.js';
import {
  BeneficiaryLabel,
  Count,
  fmtDate,
  fmtDay,
  html,
  Loading,
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

const CHANNELS = ['in_person', 'writing', 'mailbox', 'phone', 'locatel', 'email', 'web'];
const SUBJECTS = ['staff_noncompliance', 'card_balance', 'wrongful_baja', 'payment', 'registration', 'service', 'other'];
const STATUSES = ['open', 'overdue', 'answered', 'escalated'];
const OUTCOMES = ['refute', 'confirm', 'remedy'];

/** A complaint's status in words; an open one past its deadline says so. */
function ComplaintStatus({ c }) {
  const { t } = useSession();
  return html`<${StatusBadge} status=${c.status} noun="complaint" />${c.overdue ? html` <span class="badge status-overdue">${t('complaints.overdue')}</span>` : null}`;
}

/** Complaints of a program (program officer: intake and answer; auditor: read): deadlines, overdue, by area. */
export function ComplaintsPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('complaints.title'));
  const { programs, programId, program, choose } = useChosenProgram('/complaints');
  const [status, setStatus] = useState('');
  const [form, setForm] = useState({ channel: 'in_person', subject: 'other', description: '' });
  const [error, setError] = useState(null);
  const report = useApi(() => (programId ? api('GET', '/v1/complaints/report', { query: { programId } }) : null), [programId]);
  const list = usePager((cursor) => (programId ? api('GET', '/v1/complaints', { query: { programId, status, limit: PAGE_SIZE, cursor } }) : null), [programId, status]);
  const rows = list.page?.data ?? [];
  const r = report.data;
  const intake = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const c = await api('POST', '/v1/complaints', { idempotent: true, body: { programId, channel: form.channel, subject: form.subject, description: form.description.trim() } });
      navigate(`/complaints/${c.id}`);
    } catch (err) {
      setError(err);
    }
  };
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return html`<section aria-labelledby="complaints-h">
    <h1 id="complaints-h">${t('complaints.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <${StatusSelect} id="complaint-status" value=${status} onChange=${setStatus} statuses=${STATUSES} word=${(s) => t(`complaints.filter.${s}`)} />
    </div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && can(me?.role, 'intakeComplaint')
      ? html`<details class="panel" id="complaint-intake">
          <summary>${t('complaints.intake')}</summary>
          <form onSubmit=${intake} class="row">
            <div class="field">
              <label for="complaint-channel">${t('complaints.channel')}</label>
              <select id="complaint-channel" value=${form.channel} onChange=${set('channel')}>${CHANNELS.map((c) => html`<option value=${c}>${t(`complaints.channel.${c}`)}</option>`)}</select>
            </div>
            <div class="field">
              <label for="complaint-subject">${t('complaints.subject')}</label>
              <select id="complaint-subject" value=${form.subject} onChange=${set('subject')}>${SUBJECTS.map((s) => html`<option value=${s}>${t(`complaints.subject.${s}`)}</option>`)}</select>
            </div>
            <div class="field full-field">
              <label for="complaint-description">${t('complaints.description')}</label>
              <textarea id="complaint-description" required maxlength="4000" rows="3" value=${form.description} onInput=${set('description')}></textarea>
            </div>
            <div class="field end"><button type="submit" class="btn btn-primary" id="complaint-submit">${t('complaints.register')}</button></div>
          </form>
        </details>`
      : null}
    <${ProblemAlert} error=${report.error} />
    ${r
      ? html`<dl class="facts" id="complaints-report">
          <div><dt>${t('complaints.overdueNow', { date: fmtDay(r.asOf, lang) })}</dt><dd id="complaints-overdue" data-n=${r.overdueTotal}><${Count} value=${r.overdueTotal} /></dd></div>
          <div><dt>${t('complaints.openCommitments')}</dt><dd><${Count} value=${r.openCommitments.length} /></dd></div>
          ${r.byArea.map((a) => html`<div key=${a.area}><dt>${a.area}</dt><dd>${t('complaints.areaFigures', { total: a.total, open: a.open, overdue: a.overdue, share: a.share })}</dd></div>`)}
        </dl>`
      : null}
    ${programId && list.loading && !list.page ? html`<${Loading} />` : null}
    <${ProblemAlert} error=${list.error} />
    ${list.page
      ? html`<${Pager} pager=${list} id="complaints-pager" noun=${t('complaints.noun')} />
          <${TableWrap}><table class="data" id="complaints-table">
            <caption>${t('complaints.caption', { code: program?.code ?? '' })}</caption>
            <thead>
              <tr>
                <th scope="col">${t('arrears.folio')}</th>
                <th scope="col">${t('complaints.received')}</th>
                <th scope="col">${t('complaints.subject')}</th>
                <th scope="col">${t('complaints.channel')}</th>
                <th scope="col">${t('complaints.area')}</th>
                <th scope="col">${t('complaints.dueOn')}</th>
                <th scope="col">${t('cycles.status')}</th>
              </tr>
            </thead>
            <tbody>
              ${rows.length === 0 ? html`<tr><td colspan="7">${t('complaints.none')}</td></tr>` : null}
              ${rows.map(
                (c) => html`<tr key=${c.id} data-complaint=${c.id} data-status=${c.status} class=${c.overdue ? 'row-exception' : ''}>
                  <th scope="row" class="nowrap"><a href=${`#/complaints/${c.id}`}>${c.folio}</a></th>
                  <td class="nowrap">${fmtDay(c.receivedOn, lang)}</td>
                  <td>${t(`complaints.subject.${c.subject}`, {}, c.subject)}</td>
                  <td>${t(`complaints.channel.${c.channel}`, {}, c.channel)}</td>
                  <td>${c.area}</td>
                  <td class="nowrap">${fmtDay(c.dueOn, lang)}</td>
                  <td><${ComplaintStatus} c=${c} /></td>
                </tr>`,
              )}
            </tbody>
          </table><//>`
      : null}
  </section>`;
}

/** One complaint: what was said (when the role may read it), its deadline, the answer and its commitments. */
export function ComplaintPage({ id }) {
  const { t, me, lang } = useSession();
  const [error, setError] = useState(null);
  const [form, setForm] = useState({ answer: '', outcome: 'refute', commitment: '', dueOn: '' });
  const head = useApi(() => api('GET', `/v1/complaints/${id}`), [id]);
  const c = head.data;
  usePageTitle(c ? `${t('complaints.one')} ${c.folio}` : t('complaints.one'));
  if (head.loading && !c) return html`<${Loading} />`;
  if (head.error && !c) return html`<${ProblemAlert} error=${head.error} />`;
  const officer = can(me?.role, 'answerComplaint');
  const answer = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const commitments = form.commitment.trim() ? [{ description: form.commitment.trim(), dueOn: form.dueOn }] : undefined;
      await api('POST', `/v1/complaints/${id}/answer`, { body: { answer: form.answer.trim(), outcome: form.outcome, commitments } });
    } catch (err) {
      setError(err);
    } finally {
      head.reload();
    }
  };
  const fulfil = (no) => async () => {
    setError(null);
    try {
      await api('POST', `/v1/complaints/${id}/commitments/${no}/fulfil`);
    } catch (err) {
      setError(err);
    } finally {
      head.reload();
    }
  };
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return html`<section aria-labelledby="complaint-h">
    <p><a href=${`#/complaints?program=${c.programId}`}>← ${t('complaints.back')}</a></p>
    <h1 id="complaint-h">${t('complaints.one')} ${c.folio} <span class="muted">· ${c.programCode}</span></h1>
    ${c.overdue ? html`<div id="complaint-overdue"><${Notice} kind="warning">${t('complaints.overdueNotice', { date: fmtDay(c.dueOn, lang) })}<//></div>` : null}
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="complaint-status-value" data-status=${c.status}><${ComplaintStatus} c=${c} /></dd></div>
      <div><dt>${t('complaints.received')}</dt><dd>${fmtDay(c.receivedOn, lang)} · ${t(`complaints.channel.${c.channel}`, {}, c.channel)}</dd></div>
      <div><dt>${t('complaints.dueOn')}</dt><dd id="complaint-due">${fmtDay(c.dueOn, lang)}</dd></div>
      <div><dt>${t('complaints.subject')}</dt><dd>${t(`complaints.subject.${c.subject}`, {}, c.subject)}</dd></div>
      <div><dt>${t('complaints.area')}</dt><dd>${c.area}</dd></div>
      <div><dt>${t('complaints.beneficiary')}</dt><dd>${c.beneficiaryId ? html`<${BeneficiaryLabel} id=${c.beneficiaryId} />` : '—'}</dd></div>
      ${c.answeredOn ? html`<div><dt>${t('complaints.answered')}</dt><dd>${fmtDay(c.answeredOn, lang)} · <${StaffName} actor=${c.answeredBy} /></dd></div>` : null}
      ${c.escalatedTo ? html`<div><dt>${t('complaints.escalated')}</dt><dd>${t(`complaints.to.${c.escalatedTo}`, {}, c.escalatedTo)} · ${fmtDay(c.escalatedOn, lang)}</dd></div>` : null}
    </dl>
    <h2>${t('complaints.description')}</h2>
    <p id="complaint-description-text">${c.identityWithheld ? html`<em>${t('complaints.withheld')}</em>` : c.description}</p>
    ${c.answer
      ? html`<h2>${t('complaints.answer')}</h2>
          <p id="complaint-answer"><span class="badge">${t(`complaints.outcome.${c.outcome}`, {}, c.outcome)}</span> ${c.answer}</p>`
      : null}
    ${c.commitments.length
      ? html`<${TableWrap}><table class="data" id="complaint-commitments">
          <caption>${t('complaints.commitments')}</caption>
          <thead><tr><th scope="col" class="num">#</th><th scope="col">${t('complaints.commitment')}</th><th scope="col">${t('complaints.dueOn')}</th><th scope="col">${t('complaints.fulfilled')}</th></tr></thead>
          <tbody>
            ${c.commitments.map(
              (k) => html`<tr key=${k.commitmentNo}>
                <td class="num">${k.commitmentNo}</td>
                <td>${k.description}</td>
                <td class="nowrap">${fmtDay(k.dueOn, lang)}</td>
                <td>${k.fulfilledOn
                  ? fmtDay(k.fulfilledOn, lang)
                  : officer
                    ? html`<button type="button" class="btn btn-secondary" onClick=${fulfil(k.commitmentNo)} aria-label=${`${t('complaints.fulfil')} ${k.commitmentNo}`}>${t('complaints.fulfil')}</button>`
                    : t('complaints.pending')}</td>
              </tr>`,
            )}
          </tbody>
        </table><//>`
      : null}
    ${c.status === 'open' && officer
      ? html`<form class="panel" id="answer-form" onSubmit=${answer} aria-labelledby="answer-h">
          <h2 id="answer-h">${t('complaints.answerTitle')}</h2>
          <div class="field">
            <label for="answer-text">${t('complaints.answer')}</label>
            <textarea id="answer-text" required maxlength="4000" rows="4" value=${form.answer} onInput=${set('answer')}></textarea>
          </div>
          <div class="row">
            <div class="field">
              <label for="answer-outcome">${t('complaints.outcome')}</label>
              <select id="answer-outcome" value=${form.outcome} onChange=${set('outcome')}>${OUTCOMES.map((o) => html`<option value=${o}>${t(`complaints.outcome.${o}`)}</option>`)}</select>
            </div>
            <div class="field">
              <label for="answer-commitment">${t('complaints.commitmentOptional')}</label>
              <input id="answer-commitment" maxlength="1000" value=${form.commitment} onInput=${set('commitment')} />
            </div>
            <div class="field">
              <label for="answer-due">${t('complaints.commitmentDue')}</label>
              <input id="answer-due" type="date" required=${Boolean(form.commitment.trim())} value=${form.dueOn} onInput=${set('dueOn')} />
            </div>
            <div class="field end"><button type="submit" class="btn btn-primary" id="answer-submit">${t('complaints.send')}</button></div>
          </div>
        </form>`
      : null}
    <p class="muted">${t('complaints.registered', { when: fmtDate(c.createdAt, lang, c.timeZone) })}</p>
  </section>`;
}
