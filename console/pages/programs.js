import { useState } from 'preact/hooks';
import { downloadCsv } from '../lib/api.js';
import { loadPrograms, navigate, rememberProgram } from '../lib/data.js';
import { can } from '../lib/roles.js';
import { BudgetChart, CsvButton, html, Loading, Money, ProblemAlert, useApi, useSession, TableWrap, usePageTitle } from '../lib/ui.js';

/** Programs with their budget (appropriated, disbursed, available, reintegrated) as bar charts. */
export function ProgramsPage() {
  const { t, me } = useSession();
  usePageTitle(t('programs.title'));
  const programs = useApi(loadPrograms, []);
  const [error, setError] = useState(null);
  if (programs.loading && !programs.data) return html`<${Loading} />`;
  if (programs.error) return html`<${ProblemAlert} error=${programs.error} />`;
  const list = programs.data ?? [];
  const open = (p, page) => {
    rememberProgram(p.id);
    navigate(page, { program: p.id });
  };
  return html`<section aria-labelledby="programs-h">
    <h1 id="programs-h">${t('programs.title')}</h1>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${list.length === 0 ? html`<p>${t('programs.none')}</p>` : null}
    <${TableWrap}><table class="data">
      <caption>${t('programs.caption')}</caption>
      <thead>
        <tr>
          <th scope="col">${t('programs.code')}</th>
          <th scope="col">${t('programs.name')}</th>
          <th scope="col">${t('programs.year')}</th>
          <th scope="col" class="num">${t('budget.appropriated')}</th>
          <th scope="col" class="num">${t('budget.disbursed')}</th>
          <th scope="col" class="num">${t('budget.available')}</th>
          <th scope="col" class="num">${t('budget.reintegrated')}</th>
        </tr>
      </thead>
      <tbody>
        ${list.map(
          (p) => html`<tr key=${p.id} data-program=${p.code}>
            <th scope="row" class="nowrap">${can(me?.role, 'viewCycles') ? html`<a href=${`#/cycles?program=${p.id}`} onClick=${() => rememberProgram(p.id)}>${p.code}</a>` : p.code}</th>
            <td>${p.name}</td>
            <td>${p.fiscalYear}</td>
            <td class="num"><${Money} value=${p.budget?.appropriated} currency=${p.currency} /></td>
            <td class="num"><${Money} value=${p.budget?.disbursed} currency=${p.currency} /></td>
            <td class="num"><${Money} value=${p.budget?.available} currency=${p.currency} /></td>
            <td class="num"><${Money} value=${p.budget?.reintegrated} currency=${p.currency} /></td>
          </tr>`,
        )}
      </tbody>
    </table><//>
    <h2>${t('programs.charts')}</h2>
    <div class="cards">
      ${list.map(
        (p) => html`<article class="card" key=${p.id} aria-labelledby=${`card-${p.id}`}>
          <h3 id=${`card-${p.id}`}>${p.code}</h3>
          <p class="muted">${p.name} · ${t(`instrument.${p.instrumentType}`, {}, p.instrumentType)} · ${p.currency}</p>
          <${BudgetChart} id=${`chart-${p.id}`} budget=${p.budget} currency=${p.currency} title=${t('programs.chartTitle', { code: p.code })} />
          ${p.budget?.committed && p.budget.committed !== '0.00'
            ? html`<p class="muted">${t('budget.committed')}: <${Money} value=${p.budget.committed} currency=${p.currency} /></p>`
            : null}
          <div class="actions">
            ${can(me?.role, 'viewCycles') ? html`<button type="button" class="btn btn-secondary" aria-label=${`${t('nav.cycles')} · ${p.code}`} onClick=${() => open(p, '/cycles')}>${t('nav.cycles')}</button>` : null}
            ${can(me?.role, 'viewReconciliation')
              ? html`<button type="button" class="btn btn-secondary" aria-label=${`${t('nav.reconciliation')} · ${p.code}`} onClick=${() => open(p, '/reconciliation')}>${t('nav.reconciliation')}</button>`
              : null}
            ${can(me?.role, 'viewIndicators')
              ? html`<${CsvButton}
                  label=${t('programs.indicatorsCsv')}
                  onError=${setError}
                  run=${() => downloadCsv(`/v1/audit/programs/${p.id}/indicators`, { format: 'csv' }, `indicadores-${p.code}.csv`)}
                />`
              : null}
            ${can(me?.role, 'viewStatements') && p.budgetAccountId
              ? html`<${CsvButton}
                  label=${t('programs.budgetStatementCsv')}
                  onError=${setError}
                  run=${() => downloadCsv(`/v1/accounts/${p.budgetAccountId}/statement`, { format: 'csv' }, `statement-${p.code}-budget.csv`)}
                />`
              : null}
          </div>
        </article>`,
      )}
    </div>
  </section>`;
}
