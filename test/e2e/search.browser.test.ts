import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchCsp } from '../../services/incidents/src/testing/browser.js';
import { TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { startDemoStack, type DemoStack } from './support/demo.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// The incident's evidence and the 搜索 page in Debian's Chromium, over the demo archived in a real PostgreSQL and its
// incidents in real Redis and Kafka. Screenshots in test-artifacts/.

const artifacts = join(import.meta.dirname, '../../test-artifacts');
const harness = new IncidentsHarness();
let stack: DemoStack;
beforeAll(async () => {
  stack = await startDemoStack(harness);
}, 240_000);
afterAll(() => harness.cleanUp());

describe('evidence and search in a real browser', () => {
  it('shows the incident’s evidence with text, author and time, root first; a click opens a post; a term opens the search with its chart, terms and accounts', { timeout: 600_000 }, async () => {
    mkdirSync(artifacts, { recursive: true });
    const base = `http://127.0.0.1:${stack.app.port}`;
    const api = apiClient(stack.app);
    const browser = await launchChromium({ viewport: { width: 1280, height: 1400 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    try {
      const csp = await watchCsp(browser);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(base);
      await page.fill('#token-input', TEST_TOKENS.analyst);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("分析员小李")');

      // The incident page: evidence from the archive, the root post first.
      await page.goto(`${base}/#/incidents/${encodeURIComponent(stack.incidentId)}`);
      const first = page.locator('#evidence li.post').first();
      await first.waitFor();
      expect(await first.getAttribute('data-id')).toBe(stack.demo.cascade.rootId);
      expect(await first.locator('.root-badge').count()).toBe(1);
      expect(await first.locator('.post-text').textContent()).toContain('死去的城市');
      expect(await first.locator('.author').textContent()).toMatch(/^@\S+/);
      expect(await first.locator('time').textContent()).toMatch(/2015\/10\/20/);
      const evidence = (await api('GET', `/api/incidents/${stack.incidentId}/posts?limit=20`, TEST_TOKENS.analyst)).json;
      expect(await page.locator('#evidence li.post').count()).toBe(evidence.posts.length);
      expect(await page.textContent('#evidence-count')).toContain(String(evidence.total));
      await page.click('#evidence-more');
      await expect.poll(() => page.locator('#evidence li.post').count()).toBe(Math.min(40, evidence.total));
      await page.screenshot({ path: join(artifacts, 'incident-evidence.png'), fullPage: true });

      // A click opens the post whole.
      const second = page.locator('#evidence li.post').nth(1);
      const secondId = await second.getAttribute('data-id');
      await second.click();
      const dialog = page.locator('dialog.post-dialog[open]');
      await dialog.waitFor();
      expect(await dialog.getAttribute('data-id')).toBe(secondId);
      const archived = stack.demo.posts.find((p) => p.id === secondId)!;
      expect(await dialog.locator('.post-full').textContent()).toBe(archived.text);
      await page.screenshot({ path: join(artifacts, 'incident-evidence-post.png') });
      await dialog.locator('button').click();
      await expect.poll(() => page.locator('dialog.post-dialog').count()).toBe(0);

      // The incident's term 死去 opens the search over its days.
      await page.locator('#terms a.term', { hasText: /^死去$/ }).click();
      await page.waitForSelector('#search-total');
      expect(await page.inputValue('#search-q')).toBe('死去');
      expect(await page.inputValue('#search-from')).toBe('2015-10-19');
      expect(await page.inputValue('#search-to')).toBe('2015-10-21');
      const expected = (await api('GET', `/api/posts?q=${encodeURIComponent('死去')}&from=2015-10-19&to=2015-10-22&limit=1`, TEST_TOKENS.analyst)).json.total as number;
      expect(Number(await page.getAttribute('#search-total', 'data-total'))).toBe(expected);
      // Three days or fewer are charted by the hour.
      expect(await page.locator('#search-chart rect.bar').count()).toBe(72);
      expect(await page.locator('#search-chart path.share').count()).toBe(1);
      expect(await page.locator('#search-terms a.term').count()).toBeGreaterThan(5);
      expect(await page.locator('#search-accounts li').count()).toBeGreaterThan(0);
      expect(await page.locator('#search-results li.post').count()).toBe(Math.min(30, expected));

      // A narrower search from the form: one day, by the hour, negative only.
      await page.fill('#search-q', '死去 AND 城市');
      await page.fill('#search-from', '2015-10-20');
      await page.fill('#search-to', '2015-10-20');
      await page.selectOption('#search-sentiment', 'negative');
      await page.click('#search-submit');
      await page.waitForFunction('location.hash.includes("sentiment=negative")');
      await page.waitForSelector('#search-total');
      const negative = (await api('GET', `/api/posts?q=${encodeURIComponent('死去 AND 城市')}&from=2015-10-20&to=2015-10-21&sentiment=negative&limit=1`, TEST_TOKENS.analyst)).json.total as number;
      expect(Number(await page.getAttribute('#search-total', 'data-total'))).toBe(negative);
      expect(await page.locator('#search-chart rect.bar').count()).toBe(24);
      const texts = await page.locator('#search-results .post-text').allTextContents();
      expect(texts.length).toBeGreaterThan(0);
      expect(texts.every((t) => t.includes('死去') && t.includes('城市'))).toBe(true);
      await page.screenshot({ path: join(artifacts, 'search.png'), fullPage: true });

      // A top account narrows the search to its posts; the chip takes it off again.
      await page.locator('#search-accounts li a').first().click();
      await page.waitForSelector('#chip-author');
      await page.waitForSelector('#search-total');

      // The export downloads the same matches as CSV.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#search-export')]);
      const csv = readFileSync((await download.path())!, 'utf8');
      expect(csv.startsWith('\ufeffid,platform,created_at')).toBe(true);
      expect(download.suggestedFilename()).toMatch(/^tingfeng-posts-.*\.csv$/);

      // A query that does not parse shows where.
      await page.fill('#search-q', '昆明 AND (地铁');
      await page.click('#search-submit');
      await page.waitForSelector('#search-error');
      expect(await page.textContent('#search-error')).toContain('查询有误');
      expect(Number(await page.getAttribute('#search-error', 'data-position'))).toBeGreaterThanOrEqual(0);

      // On a phone the page stacks and still reads.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/#/search?q=${encodeURIComponent('死去')}&from=2015-10-20&to=2015-10-20`);
      await page.waitForSelector('#search-total');
      await page.screenshot({ path: join(artifacts, 'search-phone.png'), fullPage: true });
      expect(errors).toEqual([]);
      // The pages ran under the CSP without one refusal.
      expect(csp.violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
