import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { hashQuery, loadPrograms, navigate, rememberedProgram, rememberProgram } from '../lib/data.js';
import { actorName, can } from '../lib/roles.js';
import { ActionButton, Count, fmtDate, html, Loading, Money, Notice, ProblemAlert, ProgramSelect, ProgressBar, StatusBadge, useApi, useSession } from '../lib/ui.js';

const ACTIVE = ['approved', 'running'];
const FINAL = ['completed', 'completed_with_exceptions', 'cancelled'];

function done(c) {
  return FINAL.includes(c.status) && c.status !== 'cancelled' ? c.controlCount : (c.postedCount ?? 0) + (c.exceptionCount ?? 0);
}

/** The program's cycles (status, control totals, progress) and, for operators, a new draft. */
export function CyclesPage() {
  const { t, me } = useSession();
  const programs = useApi(loadPrograms, []);
  const [programId, setProgramId] = useState(hashQuery().program || rememberedProgram());
  const choose = (id) => {
    setProgramId(id);
    rememberProgram(id);
    navigate('/cycles', { program: id });
  };
  const cycles = useApi(() => (programId ? api('GET', `/v1/console/programs/${programId}/cycles`, { query: { limit: 100 } }) : null), [programId]);
  // While any cycle runs, refresh the list every second.
  const running = (cycles.data?.data ?? []).some((c) => ACTIVE.includes(c.status));
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(cycles.reload, 1000);
    return () => clearInterval(timer);
  }, [running, cycles.reload]);
  const program = (programs.data ?? []).find((p) => p.id === programId);

  return html`<section aria-labelledby="cycles-h">
    <h1 id="cycles-h">${t('cycles.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
    ${programId && can(me?.role, 'prepareCycle') ? html`<${PrepareCycle} programId=${programId} onCreated=${(c) => navigate(`/cycles/${c.id}`)} />` : null}
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && cycles.loading && !cycles.data ? html`<${Loading} />` : null}
    ${cycles.error ? html`<${ProblemAlert} error=${cycles.error} />` : null}
    ${cycles.data
      ? html`<table class="data" id="cycles-table">
          <caption>${t('cycles.caption', { code: program?.code ?? '' })}</caption>
          <thead>
            <tr>
              <th scope="col">${t('cycles.period')}</th>
              <th scope="col">${t('cycles.kind')}</th>
              <th scope="col">${t('cycles.status')}</th>
              <th scope="col" class="num">${t('cycles.controlCount')}</th>
              <th scope="col" class="num">${t('cycles.controlTotal')}</th>
              <th scope="col" class="num">${t('cycles.postedTotal')}</th>
              <th scope="col" class="num">${t('cycles.exceptions')}</th>
              <th scope="col">${t('cycles.progress')}</th>
              <th scope="col">${t('cycles.preparedBy')}</th>
            </tr>
          </thead>
          <tbody>
            ${cycles.data.data.length === 0 ? html`<tr><td colspan="9">${t('cycles.none')}</td></tr>` : null}
            ${cycles.data.data.map(
              (c) => html`<tr key=${c.id} data-cycle=${c.id}>
                <th scope="row"><a href=${`#/cycles/${c.id}`}>${c.period}${c.loadNumber ? ` #${c.loadNumber}` : ''}</a></th>
                <td>${t(`kind.${c.kind}`, {}, c.kind)}</td>
                <td><${StatusBadge} status=${c.status} /></td>
                <td class="num"><${Count} value=${c.controlCount} /></td>
                <td class="num"><${Money} value=${c.controlTotal} currency=${program?.currency} /></td>
                <td class="num"><${Money} value=${c.postedTotal} currency=${program?.currency} /></td>
                <td class="num"><${Count} value=${c.exceptionCount} /></td>
                <td><${ProgressBar} done=${done(c)} total=${c.controlCount} label=${t('cycles.progressOf', { period: c.period })} /></td>
                <td>${c.preparedBy}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
  </section>`;
}

function PrepareCycle({ programId, onCreated }) {
  const { t } = useSession();
  const [period, setPeriod] = useState('');
  const [kind, setKind] = useState('deposit');
  const [scheduledFor, setScheduledFor] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // One Idempotency-Key per intended draft: a double submit or a retry never makes two.
  const key = useRef(null);
  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    key.current ??= `console-cycle-${crypto.randomUUID()}`;
    try {
      const body = { period, kind, ...(scheduledFor ? { scheduledFor: new Date(scheduledFor).toISOString() } : {}) };
      const c = await api('POST', `/v1/programs/${programId}/cycles`, { body, idempotent: key.current });
      key.current = null;
      onCreated(c);
    } catch (err) {
      if (err.status !== 409 || err.code === 'cycle_exists') key.current = null;
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="prepare-h" id="prepare-cycle">
    <h2 id="prepare-h">${t('cycles.prepare')}</h2>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    <div class="row">
      <div class="field">
        <label for="cycle-period">${t('cycles.period')}</label>
        <input id="cycle-period" name="period" required pattern="\\d{4}-\\d{2}" placeholder="2016-03" value=${period} onInput=${(e) => setPeriod(e.currentTarget.value)} aria-describedby="cycle-period-help" />
        <small id="cycle-period-help">${t('cycles.periodHelp')}</small>
      </div>
      <div class="field">
        <label for="cycle-kind">${t('cycles.kind')}</label>
        <select id="cycle-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          <option value="deposit">${t('kind.deposit')}</option>
          <option value="tranche">${t('kind.tranche')}</option>
        </select>
      </div>
      <div class="field">
        <label for="cycle-scheduled">${t('cycles.scheduledFor')}</label>
        <input id="cycle-scheduled" type="datetime-local" value=${scheduledFor} onInput=${(e) => setScheduledFor(e.currentTarget.value)} />
      </div>
    </div>
    <button type="submit" class="btn btn-primary" id="prepare-submit" disabled=${busy}>${t('cycles.prepareSubmit')}</button>
  </form>`;
}

/** One cycle: status, control totals, live progress, Approve/Cancel, and its lines with exceptions. */
export function CyclePage({ id }) {
  const { t, me, lang } = useSession();
  const cycle = useApi(() => api('GET', `/v1/cycles/${id}`), [id]);
  const [actionError, setActionError] = useState(null);
  const [message, setMessage] = useState(null);
  const c = cycle.data;
  const program = useApi(() => (c?.programId ? api('GET', `/v1/programs/${c.programId}`) : null), [c?.programId]);
  const currency = program.data?.currency;
  // Live progress: poll GET /v1/cycles/{id} every second while it is approved or running.
  const live = c && ACTIVE.includes(c.status);
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(cycle.reload, 1000);
    return () => clearInterval(timer);
  }, [live, cycle.reload]);

  if (cycle.loading && !c) return html`<${Loading} />`;
  if (cycle.error && !c) return html`<${ProblemAlert} error=${cycle.error} />`;
  const isPreparer = c.preparedBy === actorName(me);
  const showApprove = c.status === 'draft' && can(me?.role, 'approveCycle') && !isPreparer;
  const showCancel = ['draft', 'approved'].includes(c.status) && can(me?.role, 'cancelCycle');
  const act = (verb) => async () => {
    setActionError(null);
    setMessage(null);
    try {
      await api('POST', `/v1/cycles/${id}/${verb}`);
      setMessage(t(verb === 'approve' ? 'cycles.approvedMsg' : 'cycles.cancelledMsg'));
    } catch (e) {
      setActionError(e);
    }
    cycle.reload();
  };
  return html`<section aria-labelledby="cycle-h">
    <p><a href=${`#/cycles?program=${c.programId}`}>← ${t('cycles.back')}</a></p>
    <h1 id="cycle-h">${t('cycles.cycle')} ${c.period} ${program.data ? html`<span class="muted">· ${program.data.code}</span>` : null}</h1>
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="cycle-status" data-status=${c.status}><${StatusBadge} status=${c.status} /></dd></div>
      <div><dt>${t('cycles.kind')}</dt><dd>${t(`kind.${c.kind}`, {}, c.kind)}</dd></div>
      <div><dt>${t('cycles.paymentDate')}</dt><dd>${c.paymentDate ?? '—'}</dd></div>
      <div><dt>${t('cycles.controlCount')}</dt><dd id="cycle-control-count"><${Count} value=${c.controlCount} /></dd></div>
      <div><dt>${t('cycles.controlTotal')}</dt><dd id="cycle-control-total"><${Money} value=${c.controlTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.postedCount')}</dt><dd><${Count} value=${c.postedCount} /></dd></div>
      <div><dt>${t('cycles.postedTotal')}</dt><dd id="cycle-posted-total"><${Money} value=${c.postedTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.exceptions')}</dt><dd><${Count} value=${c.exceptionCount} /> · <${Money} value=${c.exceptionTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.preparedBy')}</dt><dd>${c.preparedBy}</dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd>${c.approvedBy ?? '—'} ${c.approvedAt ? html`<span class="muted">(${fmtDate(c.approvedAt, lang)})</span>` : null}</dd></div>
      <div><dt>${t('cycles.completedAt')}</dt><dd>${fmtDate(c.completedAt, lang)}</dd></div>
    </dl>
    <div class="field">
      <span id="cycle-progress-label">${t('cycles.progress')}</span>
      <${ProgressBar} done=${done(c)} total=${c.controlCount} label=${t('cycles.progress')} />
      ${live ? html`<p class="muted" aria-live="polite">${t('cycles.live')}</p>` : null}
    </div>
    <div aria-live="polite">${message ? html`<${Notice} kind="success">${message}<//>` : null}</div>
    <${ProblemAlert} error=${actionError} onDismiss=${() => setActionError(null)} />
    <div class="actions">
      ${showApprove ? html`<${ActionButton} id="approve-cycle" onAction=${act('approve')}>${t('cycles.approve')}<//>` : null}
      ${showCancel ? html`<${ActionButton} id="cancel-cycle" kind="danger" onAction=${act('cancel')}>${t('cycles.cancel')}<//>` : null}
      ${c.status === 'draft' && can(me?.role, 'approveCycle') && isPreparer ? html`<p class="muted" id="preparer-note">${t('cycles.preparerCannotApprove')}</p>` : null}
    </div>
    <${CycleLines} id=${id} currency=${currency} version=${`${c.status}:${c.postedCount}:${c.exceptionCount}`} />
  </section>`;
}

function CycleLines({ id, currency, version }) {
  const { t } = useSession();
  const [pages, setPages] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [onlyExceptions, setOnlyExceptions] = useState(false);
  const load = async (after) => {
    try {
      const page = await api('GET', `/v1/cycles/${id}/lines`, { query: { limit: 100, cursor: after ?? undefined } });
      setPages((p) => (after ? [...p, ...page.data] : page.data));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load(null);
  }, [id, version]);
  const rows = onlyExceptions ? pages.filter((l) => l.status === 'exception') : pages;
  return html`<section aria-labelledby="lines-h">
    <h2 id="lines-h">${t('lines.title')}</h2>
    <${ProblemAlert} error=${error} />
    <div class="field inline">
      <input type="checkbox" id="only-exceptions" checked=${onlyExceptions} onChange=${(e) => setOnlyExceptions(e.currentTarget.checked)} />
      <label for="only-exceptions">${t('lines.onlyExceptions')}</label>
    </div>
    <table class="data" id="lines-table">
      <caption>${t('lines.caption', { n: String(pages.length) })}</caption>
      <thead>
        <tr>
          <th scope="col" class="num">#</th>
          <th scope="col">${t('lines.beneficiary')}</th>
          <th scope="col" class="num">${t('lines.amount')}</th>
          <th scope="col">${t('lines.status')}</th>
          <th scope="col">${t('lines.exception')}</th>
          <th scope="col">${t('lines.entry')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.length === 0 ? html`<tr><td colspan="6">${t('lines.none')}</td></tr>` : null}
        ${rows.map(
          (l) => html`<tr key=${l.lineNo} class=${l.status === 'exception' ? 'row-exception' : ''}>
            <td class="num">${l.lineNo}</td>
            <td><code>${l.beneficiaryId}</code></td>
            <td class="num"><${Money} value=${l.amount} currency=${currency} /></td>
            <td><${StatusBadge} status=${`line_${l.status}`} /></td>
            <td>${l.exceptionReason ?? ''}</td>
            <td>${l.journalEntryId ? html`<code>${l.journalEntryId}</code>` : '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${cursor ? html`<button type="button" class="btn btn-secondary" onClick=${() => load(cursor)}>${t('common.loadMore')}</button>` : null}
  </section>`;
}
