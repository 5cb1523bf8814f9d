import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CampaignSeries } from '../../packages/contracts/src/index.js';
import { redisKeys } from '../../packages/queue/src/index.js';
import { Redis } from '../../packages/redis/src/index.js';
import { launchChromium, watchCsp } from '../../services/incidents/src/testing/browser.js';
import { dyingCityAlert, enqueueAlerts, eventually, TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { IncidentsHarness } from './support/incidents.js';

// The app's info lines would bury vitest's report; warnings and errors still show.
process.env['LOG_LEVEL'] ??= 'warn';

const artifacts = join(import.meta.dirname, '../../test-artifacts');
const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());
// A view of three timeline entries, so the page has to page back for the older ones.
const config = harness.isolated({ INCIDENT_VIEW_TIMELINE_MAX: '3' });

describe('dashboard in a real browser', () => {
  it('shows the incident live, acknowledges it, and renders Chinese', { timeout: 600_000 }, async () => {
    const app = await harness.start(config);
    const base = `http://127.0.0.1:${app.port}`;
    const browser = await launchChromium({ viewport: { width: 1280, height: 1100 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    try {
      const csp = await watchCsp(browser);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      const urls: string[] = [];
      page.on('request', (r) => urls.push(r.url()));
      const landing = await page.goto(base);
      // The security headers, on the page as the browser got it.
      const headers = landing!.headers();
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      await page.fill('#token-input', TEST_TOKENS.oncall);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("值班员老王")');
      // The live stream is connected before the alerts exist: the row must arrive over SSE, not by reloading.
      await page.waitForSelector('#live.on');
      // The stream was opened with a ticket: no token in any URL the page asked for.
      expect(urls.some((u) => u.includes('/api/stream?ticket='))).toBe(true);
      expect(urls.filter((u) => u.includes(TEST_TOKENS.oncall))).toEqual([]);

      await enqueueAlerts(config, [
        dyingCityAlert('b1', 'warning', { observed: 12, expected: 1.5, at: '2015-10-20T02:00:00.000Z', window: { start: '2015-10-20T01:40:00.000Z', end: '2015-10-20T02:00:00.000Z' } }),
        dyingCityAlert('b2', 'critical', {
          observed: 45,
          expected: 1.6,
          at: '2015-10-20T02:20:00.000Z',
          window: { start: '2015-10-20T02:00:00.000Z', end: '2015-10-20T02:20:00.000Z' },
          curve: { bucketMs: 300_000, start: '2015-10-20T01:40:00.000Z', counts: [1, 2, 5, 12, 20, 31, 45] },
          // The cascade detector's growth-model forecast: peak reposts an hour still to come, with its 80 % interval.
          forecast: { peakPerHour: 520, low: 370, high: 730, interval: 0.8, level: 300, pLevel: 0.93, alertLevel: 100, pAlert: 1, model: 'peak-hour-loglinear-v2' },
        }),
      ]);
      const row = page.locator('tr.incident-row').first();
      await row.waitFor();
      await expect.poll(() => row.locator('.badge').first().getAttribute('data-value'), { timeout: 20_000 }).toBe('critical');
      expect(await row.textContent()).toContain('昆明是一座正在死去的城市');

      await row.locator('a.title').click();
      await page.waitForSelector('#incident-title');
      expect(await page.textContent('#incident-title')).toContain('昆明是一座正在死去的城市');
      expect(await page.getAttribute('#incident-status', 'data-status')).toBe('triggered');
      // The evidence is filled from the archive after the page is shown; these posts are not archived, so the alerts'
      // sample text stands in for them.
      await expect.poll(() => page.textContent('#evidence-panel'), { timeout: 20_000 }).toContain('年轻人都走了');
      expect(await page.locator('#volume-chart svg path').count()).toBe(2);
      // The curve's 7 buckets, and the forecast beside it: median and interval bounds over the hour after the call.
      expect(await page.locator('#growth-chart svg circle').count()).toBe(7 + 3 * 2);
      expect(await page.textContent('#cascade-forecast')).toContain('预计峰值 520 条/小时 (80% 区间 370–730)');

      await page.click('#ack-btn');
      await page.waitForSelector('#incident-status[data-status="acknowledged"]');
      expect(await page.textContent('#timeline')).toContain('值班员老王');
      expect(await page.isDisabled('#ack-btn')).toBe(true);
      expect(await page.isEnabled('#resolve-btn')).toBe(true);

      // Marked as answered by the city's accounts; the curves the detector would write show beside the others.
      await page.fill('#campaign-accounts', '昆明发布, 春城晚报');
      await page.fill('#campaign-started', '2015-10-20T13:00');
      await page.click('#campaign-form button[type="submit"]');
      await page.waitForSelector('#campaign-chart');
      expect(await page.textContent('#campaign-chart')).toContain('昆明发布、春城晚报');
      const incidentId = (await page.getAttribute('.detail-head', 'data-id'))!;
      const startMs = Date.parse('2015-10-20T04:00:00.000Z');
      const series: CampaignSeries = {
        incidentId,
        bucketMs: 600_000,
        startMs,
        startedAtMs: Date.parse('2015-10-20T05:00:00.000Z'),
        accounts: ['昆明发布', '春城晚报'],
        narrative: [300, 320, 310, 290, 280, 285, 270, 240, 200, 180, 150, 120],
        negative: [220, 240, 230, 200, 190, 180, 150, 120, 90, 70, 50, 40],
        response: [0, 0, 0, 0, 0, 0, 1, 2, 1, 1, 1, 0],
        reach: [0, 0, 0, 0, 0, 0, 200_000, 650_000, 380_000, 470_000, 560_000, 0],
        baseline: { narrative: 285, negative: 180 },
        lastAlertBucketMs: null,
        eventTimeMs: startMs + 12 * 600_000,
      };
      const redis = new Redis(config.REDIS_URL);
      await redis.set(redisKeys(config.REDIS_PREFIX).campaignSeries(incidentId), JSON.stringify(series));
      redis.disconnect();
      await page.reload();
      await page.waitForSelector('#campaign-chart svg');
      // Narrative and response volume, negative share, reach; each chart marks when the response began.
      expect(await page.locator('#campaign-chart svg path').count()).toBe(4);
      expect(await page.locator('#campaign-chart svg line.marker').count()).toBe(3);
      expect(await page.textContent('#campaign-chart')).toContain('舆情声量');
      expect(await page.textContent('#campaign-chart')).toContain('负面占比');
      expect(await page.textContent('#campaign-chart')).toContain('回应声量');

      // The view holds the newest three of four events; 较早 Earlier pages the first one in from the history.
      expect(await page.locator('#timeline li').count()).toBe(3);
      expect(await page.textContent('#timeline-earlier')).toContain('(1)');
      await page.click('#timeline-earlier');
      await expect.poll(() => page.locator('#timeline li').count()).toBe(4);
      expect(await page.getAttribute('#timeline li:first-child', 'data-kind')).toBe('opened');
      expect(await page.isHidden('#timeline-earlier')).toBe(true);
      expect(await page.textContent('#alert-count')).toBe('2');

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });

      // An analyst sees the same page with the buttons disabled.
      await page.fill('#token-input', TEST_TOKENS.analyst);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("analyst")');
      // The name shows as soon as /api/whoami answers; the page is drawn again for the new role just after.
      await page.waitForSelector('#resolve-btn:disabled', { timeout: 10_000 });
      expect(await page.isDisabled('#ack-btn')).toBe(true);

      // The list, filtered to acknowledged incidents, still shows it.
      await page.goto(`${base}/#/`);
      await page.selectOption('#filter-status', 'acknowledged');
      await eventually(async () => ((await page.locator('tr.incident-row').count()) === 1 ? true : undefined), 10_000, 'filtered list');
      await page.screenshot({ path: join(artifacts, 'dashboard-list.png'), fullPage: true });
      expect(errors).toEqual([]);
      // Every page above ran under the CSP without one refusal; and the CSP is enforced: inline script does not run.
      expect(csp.violations).toEqual([]);
      const ran = await page.evaluate(`(async () => {
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true';
        document.body.append(script);
        await new Promise((r) => setTimeout(r, 100));
        return window.__inlineRan === true;
      })()`);
      expect(ran).toBe(false);
      await expect.poll(() => csp.violations.length).toBe(1);
      expect(csp.violations[0]).toMatch(/^script-src-elem inline/);
    } finally {
      await browser.close();
    }
  });
});
