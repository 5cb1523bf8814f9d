import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../packages/queue/src/index.js';
import { Redis } from '../../packages/redis/src/index.js';
import { launchChromium, watchCsp } from '../../services/incidents/src/testing/browser.js';
import { TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { IncidentsHarness } from './support/incidents.js';

process.env['LOG_LEVEL'] ??= 'warn';

const artifacts = join(import.meta.dirname, '../../test-artifacts');
const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());
const config = harness.isolated();

describe('监测方案 page in a real browser', () => {
  it('lets an admin add, switch off, correct and delete schemes, with a bad rule shown at its position; read-only for an analyst', { timeout: 600_000 }, async () => {
    const app = await harness.start(config);
    const base = `http://127.0.0.1:${app.port}`;
    const redis = new Redis(config.REDIS_URL);
    const stored = async () => JSON.parse((await redis.get(redisKeys(config.REDIS_PREFIX).schemes)) ?? '[]') as { name: string; rule: string; enabled?: boolean; accounts?: string[] }[];
    const browser = await launchChromium({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    try {
      const csp = await watchCsp(browser);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(base);
      await page.fill('#token-input', TEST_TOKENS.admin);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("admin")');
      await page.click('nav.pages a[data-page="schemes"]');
      await page.waitForSelector('#scheme-list');
      expect(await page.getAttribute('nav.pages a[data-page="schemes"]', 'class')).toContain('active');
      expect(await page.textContent('.syntax')).toContain('昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气');

      const add = async (name: string, rule: string, accounts = '') => {
        await page.fill('#scheme-name', name);
        await page.fill('#scheme-rule', rule);
        await page.fill('#scheme-accounts', accounts);
        await page.click('#scheme-save');
      };
      const row = (name: string) => page.locator(`tr.scheme-row[data-name="${name}"]`);

      await add('昆明衰落', '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气');
      await row('昆明衰落').waitFor();
      expect(await row('昆明衰落').textContent()).toContain('启用');
      await add('官方回应', '', '@昆明发布, 春城晚报');
      await row('官方回应').waitFor();
      expect(await stored()).toEqual([
        { name: '昆明衰落', rule: '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气', enabled: true },
        { name: '官方回应', rule: '', enabled: true, accounts: ['@昆明发布', '春城晚报'] },
      ]);

      // Switched off without deleting it.
      await row('官方回应').locator('button.toggle').click();
      await page.waitForSelector('tr.scheme-row[data-name="官方回应"][data-enabled="false"]');
      expect((await stored())[1]?.enabled).toBe(false);

      // A rule missing its ")": the API's 400 is shown under the form, the "(" at offset 7 marked, nothing stored.
      const badRule = '滇池 AND (污染 OR 蓝藻 NOT 天气';
      await add('滇池污染', badRule);
      await page.waitForSelector('#scheme-error:not([hidden]) mark[data-position="7"]');
      expect(await page.textContent('#scheme-error')).toContain('括号未闭合');
      expect(await page.textContent('#scheme-error')).toContain('position 7');
      expect(await page.textContent('#scheme-error mark')).toBe('(');
      // The caret is put on it in the editor too.
      expect(await page.locator('#scheme-rule').evaluate((el) => (el as unknown as { selectionStart: number }).selectionStart)).toBe(7);
      expect(await row('滇池污染').count()).toBe(0);
      expect((await stored()).map((s) => s.name)).toEqual(['昆明衰落', '官方回应']);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'schemes.png'), fullPage: true });

      // Corrected, it is stored; the input is kept after the error, so only the rule is retyped.
      await page.fill('#scheme-rule', '滇池 AND (污染 OR 蓝藻) NOT 天气');
      await page.click('#scheme-save');
      await row('滇池污染').waitFor();
      expect(await page.isHidden('#scheme-error')).toBe(true);

      // Edited in place: the name is fixed, the rule changes.
      await row('昆明衰落').locator('button.edit').click();
      await page.waitForSelector('#scheme-editor h2:has-text("编辑方案")');
      expect(await page.isDisabled('#scheme-name')).toBe(true);
      expect(await page.inputValue('#scheme-rule')).toBe('昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气');
      await page.fill('#scheme-rule', '昆明 AND (死去 OR 没落 OR 鬼城 OR 空城) NOT 天气');
      await page.click('#scheme-save');
      await page.waitForSelector('#scheme-editor h2:has-text("新增方案")');
      expect(await row('昆明衰落').textContent()).toContain('空城');

      // Deleted after the confirmation.
      page.once('dialog', (d) => void d.accept());
      await row('昆明衰落').locator('button.delete').click();
      await row('昆明衰落').waitFor({ state: 'detached' });
      expect((await stored()).map((s) => s.name)).toEqual(['官方回应', '滇池污染']);

      // An analyst sees the list read-only: every control disabled.
      await page.fill('#token-input', TEST_TOKENS.analyst);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("analyst")');
      await page.waitForSelector('#scheme-list');
      expect(await page.isDisabled(`${'#scheme-list'} button.delete`)).toBe(true);
      for (const control of ['#scheme-save', '#scheme-name', '#scheme-rule', '#scheme-accounts', '#scheme-enabled']) {
        expect(await page.isDisabled(control), control).toBe(true);
      }
      expect(await page.textContent('#scheme-editor')).toContain('只读');
      await page.screenshot({ path: join(artifacts, 'schemes-analyst.png'), fullPage: true });
      expect(errors).toEqual([]);
      // The pages ran under the CSP without one refusal.
      expect(csp.violations).toEqual([]);
    } finally {
      await browser.close();
      redis.disconnect();
    }
  });
});
