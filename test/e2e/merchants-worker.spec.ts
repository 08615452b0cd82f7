import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUES } from '../../src/jobs/queues';
import { DAILY_SETTLEMENT_PATTERN } from '../../src/merchants/settlement.processor';
import { createTestApp, TestApp } from '../support/app';

describe('merchants worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ role: 'all' });
  });
  afterAll(() => t.close());

  it('registers the daily settlement Job Scheduler in the settlement time zone', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.settlement));
    let scheduler = null;
    for (let i = 0; i < 50 && !scheduler; i++) {
      scheduler = await queue.getJobScheduler('daily-settlement');
      if (!scheduler) await new Promise((r) => setTimeout(r, 100));
    }
    expect(scheduler).toMatchObject({ pattern: DAILY_SETTLEMENT_PATTERN, tz: 'America/Mexico_City' });
  });
});
