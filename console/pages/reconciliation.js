import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { isZero } from '../lib/money.js';
import { CsvButton, html, Loading, Money, OkBadge, ProblemAlert, ProgramSelect, StatusBadge, Count, useApi, useChosenProgram, useSession, TableWrap, usePageTitle } from '../lib/ui.js';

const FIGURES = ['appropriated', 'available', 'committed', 'disbursed', 'budgetReintegrated', 'instrumentBalances', 'insurerPayable', 'payables', 'inTransit', 'redeemed', 'reintegrated', 'paidOut', 'remitted', 'reintegroPending'];

/** The program reconciliation: both equations to the cent, with any difference highlighted. */
export function ReconciliationPage() {
  const { t } = useSession();
  usePageTitle(t('rec.title'));
  const { programs, programId, choose } = useChosenProgram('/reconciliation');
  const [error, setError] = useState(null);
  const rec = useApi(() => (programId ? api('GET', `/v1/audit/programs/${programId}/reconciliation`) : null), [programId]);
  const r = rec.data;
  const cur = r?.currency;
  // Balanced when both equations hold to the cent, nothing is unexplained and every cycle adds up.
  const ok = r ? r.ok === true && r.cyclesOk !== false : false;
  return html`<section aria-labelledby="rec-h">
    <h1 id="rec-h">${t('rec.title')}</h1>
    ${programs.error ? html`<${ProblemAlert} error=${programs.error} />` : null}
    <div class="row">
      <${ProgramSelect} programs=${programs.data} value=${programId} onChange=${choose} />
      ${programId
        ? html`<div class="field end">
            <${CsvButton} label=${t('rec.trialBalanceCsv')} onError=${setError} run=${() => downloadCsv('/v1/audit/trial-balance', { programId, format: 'csv' }, 'trial-balance.csv')} />
          </div>
          <div class="field end"><button type="button" class="btn btn-secondary" onClick=${rec.reload}>${t('common.refresh')}</button></div>`
        : null}
    </div>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${!programId ? html`<p>${t('cycles.pickProgram')}</p>` : null}
    ${rec.loading && programId && !r ? html`<${Loading} />` : null}
    ${rec.error ? html`<${ProblemAlert} error=${rec.error} />` : null}
    ${r
      ? html`<div id="rec-result" data-ok=${String(ok)}>
          <p class=${ok ? 'verdict ok' : 'verdict bad'} role="status" id="rec-verdict">
            <${OkBadge} ok=${ok} /> ${ok ? t('rec.balances', { code: r.code }) : t('rec.differs', { n: String(r.differenceCount ?? '') })}
          </p>
          <${TableWrap}><table class="data" id="equations-table">
            <caption>${t('rec.equations')}</caption>
            <thead>
              <tr>
                <th scope="col">${t('rec.equation')}</th>
                <th scope="col" class="num">${t('rec.left')}</th>
                <th scope="col" class="num">${t('rec.right')}</th>
                <th scope="col" class="num">${t('rec.difference')}</th>
                <th scope="col">${t('rec.result')}</th>
              </tr>
            </thead>
            <tbody>
              ${(r.equations ?? []).map(
                (e) => html`<tr key=${e.equation} class=${e.ok && isZero(e.difference) ? '' : 'row-difference'}>
                  <th scope="row" title=${e.equation}>${equationWords(e.equation, t)}</th>
                  <td class="num"><${Money} value=${e.left} currency=${cur} /></td>
                  <td class="num"><${Money} value=${e.right} currency=${cur} /></td>
                  <td class="num"><${Money} value=${e.difference} currency=${cur} /></td>
                  <td><${OkBadge} ok=${e.ok} /></td>
                </tr>`,
              )}
            </tbody>
          </table><//>
          ${(r.differences ?? []).length
            ? html`<div class="alert alert-error" role="alert">
                <strong>${t('rec.differencesTitle')}</strong>
                <ul>${r.differences.map((d, i) => html`<li key=${i}>${typeof d === 'string' ? d : html`<code>${JSON.stringify(d)}</code>`}</li>`)}</ul>
              </div>`
            : null}
          ${(r.accountMismatches ?? []).length
            ? html`<div class="alert alert-error" role="alert">
                <strong>${t('rec.mismatchesTitle')}</strong>
                <ul>${r.accountMismatches.map((d, i) => html`<li key=${i}><code>${JSON.stringify(d)}</code></li>`)}</ul>
              </div>`
            : null}
          <h2>${t('rec.figures')}</h2>
          <dl class="facts">
            ${FIGURES.filter((k) => r[k] !== undefined).map((k) => html`<div key=${k}><dt>${t(`rec.f.${k}`, {}, k)}</dt><dd><${Money} value=${r[k]} currency=${cur} /></dd></div>`)}
          </dl>
          <h2>${t('rec.cycles')}</h2>
          <${TableWrap}><table class="data" id="rec-cycles">
            <caption>${t('rec.cyclesCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">${t('cycles.period')}</th>
                <th scope="col">${t('cycles.status')}</th>
                <th scope="col" class="num">${t('cycles.controlTotal')}</th>
                <th scope="col" class="num">${t('cycles.postedTotal')}</th>
                <th scope="col" class="num">${t('rec.ledgerDisbursed')}</th>
                <th scope="col" class="num">${t('rec.difference')}</th>
                <th scope="col">${t('rec.result')}</th>
              </tr>
            </thead>
            <tbody>
              ${(r.cycles ?? []).length === 0 ? html`<tr><td colspan="7">${t('cycles.none')}</td></tr>` : null}
              ${(r.cycles ?? []).map(
                (c) => html`<tr key=${c.cycleId} class=${c.ok ? '' : 'row-difference'}>
                  <th scope="row"><a href=${`#/cycles/${c.cycleId}`}>${c.period}</a> <span class="muted">${t(`kind.${c.kind}`, {}, c.kind)}</span></th>
                  <td><${StatusBadge} status=${c.status} /></td>
                  <td class="num"><${Money} value=${c.controlTotal} currency=${cur} /></td>
                  <td class="num"><${Money} value=${c.postedTotal} currency=${cur} /> (<${Count} value=${c.postedCount} />)</td>
                  <td class="num"><${Money} value=${c.ledgerDisbursed} currency=${cur} /></td>
                  <td class="num"><${Money} value=${c.difference} currency=${cur} /></td>
                  <td><${OkBadge} ok=${c.ok} /></td>
                </tr>`,
              )}
            </tbody>
          </table><//>
        </div>`
      : null}
  </section>`;
}

/** An equation in words: each figure's name (rec.f.*) instead of its code identifier. */
function equationWords(equation, t) {
  return String(equation ?? '').replace(/[A-Za-z][A-Za-z0-9]*/g, (w) => t(`rec.f.${w}`, {}, w));
}
