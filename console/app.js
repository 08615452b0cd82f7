// Monedero finance and audit console: Preact + htm as plain ES modules (no build step), hash routes.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, CHANGED_EVENT, getToken, setToken, setUnauthenticatedHandler } from './lib/api.js';
import { storedLang, storeLang, translate } from './lib/i18n.js';
import { can } from './lib/roles.js';
import { html, ProblemAlert, Session, Notice } from './lib/ui.js';
import { ApprovalsPage } from './pages/approvals.js';
import { ArrearsPage, PaymentOrderPage } from './pages/arrears.js';
import { LoanPage, LoansPage } from './pages/loans.js';
import { ComplaintPage, ComplaintsPage } from './pages/complaints.js';
import { CyclePage, CyclesPage } from './pages/cycles.js';
import { PayoutBatchPage, PayoutsPage } from './pages/payouts.js';
import { EventsPage } from './pages/events.js';
import { ExecutionPage } from './pages/execution.js';
import { IntegrityPage } from './pages/integrity.js';
import { MerchantsPage } from './pages/merchants.js';
import { ProgramsPage } from './pages/programs.js';
import { ReconciliationPage } from './pages/reconciliation.js';
import { RemittancePage, TreasuryPage } from './pages/treasury.js';

/** Pages in menu order, each with the permission that shows it. */
const PAGES = [
  { path: '/approvals', key: 'nav.approvals', permission: 'viewApprovals', component: ApprovalsPage, start: ['finance_operator', 'finance_approver'] },
  { path: '/programs', key: 'nav.programs', permission: 'viewPrograms', component: ProgramsPage },
  { path: '/cycles', key: 'nav.cycles', permission: 'viewCycles', component: CyclesPage },
  { path: '/treasury', key: 'nav.treasury', permission: 'viewTreasury', component: TreasuryPage },
  { path: '/payouts', key: 'nav.payouts', permission: 'viewPayouts', component: PayoutsPage },
  { path: '/arrears', key: 'nav.arrears', permission: 'viewArrears', component: ArrearsPage },
  { path: '/loans', key: 'nav.loans', permission: 'viewLoans', component: LoansPage },
  { path: '/merchants', key: 'nav.merchants', permission: ['viewMerchants', 'viewSettlements'], component: MerchantsPage },
  { path: '/complaints', key: 'nav.complaints', permission: 'viewComplaints', component: ComplaintsPage },
  { path: '/execution', key: 'nav.execution', permission: 'viewExecution', component: ExecutionPage },
  { path: '/reconciliation', key: 'nav.reconciliation', permission: 'viewReconciliation', component: ReconciliationPage },
  { path: '/integrity', key: 'nav.integrity', permission: 'viewIntegrity', component: IntegrityPage },
  { path: '/events', key: 'nav.events', permission: 'viewEvents', component: EventsPage },
];

const allowed = (role, page) => [].concat(page.permission).some((p) => can(role, p));

/** Object pages (#/cycles/{id} …): the pattern, the permission, the page and its menu entry. */
const DETAIL_PAGES = [
  { pattern: /^\/cycles\/([0-9a-f-]{36})$/i, permission: 'viewCycles', component: CyclePage },
  { pattern: /^\/remittances\/([0-9a-f-]{36})$/i, permission: 'viewTreasury', component: RemittancePage, menu: '/treasury' },
  { pattern: /^\/payouts\/([0-9a-f-]{36})$/i, permission: 'viewPayouts', component: PayoutBatchPage },
  { pattern: /^\/payment-orders\/([0-9a-f-]{36})$/i, permission: 'viewArrears', component: PaymentOrderPage, menu: '/arrears' },
  { pattern: /^\/loans\/([0-9a-f-]{36})$/i, permission: 'viewLoans', component: LoanPage },
  { pattern: /^\/complaints\/([0-9a-f-]{36})$/i, permission: 'viewComplaints', component: ComplaintPage },
];

function currentRoute() {
  const path = (location.hash.replace(/^#/, '').split('?')[0] || '/').replace(/\/+$/, '') || '/';
  return path;
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function LangToggle({ lang, setLang, t }) {
  const next = lang === 'es' ? 'en' : 'es';
  return html`<button type="button" class="btn btn-ghost" id="lang-toggle" lang=${next} title=${t('lang.switchTo')} onClick=${() => setLang(next)}>
    ${next === 'en' ? 'English' : 'Español'}
  </button>`;
}

function Login({ t, lang, setLang, onLogin, notice }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/v1/auth/token', { body: { username, password }, auth: false });
      setToken(r.accessToken);
      await onLogin();
    } catch (err) {
      setToken(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="login" tabindex="-1">
    <form class="panel login-form" onSubmit=${submit} aria-labelledby="login-h">
      <div class="login-top"><h1 id="login-h">${t('login.title')}</h1><${LangToggle} lang=${lang} setLang=${setLang} t=${t} /></div>
      <p class="muted">${t('login.subtitle')}</p>
      ${notice ? html`<${Notice} kind="warning">${notice}<//>` : null}
      <${ProblemAlert} error=${error} />
      <div class="field">
        <label for="login-username">${t('login.username')}</label>
        <input id="login-username" name="username" autocomplete="username" required autofocus value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="login-password">${t('login.password')}</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      </div>
      <button type="submit" class="btn btn-primary" id="login-submit" disabled=${busy}>${t('login.submit')}</button>
    </form>
  </main>`;
}

function App() {
  const [lang, setLangState] = useState(storedLang());
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(Boolean(getToken()));
  const [notice, setNotice] = useState(null);
  const route = useRoute();
  const mainRef = useRef(null);
  const t = useCallback((key, vars, fallback) => translate(lang, key, vars, fallback), [lang]);
  const setLang = (l) => {
    storeLang(l);
    setLangState(l);
  };
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const loadMe = useCallback(async () => {
    const who = await api('GET', '/v1/auth/me');
    setMe(who);
    setNotice(null);
  }, []);
  const logout = useCallback((message) => {
    setToken(null);
    setMe(null);
    setNotice(message ?? null);
  }, []);
  useEffect(() => {
    setUnauthenticatedHandler(() => logout(translate(storedLang(), 'login.expired')));
    if (getToken()) loadMe().catch(() => setToken(null)).finally(() => setChecking(false));
  }, []);

  const pages = useMemo(() => PAGES.filter((p) => allowed(me?.role, p)), [me]);
  // The header counts what waits for my approval (approvers), refreshed on every navigation.
  const [pending, setPending] = useState(null);
  useEffect(() => {
    if (!me || !can(me.role, 'approveCycle')) return setPending(null);
    const count = () =>
      api('GET', '/v1/console/approvals', { query: { scope: 'to_approve', limit: 1 } }).then(
        (r) => setPending(r.total),
        () => setPending(null),
      );
    count();
    addEventListener(CHANGED_EVENT, count);
    return () => removeEventListener(CHANGED_EVENT, count);
  }, [me, route]);
  // Move focus to the page heading after navigation, so keyboard and screen-reader users follow.
  useEffect(() => {
    const h = mainRef.current?.querySelector('h1');
    if (h) {
      h.setAttribute('tabindex', '-1');
      h.focus({ preventScroll: false });
    }
  }, [route, me]);
  useEffect(() => {
    if (!me) document.title = `${t('login.title')} · ${t('app.short')} · Monedero`;
  }, [t, me]);

  const session = useMemo(() => ({ lang, t, me, setLang }), [lang, t, me]);
  if (checking) return html`<p class="loading" role="status">${t('common.loading')}</p>`;
  if (!me) return html`<${Session.Provider} value=${session}><${Login} t=${t} lang=${lang} setLang=${setLang} onLogin=${loadMe} notice=${notice} /><//>`;

  let page = null;
  let params = {};
  let menuPath = route;
  for (const d of DETAIL_PAGES) {
    const m = d.pattern.exec(route);
    if (m && can(me.role, d.permission)) {
      page = d.component;
      params = { id: m[1] };
      menuPath = d.menu ?? route;
    }
  }
  page ??= pages.find((p) => p.path === route)?.component ?? null;
  if (!page && pages[0] && (route === '/' || !PAGES.some((p) => p.path === route))) {
    const start = pages.find((p) => p.start?.includes(me.role)) ?? pages[0];
    location.replace(`#${start.path}`);
  }
  const Page = page;
  const active = (p) => menuPath === p.path || menuPath.startsWith(`${p.path}/`);
  return html`<${Session.Provider} value=${session}>
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); mainRef.current?.focus(); }}>${t('nav.skip')}</a>
    <header class="top">
      <div class="brand">Monedero <span>${t('app.title')}</span></div>
      <nav aria-label=${t('nav.label')}>
        <ul>
          ${pages.map(
            (p) => html`<li key=${p.path}><a href=${`#${p.path}`} aria-current=${active(p) ? 'page' : undefined}>${t(p.key)}${p.path === '/approvals' && pending !== null
              ? html` <span class="badge count-badge" id="pending-count" data-total=${pending}>${pending}<span class="sr-only"> ${t('approvals.pendingShort')}</span></span>`
              : null}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span id="who-am-i" data-role=${me.role}>${me.username} · ${t(`role.${me.role}`, {}, me.role)}</span>
        <${LangToggle} lang=${lang} setLang=${setLang} t=${t} />
        <button type="button" class="btn btn-ghost" id="logout" onClick=${() => logout()}>${t('nav.logout')}</button>
      </div>
    </header>
    <main id="main" tabindex="-1" ref=${mainRef}>
      ${Page ? html`<${Page} key=${route} ...${params} />` : html`<p>${pages.length ? t('common.notFound') : t('common.noPages')}</p>`}
    </main>
  <//>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "loading" text
render(html`<${App} />`, root);
