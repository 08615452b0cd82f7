import { createTestApp, TestApp } from '../support/app';

describe('operating the service: metrics and queue dashboard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('exposes Prometheus metrics with request latency by route and queue depth', async () => {
    await t.http.get('/health/live').expect(200);
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/monedero_http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"[^}]*status="200"/);
    expect(res.text).toMatch(/monedero_queue_jobs\{queue="cycles",state="waiting"\} \d+/);
    expect(res.text).toContain('# TYPE monedero_redemptions_total counter');
  });

  it('keeps the queue dashboard behind an admin login', async () => {
    const anonymous = await t.http.get('/queues').expect(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(anonymous.body.code).toBe('unauthenticated');
    const auditor = await t.staff('auditor');
    const basic = (u: string) => `Basic ${Buffer.from(`${u}:correct horse battery staple`).toString('base64')}`;
    await t.http.get('/queues').set('Authorization', basic(auditor.username)).expect(401);
    const admin = await t.staff('admin');
    const page = await t.http.get('/queues').set('Authorization', basic(admin.username)).expect(200);
    expect(page.text).toMatch(/<html/i);
    const api = await t.http.get('/queues/api/queues').set('Authorization', basic(admin.username)).expect(200);
    expect(api.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['cycles', 'holds', 'settlement']));
  });
});
