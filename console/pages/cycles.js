import { useEffect, useRef, useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { hashQuery, navigate } from '../lib/data.js';
import { subtractMoney } from '../lib/money.js';
import { actorName, can } from '../lib/roles.js';
import {
  ConfirmButton,
  Count,
  CsvButton,
  fmtDate,
  fmtDay,
  fmtPeriod,
  html,
  Loading,
  Money,
  Notice,
  PAGE_SIZE,
  Pager,
  ProblemAlert,
  ProgramSelect,
  ProgressBar,
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

const ACTIVE = ['approved', 'running'];
const FINAL = ['completed', 'completed_with_exceptions', 'cancelled'];
/** A bar only where lines are being or were posted: never on a draft or a cancelled cycle. */
const WITH_PROGRESS = ['approved', 'running', 'completed', 'completed_with_exceptions'];

function done(c) {
  return FINAL.includes(c.status) && c.status !== 'cancelled' ? c.controlCount : (c.postedCount ?? 0) + (c.exceptionCount ?? 0);
}

/** Approved for a later date: waiting, not running. */
function waitingForDate(c) {
  return c.status === 'approved' && c.scheduledFor && new Date(c.scheduledFor).getTime() > Date.now() + 2000;
}

/** The program's cycles (status, control totals, progress) and, for operators, a new draft. */
export function CyclesPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('cycles.title'));
  const { programs, programId, choose } = useChosenProgram('/cycles');
  const [status, setStatus] = useState('');
  const cycles = usePager(
    (cursor) => (programId ? api('GET', `/v1/console/programs/${programId}/cycles`, { query: { limit: PAGE_SIZE, cursor, status } }) : null),
    [programId, status],
  );
  // While any cycle runs, refresh the list every second.
  const running = (cycles.page?.data ?? []).some((c) => ACTIVE.includes(c.status) && !waitingForDate(c));
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(cycles.reload, 1000);
    return () => clearInterval(timer);
  }, [running, cycles.cursor, cycles.stack]);
  const program = (programs.data ?? []).find((p) => p.id === programId);
  const tz = program?.timeZone;

  return html`<section aria-labelledby="cycles-h">
    <h1 id="cycles-h">${t('cycles.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <${StatusSelect} id="cycle-status-filter" value=${status} onChange=${setStatus}
        statuses=${['draft', 'approved', 'running', 'completed', 'completed_with_exceptions', 'cancelled']} word=${(s) => t(`status.${s}`)} />
    </div>
    ${programId && can(me?.role, 'prepareCycle') ? html`<${PrepareCycle} program=${program} programId=${programId} onCreated=${(c) => navigate(`/cycles/${c.id}`)} />` : null}
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && cycles.loading && !cycles.page ? html`<${Loading} />` : null}
    ${cycles.error ? html`<${ProblemAlert} error=${cycles.error} />` : null}
    ${cycles.page
      ? html`<${TableWrap}><table class="data" id="cycles-table">
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
              <th scope="col">${t('cycles.approvedBy')}</th>
            </tr>
          </thead>
          <tbody>
            ${cycles.page.data.length === 0 ? html`<tr><td colspan="10">${t('cycles.none')}</td></tr>` : null}
            ${cycles.page.data.map(
              (c) => html`<tr key=${c.id} data-cycle=${c.id}>
                <th scope="row" class="nowrap"><a href=${`#/cycles/${c.id}`}>${fmtPeriod(c.period, lang)}${c.loadNumber ? ` #${c.loadNumber}` : ''}</a></th>
                <td>${t(`kind.${c.kind}`, {}, c.kind)}</td>
                <td><${StatusBadge} status=${c.status} />${waitingForDate(c) ? html`<br /><small>${t('cycles.scheduledShort', { when: fmtDate(c.scheduledFor, lang, tz) })}</small>` : null}</td>
                <td class="num"><${Count} value=${c.controlCount} /></td>
                <td class="num"><${Money} value=${c.controlTotal} currency=${program?.currency} /></td>
                <td class="num"><${Money} value=${c.postedTotal} currency=${program?.currency} /></td>
                <td class="num"><${Count} value=${c.exceptionCount} /></td>
                <td>${WITH_PROGRESS.includes(c.status) && !waitingForDate(c) ? html`<${ProgressBar} done=${done(c)} total=${c.controlCount} label=${t('cycles.progressOf', { period: c.period })} />` : '—'}</td>
                <td><${StaffName} actor=${c.preparedBy} /></td>
                <td><${StaffName} actor=${c.approvedBy} /></td>
              </tr>`,
            )}
          </tbody>
        </table><//>
        <${Pager} pager=${cycles} id="cycles-pager" noun=${t('cycles.noun')} />`
      : null}
  </section>`;
}

/** "2016-03" for the month input's value. */
function nextMonth(today = new Date()) {
  return `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}`;
}

function PrepareCycle({ program, programId, onCreated }) {
  const { t } = useSession();
  const [period, setPeriod] = useState('');
  const [kind, setKind] = useState(program?.instrumentType === 'grant' ? 'tranche' : 'deposit');
  const [scheduledFor, setScheduledFor] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setKind(program?.instrumentType === 'grant' ? 'tranche' : 'deposit'), [program?.instrumentType]);
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
  // Ministración (tranches) only for grant programs; deposits for the rest.
  const kinds = program?.instrumentType === 'grant' ? ['tranche'] : ['deposit'];
  return html`<details class="panel" id="prepare-cycle-panel">
    <summary>${t('cycles.prepare')}</summary>
    <form onSubmit=${submit} aria-label=${t('cycles.prepare')} id="prepare-cycle">
      <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
      <div class="row">
        <div class="field">
          <label for="cycle-period">${t('cycles.period')}</label>
          <input id="cycle-period" name="period" type="month" required min=${program ? `${program.fiscalYear}-01` : undefined} max=${program ? `${program.fiscalYear}-12` : undefined}
            value=${period} onInput=${(e) => setPeriod(e.currentTarget.value)} aria-describedby="cycle-period-help" />
          <small id="cycle-period-help">${t('cycles.periodHelp', { year: program?.fiscalYear ?? nextMonth().slice(0, 4) })}</small>
        </div>
        <div class="field">
          <label for="cycle-kind">${t('cycles.kind')}</label>
          <select id="cycle-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
            ${kinds.map((k) => html`<option value=${k}>${t(`kind.${k}`)}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="cycle-scheduled">${t('cycles.scheduledFor')}</label>
          <input id="cycle-scheduled" type="datetime-local" value=${scheduledFor} onInput=${(e) => setScheduledFor(e.currentTarget.value)} />
        </div>
      </div>
      <button type="submit" class="btn btn-primary" id="prepare-submit" disabled=${busy}>${t('cycles.prepareSubmit')}</button>
    </form>
  </details>`;
}

/** The cycle before this one (same kind, earlier period, not cancelled), to compare people and money. */
async function previousCycle(c) {
  const page = await api('GET', `/v1/console/programs/${c.programId}/cycles`, { query: { limit: 50 } });
  return page.data.find((o) => o.id !== c.id && o.kind === c.kind && o.period < c.period && o.status !== 'cancelled') ?? null;
}

/** What the approver must know before approving: budget, last period, exclusions, schedule, who and when. */
function ApprovalFacts({ c, program, previous }) {
  const { t, lang } = useSession();
  const currency = program?.currency;
  const available = program?.budget?.available;
  const after = available !== undefined ? subtractMoney(available, c.controlTotal) : null;
  const exclusions = Object.entries(c.exclusions ?? {});
  const excluded = exclusions.reduce((n, [, v]) => n + Number(v), 0);
  return html`<section class="panel approval" aria-labelledby="approval-h" id="approval-facts">
    <h2 id="approval-h">${t('approval.title')}</h2>
    <dl class="facts">
      <div><dt>${t('approval.amount')}</dt><dd><${Money} value=${c.controlTotal} currency=${currency} /> · ${t('approval.people', { n: c.controlCount.toLocaleString('es-MX') })}</dd></div>
      <div><dt>${t('budget.available')}</dt><dd id="approval-available"><${Money} value=${available} currency=${currency} /></dd></div>
      <div><dt>${t('approval.after')}</dt><dd id="approval-after">${after ? html`<${Money} value=${after} currency=${currency} />` : '—'}</dd></div>
      <div>
        <dt>${t('approval.previous')}</dt>
        <dd id="approval-previous">
          ${previous
            ? html`${fmtPeriod(previous.period, lang)}: <${Count} value=${previous.controlCount} /> → <${Count} value=${c.controlCount} /> (${signed(c.controlCount - previous.controlCount)}) · <${Money} value=${subtractMoney(c.controlTotal, previous.controlTotal)} currency=${currency} />`
            : t('approval.noPrevious')}
        </dd>
      </div>
      <div><dt>${t('cycles.scheduledFor')}</dt><dd id="approval-scheduled">${c.scheduledFor ? fmtDate(c.scheduledFor, lang, program?.timeZone) : t('approval.onApproval')}</dd></div>
      <div><dt>${t('cycles.paymentDate')}</dt><dd>${fmtDay(c.paymentDate, lang)}</dd></div>
      <div><dt>${t('approval.prepared')}</dt><dd id="approval-prepared"><${StaffName} actor=${c.preparedBy} /> · ${fmtDate(c.createdAt, lang, program?.timeZone)}</dd></div>
    </dl>
    <h3>${t('approval.exclusions', { n: excluded.toLocaleString('es-MX') })}</h3>
    ${exclusions.length
      ? html`<ul id="approval-exclusions">${exclusions.map(([reason, n]) => html`<li key=${reason}>${t(`reason.${reason}`, {}, reason)}: <${Count} value=${n} /></li>`)}</ul>`
      : html`<p class="muted">${t('approval.noExclusions')}</p>`}
  </section>`;
}

function signed(n) {
  return `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toLocaleString('es-MX')}`;
}

/** One cycle: the approval facts, Approve/Cancel with confirmation, honest status, and its lines. */
export function CyclePage({ id }) {
  const { t, me, lang } = useSession();
  const cycle = useApi(() => api('GET', `/v1/cycles/${id}`), [id]);
  const [actionError, setActionError] = useState(null);
  const c = cycle.data;
  const program = useApi(() => (c?.programId ? api('GET', `/v1/programs/${c.programId}`) : null), [c?.programId]);
  const previous = useApi(() => (c?.status === 'draft' ? previousCycle(c) : null), [c?.id, c?.status]);
  const currency = program.data?.currency;
  const tz = program.data?.timeZone;
  usePageTitle(c ? `${t('cycles.cycle')} ${fmtPeriod(c.period, lang)}${program.data ? ` · ${program.data.code}` : ''}` : t('cycles.cycle'));
  // Live progress: poll every second while it runs (not while it waits for its scheduled date).
  const live = c && ACTIVE.includes(c.status) && !waitingForDate(c);
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
  const act = (verb) => async (reason) => {
    setActionError(null);
    try {
      await api('POST', `/v1/cycles/${id}/${verb}`, { body: verb === 'cancel' ? { reason } : undefined });
    } finally {
      cycle.reload();
    }
  };
  const name = `${fmtPeriod(c.period, lang)}${program.data ? ` · ${program.data.code}` : ''}`;
  return html`<section aria-labelledby="cycle-h">
    <p><a href=${`#/cycles?program=${c.programId}`}>← ${t('cycles.back')}</a></p>
    <h1 id="cycle-h">${t('cycles.cycle')} ${fmtPeriod(c.period, lang)} ${program.data ? html`<span class="muted">· ${program.data.code}</span>` : null}</h1>
    <div class="actions top-actions">
      ${showApprove
        ? html`<${ConfirmButton} id="approve-cycle" label=${t('cycles.approve')} title=${t('cycles.approveTitle', { name })} confirmLabel=${t('cycles.approveConfirm')} onConfirm=${act('approve')} onError=${setActionError}>
            <p>${t('cycles.approveRestate', { n: c.controlCount.toLocaleString('es-MX') })} <strong><${Money} value=${c.controlTotal} currency=${currency} /></strong>.</p>
            <p>${t('budget.available')}: <${Money} value=${program.data?.budget?.available} currency=${currency} />.</p>
          <//>`
        : null}
      ${showCancel
        ? html`<${ConfirmButton} id="cancel-cycle" kind="danger" label=${t('cycles.cancel')} title=${t('cycles.cancelTitle', { name })} confirmLabel=${t('cycles.cancelConfirm')} askReason onConfirm=${act('cancel')} onError=${setActionError}>
            <p>${c.status === 'approved' ? t('cycles.cancelApproved') : t('cycles.cancelDraft')} <strong><${Money} value=${c.controlTotal} currency=${currency} /></strong></p>
          <//>`
        : null}
    </div>
    ${c.status === 'draft' && isPreparer ? html`<div id="sent-for-approval"><${Notice} kind="info">${t('cycles.sentForApproval')}<//></div>` : null}
    ${c.status === 'draft' && can(me?.role, 'approveCycle') && isPreparer ? html`<p class="muted" id="preparer-note">${t('cycles.preparerCannotApprove')}</p>` : null}
    ${waitingForDate(c) ? html`<div id="cycle-scheduled"><${Notice} kind="info">${t('cycles.waitingFor', { when: fmtDate(c.scheduledFor, lang, tz) })}<//></div>` : null}
    ${c.status === 'cancelled'
      ? html`<div id="cycle-cancelled"><${Notice} kind="warning">${t('cycles.cancelledBy', { who: (c.cancelledBy ?? '').replace(/^user:/, ''), when: fmtDate(c.cancelledAt, lang, tz) })}${c.cancelReason ? html` ${t('common.reason')}: «${c.cancelReason}»` : null}<//></div>`
      : null}
    <${ProblemAlert} error=${actionError} onDismiss=${() => setActionError(null)} />
    ${c.status === 'draft' ? html`<${ApprovalFacts} c=${c} program=${program.data} previous=${previous.data} />` : null}
    <dl class="facts">
      <div><dt>${t('cycles.status')}</dt><dd id="cycle-status" data-status=${c.status}><${StatusBadge} status=${c.status} /></dd></div>
      <div><dt>${t('cycles.kind')}</dt><dd>${t(`kind.${c.kind}`, {}, c.kind)}</dd></div>
      <div><dt>${t('cycles.paymentDate')}</dt><dd>${fmtDay(c.paymentDate, lang)}</dd></div>
      <div><dt>${t('cycles.controlCount')}</dt><dd id="cycle-control-count"><${Count} value=${c.controlCount} /></dd></div>
      <div><dt>${t('cycles.controlTotal')}</dt><dd id="cycle-control-total"><${Money} value=${c.controlTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.postedCount')}</dt><dd><${Count} value=${c.postedCount} /></dd></div>
      <div><dt>${t('cycles.postedTotal')}</dt><dd id="cycle-posted-total"><${Money} value=${c.postedTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.exceptions')}</dt><dd id="cycle-exceptions"><${Count} value=${c.exceptionCount} /> · <${Money} value=${c.exceptionTotal} currency=${currency} /></dd></div>
      <div><dt>${t('cycles.preparedBy')}</dt><dd><${StaffName} actor=${c.preparedBy} /> <span class="muted">(${fmtDate(c.createdAt, lang, tz)})</span></dd></div>
      <div><dt>${t('cycles.approvedBy')}</dt><dd><${StaffName} actor=${c.approvedBy} /> ${c.approvedAt ? html`<span class="muted">(${fmtDate(c.approvedAt, lang, tz)})</span>` : null}</dd></div>
      <div><dt>${t('cycles.completedAt')}</dt><dd>${fmtDate(c.completedAt, lang, tz)}</dd></div>
    </dl>
    ${WITH_PROGRESS.includes(c.status) && !waitingForDate(c)
      ? html`<div class="field">
          <span id="cycle-progress-label">${t('cycles.progress')}</span>
          <${ProgressBar} done=${done(c)} total=${c.controlCount} label=${t('cycles.progress')} />
          ${live ? html`<p class="muted" aria-live="polite" id="cycle-live">${t('cycles.live')}</p>` : null}
        </div>`
      : null}
    <${CycleLines} c=${c} currency=${currency} programCode=${program.data?.code} version=${`${c.status}:${c.postedCount}:${c.exceptionCount}`} />
  </section>`;
}

const LINE_FILTERS = ['', 'exception', 'posted', 'pending', 'cancelled'];

/** The cycle's lines, filtered, searched and exported on the server, paged with their total. */
function CycleLines({ c, currency, version }) {
  const { t } = useSession();
  const initial = hashQuery();
  const [status, setStatus] = useState(LINE_FILTERS.includes(initial.lines) ? initial.lines : '');
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const [error, setError] = useState(null);
  const pager = usePager((cursor) => api('GET', `/v1/cycles/${c.id}/lines`, { query: { limit: PAGE_SIZE, cursor, status, q } }), [c.id, version, status, q]);
  const rows = pager.page?.data ?? [];
  const search = (e) => {
    e.preventDefault();
    setQ(text.trim());
  };
  return html`<section aria-labelledby="lines-h">
    <h2 id="lines-h">${t('lines.title')}</h2>
    <form class="row filters" onSubmit=${search} role="search" aria-label=${t('lines.filters')}>
      <div class="field">
        <label for="lines-status">${t('lines.show')}</label>
        <select id="lines-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          ${LINE_FILTERS.map((s) => html`<option value=${s}>${t(s ? `lines.only.${s}` : 'lines.all')}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="lines-q">${t('lines.search')}</label>
        <input id="lines-q" type="search" value=${text} maxlength="100" onInput=${(e) => setText(e.currentTarget.value)} aria-describedby="lines-q-help" />
        <small id="lines-q-help">${t('lines.searchHelp')}</small>
      </div>
      <div class="field end"><button type="submit" class="btn btn-secondary" id="lines-search">${t('events.search')}</button></div>
      <div class="field end">
        <${CsvButton}
          label=${t('lines.csv')}
          onError=${setError}
          run=${() => downloadCsv(`/v1/cycles/${c.id}/lines`, { format: 'csv', status, q }, `lineas-${c.period}.csv`)}
        />
      </div>
    </form>
    <${ProblemAlert} error=${error ?? pager.error} />
    <${Pager} pager=${pager} id="lines-pager" noun=${t('lines.noun')} />
    <${TableWrap}><table class="data" id="lines-table" aria-busy=${pager.loading ? 'true' : 'false'}>
      <caption>${t('lines.caption', { period: c.period })}</caption>
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
        ${!pager.loading && rows.length === 0 ? html`<tr><td colspan="6">${t('lines.none')}</td></tr>` : null}
        ${rows.map(
          (l) => html`<tr key=${l.lineNo} class=${l.status === 'exception' ? 'row-exception' : ''} data-status=${l.status}>
            <td class="num">${l.lineNo}</td>
            <td><span class="folio">${l.folio}</span>${l.name ? html`<br /><span class="muted">${l.name}</span>` : null}</td>
            <td class="num"><${Money} value=${l.amount} currency=${currency} /></td>
            <td><${StatusBadge} status=${`line_${l.status}`} /></td>
            <td>${l.exceptionReason ? t(`reason.${l.exceptionReason}`, {}, l.exceptionReason) : ''}</td>
            <td>${l.journalEntryId ? html`<code title=${l.journalEntryId}>${l.journalEntryId.slice(0, 8)}</code>` : '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table><//>
    <${Pager} pager=${pager} id="lines-pager-bottom" noun=${t('lines.noun')} />
  </section>`;
}
