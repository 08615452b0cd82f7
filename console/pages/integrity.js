import { api } from '../lib/api.js';
import { ActionButton, Count, html, Loading, Money, OkBadge, ProblemAlert, useApi, useSession, TableWrap, usePageTitle } from '../lib/ui.js';

/** The integrity check: seal chain, sealed entries and every ledger invariant recomputed from postings. */
export function IntegrityPage() {
  const { t } = useSession();
  usePageTitle(t('integrity.title'));
  const check = useApi(() => api('GET', '/v1/audit/integrity'), []);
  const r = check.data;
  return html`<section aria-labelledby="integrity-h">
    <h1 id="integrity-h">${t('integrity.title')}</h1>
    <p class="muted">${t('integrity.help')}</p>
    <${ActionButton} kind="secondary" onAction=${async () => check.reload()}>${t('integrity.run')}<//>
    ${check.loading ? html`<${Loading} />` : null}
    ${check.error ? html`<${ProblemAlert} error=${check.error} />` : null}
    ${r && !check.loading
      ? html`<div id="integrity-result" data-ok=${String(r.ok)}>
          <p class=${r.ok ? 'verdict ok' : 'verdict bad'} role="status"><${OkBadge} ok=${r.ok} /> ${r.ok ? t('integrity.ok') : t('integrity.bad', { n: String(r.problemCount) })}</p>
          <dl class="facts">
            <div><dt>${t('integrity.checkedEntries')}</dt><dd><${Count} value=${r.checkedEntries} /></dd></div>
            <div><dt>${t('integrity.checkedPostings')}</dt><dd><${Count} value=${r.checkedPostings} /></dd></div>
            <div><dt>${t('integrity.checkedAccounts')}</dt><dd><${Count} value=${r.checkedAccounts} /></dd></div>
            <div><dt>${t('integrity.sealedEntries')}</dt><dd><${Count} value=${r.sealedEntries} /></dd></div>
            <div><dt>${t('integrity.unsealedEntries')}</dt><dd><${Count} value=${r.unsealedEntries} /></dd></div>
            <div><dt>${t('integrity.sealedBlocks')}</dt><dd><${Count} value=${r.sealedBlocks} /></dd></div>
            <div><dt>${t('integrity.chain')}</dt><dd><${OkBadge} ok=${r.chain?.ok} /> ${r.chain?.lastBlock != null ? html`#${r.chain.lastBlock} <code class="hash">${r.chain.lastHash}</code>` : null}</dd></div>
            <div><dt>${t('integrity.debits')}</dt><dd><${Money} value=${r.totals?.debits} /></dd></div>
            <div><dt>${t('integrity.credits')}</dt><dd><${Money} value=${r.totals?.credits} /></dd></div>
          </dl>
          ${(r.problems ?? []).length
            ? html`<${TableWrap}><table class="data" id="integrity-problems">
                <caption>${t('integrity.problems')}</caption>
                <thead><tr><th scope="col">${t('integrity.type')}</th><th scope="col">${t('integrity.detail')}</th><th scope="col">${t('integrity.where')}</th></tr></thead>
                <tbody>
                  ${r.problems.map(
                    (p, i) => html`<tr key=${i} class="row-difference">
                      <th scope="row">${p.type}</th>
                      <td>${p.detail}</td>
                      <td><code>${p.entryId ?? p.accountId ?? (p.blockNo != null ? `block ${p.blockNo}` : '')}</code></td>
                    </tr>`,
                  )}
                </tbody>
              </table><//>`
            : null}
        </div>`
      : null}
  </section>`;
}
