import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { can } from '../lib/roles.js';
import {
  Count,
  CsvButton,
  fmtDay,
  fmtPeriod,
  html,
  Loading,
  Money,
  OkBadge,
  ProblemAlert,
  ProgramSelect,
  TableWrap,
  useApi,
  useChosenProgram,
  usePageTitle,
  useSession,
} from '../lib/ui.js';

const COLUMNS = ['appropriated', 'committed', 'executed', 'reintegrated', 'available'];
const DIMENSIONS = ['month', 'component', 'zone'];

/** A row's key in words: a month as "marzo de 2016", a component or zone as the console names it. */
function rowLabel(t, lang, by, key) {
  if (by === 'month') return fmtPeriod(key, lang);
  return t(`execution.key.${key}`, {}, key || t('execution.noZone'));
}

/** An indicator's value with its unit: "95.20 %" or "12.5 días hábiles". */
function IndicatorValue({ i }) {
  const { t } = useSession();
  if (i.value === null || i.value === undefined) return html`<span class="muted">${t('execution.noValue')}</span>`;
  return html`<span class="num">${i.value}${i.unit === 'percent' ? ' %' : ` ${t('execution.businessDays')}`}</span>`;
}

/**
 * Budget execution and indicators of a program, read only: the execution by month, component or
 * zone with every total checked against the sum of its parts, and the program's indicators; both as CSV.
 */
export function ExecutionPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('execution.title'));
  const { programs, programId, program, choose } = useChosenProgram('/execution');
  const [by, setBy] = useState('month');
  const [error, setError] = useState(null);
  const execution = useApi(() => (programId ? api('GET', `/v1/audit/programs/${programId}/execution`, { query: { by } }) : null), [programId, by]);
  const indicators = useApi(() => (programId && can(me?.role, 'viewIndicators') ? api('GET', `/v1/audit/programs/${programId}/indicators`) : null), [programId]);
  const x = execution.data;
  const cur = program?.currency;
  const code = program?.code ?? '';
  return html`<section aria-labelledby="execution-h">
    <h1 id="execution-h">${t('execution.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      <div class="field">
        <label for="execution-by">${t('execution.by')}</label>
        <select id="execution-by" value=${by} onChange=${(e) => setBy(e.currentTarget.value)}>
          ${DIMENSIONS.map((d) => html`<option value=${d}>${t(`execution.by.${d}`)}</option>`)}
        </select>
      </div>
    </div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${programId && execution.loading && !x ? html`<${Loading} />` : null}
    <${ProblemAlert} error=${execution.error} />
    ${x
      ? html`<div class="actions top-actions">
            <${CsvButton} label=${t('execution.csv', { code })} onError=${setError}
              run=${() => downloadCsv(`/v1/audit/programs/${programId}/execution`, { by, format: 'csv' }, `ejecucion-${code}-${by}.csv`)} />
            ${can(me?.role, 'viewIndicators')
              ? html`<${CsvButton} label=${t('execution.indicatorsCsv', { code })} onError=${setError}
                  run=${() => downloadCsv(`/v1/audit/programs/${programId}/indicators`, { format: 'csv' }, `indicadores-${code}.csv`)} />`
              : null}
          </div>
          <p id="execution-verdict" data-ok=${String(x.differences.length === 0)} class=${x.differences.length === 0 ? 'verdict ok' : 'verdict bad'}>
            ${x.differences.length === 0 ? t('execution.adds', { from: fmtDay(x.from, lang), to: fmtDay(x.to, lang) }) : x.differences.length === 1 ? t('execution.difference1') : t('execution.differences', { n: x.differences.length })}
          </p>
          <${TableWrap}><table class="data" id="execution-table">
            <caption>${t('execution.caption', { code, by: t(`execution.by.${x.by}`) })}</caption>
            <thead>
              <tr>
                <th scope="col">${t(`execution.by.${x.by}`)}</th>
                ${COLUMNS.map((c) => html`<th scope="col" class="num">${t(`budget.${c}`)}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${x.rows.length === 0 ? html`<tr><td colspan="6">${t('execution.none')}</td></tr>` : null}
              ${x.rows.map(
                (r) => html`<tr key=${r.key}>
                  <th scope="row" class="nowrap">${rowLabel(t, lang, x.by, r.key)}</th>
                  ${COLUMNS.map((c) => html`<td class="num"><${Money} value=${r[c]} currency=${cur} /></td>`)}
                </tr>`,
              )}
            </tbody>
            <tfoot>
              <tr id="execution-totals">
                <th scope="row">${t('execution.total')}</th>
                ${COLUMNS.map((c) => html`<td class="num" data-column=${c}><strong><${Money} value=${x.totals[c]} currency=${cur} /></strong></td>`)}
              </tr>
            </tfoot>
          </table><//>
          <${TableWrap}><table class="data" id="execution-checks">
            <caption>${t('execution.checks')}</caption>
            <thead><tr><th scope="col">${t('execution.check')}</th><th scope="col" class="num">${t('execution.total')}</th><th scope="col" class="num">${t('execution.sumOfParts')}</th><th scope="col" class="num">${t('execution.difference')}</th><th scope="col">${t('execution.result')}</th></tr></thead>
            <tbody>
              ${x.checks.map(
                (c, i) => html`<tr key=${i} class=${c.difference !== '0.00' ? 'row-difference' : ''}>
                  <th scope="row">${checkName(t, c.what)}</th>
                  <td class="num"><${Money} value=${c.total} currency=${cur} /></td>
                  <td class="num"><${Money} value=${c.sumOfParts} currency=${cur} /></td>
                  <td class="num"><${Money} value=${c.difference} currency=${cur} /></td>
                  <td><${OkBadge} ok=${c.difference === '0.00'} /></td>
                </tr>`,
              )}
            </tbody>
          </table><//>`
      : null}
    <${ProblemAlert} error=${indicators.error} />
    ${indicators.data
      ? html`<h2 id="indicators-h">${t('execution.indicators', { date: fmtDay(indicators.data.asOf, lang) })}</h2>
          <${TableWrap}><table class="data" id="indicators-table" aria-labelledby="indicators-h">
            <thead><tr><th scope="col">${t('execution.indicator')}</th><th scope="col" class="num">${t('execution.value')}</th><th scope="col" class="num">${t('execution.numerator')}</th><th scope="col" class="num">${t('execution.denominator')}</th></tr></thead>
            <tbody>
              ${indicators.data.indicators.length === 0 ? html`<tr><td colspan="4">${t('execution.noIndicators')}</td></tr>` : null}
              ${indicators.data.indicators.map(
                (i) => html`<tr key=${i.id} data-indicator=${i.id}>
                  <th scope="row">${i.id} · ${i.name}<br /><small class="muted">${i.formula}</small></th>
                  <td class="num"><${IndicatorValue} i=${i} /></td>
                  <td class="num">${i.numerator === null || i.numerator === undefined ? '—' : html`<${Count} value=${i.numerator} />`}</td>
                  <td class="num">${i.denominator === null || i.denominator === undefined ? '—' : html`<${Count} value=${i.denominator} />`}</td>
                </tr>`,
              )}
            </tbody>
          </table><//>`
      : null}
  </section>`;
}

/** The service names its checks in English ("total vs sum of parts"); the console says them in Spanish by their shape. */
function checkName(t, what) {
  const w = what ?? '';
  let m = /^(\w+): total vs sum of (\w+)s$/.exec(w);
  if (m) return t('execution.checkParts', { column: t(`budget.${m[1]}`, {}, m[1]), by: t(`execution.by.${m[2]}`, {}, m[2]).toLowerCase() });
  m = /^(\w+): total vs the last month's closing balance$/.exec(w);
  if (m) return t('execution.checkClosing', { column: t(`budget.${m[1]}`, {}, m[1]) });
  if (w.startsWith('available vs appropriated')) return t('execution.checkAvailable');
  if (w.startsWith('spending calendar')) return t('execution.checkCalendar');
  return w;
}
