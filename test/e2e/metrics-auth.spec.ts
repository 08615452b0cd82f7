import { createTestApp, TestApp } from '../support/app';

/**
 * Issue 22 item 7: /metrics is not served without credentials. Decision: a scrape token
 * (METRICS_TOKEN, sent as `Authorization: Bearer …`, as Prometheus's `authorization` setting
 * does); without METRICS_TOKEN the endpoint is off (404).
 */
const TOKEN = 'metrics-scrape-token-for-tests-0123';

async function appWithMetricsToken(token: string | undefined): Promise<TestApp> {
  const saved = process.env.METRICS_TOKEN;
  if (token === undefined) delete process.env.METRICS_TOKEN;
  else process.env.METRICS_TOKEN = token;
  try {
    return await createTestApp();
  } finally {
    if (saved === undefined) delete process.env.METRICS_TOKEN;
    else process.env.METRICS_TOKEN = saved;
  }
}

describe('/metrics needs the scrape token (issue 22 item 7)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appWithMetricsToken(TOKEN);
  });
  afterAll(() => t.close());

  it('refuses a scrape without the token, with a wrong one, or with a staff token: 401', async () => {
    const admin = await t.staff('admin');
    for (const auth of [undefined, 'Bearer wrong-token', `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, admin.auth.Authorization]) {
      const req = t.http.get('/metrics');
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect([res.status, res.body.code]).toEqual([401, 'unauthenticated']);
      expect(res.text).not.toContain('monedero_http_request_duration_seconds');
    }
  });

  it('serves the Prometheus text with the token', async () => {
    const res = await t.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE monedero_redemptions_total counter');
  });

  it('is off (404) when METRICS_TOKEN is not set', async () => {
    const off = await appWithMetricsToken(undefined);
    try {
      const res = await off.http.get('/metrics');
      expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    } finally {
      await off.close();
    }
  });
});
