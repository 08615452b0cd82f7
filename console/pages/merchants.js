import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../lib/api.js';
import { can } from '../lib/roles.js';
import { CsvButton, fmtDate, html, Loading, Money, ProblemAlert, StatusBadge, Count, useApi, useSession, TableWrap, usePageTitle } from '../lib/ui.js';

/** Merchants (admin) and their settlements (finance and auditors), with the bank payout files. */
export function MerchantsPage() {
  const { t, me, lang } = useSession();
  usePageTitle(t('merchants.title'));
  const showMerchants = can(me?.role, 'viewMerchants');
  const merchants = useApi(() => (showMerchants ? api('GET', '/v1/merchants', { query: { limit: 500 } }) : null), [showMerchants]);
  const [businessDate, setBusinessDate] = useState('');
  const [merchantId, setMerchantId] = useState('');
  const [error, setError] = useState(null);
  const settlements = useApi(
    () => (can(me?.role, 'viewSettlements') ? api('GET', '/v1/settlements', { query: { businessDate, merchantId, limit: 500 } }) : null),
    [businessDate, merchantId],
  );
  const names = Object.fromEntries((merchants.data?.data ?? []).map((m) => [m.id, m.name]));
  return html`<section aria-labelledby="merchants-h">
    <h1 id="merchants-h">${t('merchants.title')}</h1>
    <${ProblemAlert} error=${error} onDismiss=${() => setError(null)} />
    ${showMerchants
      ? html`<h2>${t('merchants.affiliated')}</h2>
          ${merchants.loading && !merchants.data ? html`<${Loading} />` : null}
          ${merchants.error ? html`<${ProblemAlert} error=${merchants.error} />` : null}
          ${merchants.data
            ? html`<${TableWrap}><table class="data" id="merchants-table">
                <caption>${t('merchants.caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">${t('merchants.name')}</th>
                    <th scope="col">${t('merchants.category')}</th>
                    <th scope="col">${t('merchants.state')}</th>
                    <th scope="col">${t('merchants.status')}</th>
                    <th scope="col">${t('merchants.since')}</th>
                    <th scope="col">${t('common.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${merchants.data.data.length === 0 ? html`<tr><td colspan="6">${t('merchants.none')}</td></tr>` : null}
                  ${merchants.data.data.map(
                    (m) => html`<tr key=${m.id}>
                      <th scope="row">${m.name}</th>
                      <td>${t(`category.${m.category}`, {}, m.category)}</td>
                      <td>${m.address?.state ?? ''}</td>
                      <td><${StatusBadge} status=${m.status} /></td>
                      <td>${fmtDate(m.createdAt, lang)}</td>
                      <td><button type="button" class="btn btn-secondary" aria-label=${`${t('merchants.showSettlements')}: ${m.name}`} onClick=${() => setMerchantId(m.id)}>${t('merchants.showSettlements')}</button></td>
                    </tr>`,
                  )}
                </tbody>
              </table><//>`
            : null}`
      : null}
    ${can(me?.role, 'viewSettlements')
      ? html`<h2>${t('merchants.settlements')}</h2>
          <form class="row" onSubmit=${(e) => e.preventDefault()} aria-label=${t('merchants.filters')}>
            <div class="field">
              <label for="settlement-date">${t('merchants.businessDate')}</label>
              <input id="settlement-date" type="date" value=${businessDate} onChange=${(e) => setBusinessDate(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="settlement-merchant">${t('merchants.merchantId')}</label>
              <select id="settlement-merchant" value=${merchantId} onChange=${(e) => setMerchantId(e.currentTarget.value)}>
                <option value="">${t('merchants.allMerchants')}</option>
                ${(merchants.data?.data ?? []).map((m) => html`<option value=${m.id} key=${m.id}>${m.name}</option>`)}
              </select>
            </div>
            ${businessDate
              ? html`<div class="field end">
                  <${CsvButton}
                    label=${t('merchants.payoutCsv')}
                    onError=${setError}
                    run=${() => downloadCsv(`/v1/settlements/payout-files/${businessDate}`, {}, `payout-${businessDate}.csv`)}
                  />
                </div>`
              : null}
          </form>
          ${settlements.loading && !settlements.data ? html`<${Loading} />` : null}
          ${settlements.error ? html`<${ProblemAlert} error=${settlements.error} />` : null}
          ${settlements.data
            ? html`<${TableWrap}><table class="data" id="settlements-table">
                <caption>${t('merchants.settlementsCaption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">${t('merchants.statement')}</th>
                    <th scope="col">${t('merchants.businessDate')}</th>
                    <th scope="col">${t('merchants.merchant')}</th>
                    <th scope="col" class="num">${t('merchants.captures')}</th>
                    <th scope="col" class="num">${t('merchants.refunds')}</th>
                    <th scope="col" class="num">${t('merchants.net')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${settlements.data.data.length === 0 ? html`<tr><td colspan="6">${t('merchants.noSettlements')}</td></tr>` : null}
                  ${settlements.data.data.map(
                    (s) => html`<tr key=${s.id}>
                      <th scope="row">${s.statementId}</th>
                      <td>${s.businessDate}</td>
                      <td>${names[s.merchantId] ?? html`<code>${s.merchantId}</code>`}</td>
                      <td class="num"><${Count} value=${s.capturesCount} /> · <${Money} value=${s.capturesTotal} currency=${s.currency} /></td>
                      <td class="num"><${Count} value=${s.refundsCount} /> · <${Money} value=${s.refundsTotal} currency=${s.currency} /></td>
                      <td class="num"><${Money} value=${s.netAmount} currency=${s.currency} /></td>
                    </tr>`,
                  )}
                </tbody>
              </table><//>`
            : null}`
      : null}
  </section>`;
}
