import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../services/webhook-receiver/src/index.js';
import { dayBounds, dayOf } from '../../services/incidents/src/domain/days.js';
import { launchChromium, watchCsp } from '../../services/incidents/src/testing/browser.js';
import { eventually, TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { DEMO_SCHEME, startDemoStack, type DemoStack } from './support/demo.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// The 舆情日报 of the dying-city day, over the demo archived in a real PostgreSQL, its incidents in real Redis and Kafka,
// the announcement through BullMQ to a signed webhook, and the report read in Debian's Chromium (on the dashboard,
// alone on a phone, and printed to PDF). Screenshots and the PDF in test-artifacts/.

const artifacts = join(import.meta.dirname, '../../test-artifacts');
const TZ = 'Asia/Shanghai';
const harness = new IncidentsHarness();
let stack: DemoStack;
let receiver: WebhookReceiver;
let day: string;

const count = (n: number) => n.toLocaleString('en-US');

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret: 'report-secret', print: () => {} });
  harness.defer(() => receiver.close());
  // The receiver is on loopback, which an announcement may reach only when listed (as for the notifier).
  stack = await startDemoStack(harness, { NOTIFY_ALLOWED_HOSTS: '127.0.0.1' });
  day = dayOf(Date.parse(stack.demo.cascade.at), TZ);
}, 240_000);
afterAll(() => harness.cleanUp());

describe('the daily report (舆情日报) on the demo', () => {
  it('reports the dying-city day: its volume against the week before, the incident with who took it and its response campaign, its cascade and accounts', { timeout: 600_000 }, async () => {
    mkdirSync(artifacts, { recursive: true });
    const api = apiClient(stack.app);
    const { demo, incidentId } = stack;
    const base = `http://127.0.0.1:${stack.app.port}`;

    // On-call takes the incident and marks the city's rebuttal as its response campaign.
    expect((await api('POST', `/api/incidents/${incidentId}/ack`, TEST_TOKENS.oncall)).status).toBe(200);
    const startedAt = new Date(demo.rebuttalMs).toISOString();
    expect((await api('POST', `/api/incidents/${incidentId}/response`, TEST_TOKENS.oncall, { accounts: demo.officialAccounts, startedAt })).status).toBe(200);

    // The figures the report must give, from the demo's posts themselves (spam left out, as the report says).
    const { startMs, endMs } = dayBounds(day, TZ);
    const onDay = demo.posts.filter((p) => !p.spam && p.createdAtMs >= startMs && p.createdAtMs < endMs);
    const rootId = demo.cascade.rootId!;
    const reposts = onDay.filter((p) => p.rootId === rootId && p.id !== rootId);

    // The role check comes first; any role may read.
    expect((await api('GET', `/api/reports/daily?date=${day}`)).status).toBe(401);
    expect((await api('GET', `/api/reports/daily?date=2015-02-30`, TEST_TOKENS.analyst)).status).toBe(400);
    const res = await fetch(`${base}/api/reports/daily?date=${day}`, { headers: { authorization: `Bearer ${TEST_TOKENS.analyst}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/style-src 'sha256-/);
    const html = await res.text();
    expect(html).toContain(`共监测到信息 ${count(onDay.length)} 条`);
    expect(html).toContain(`data-id="${incidentId}"`);
    expect(html).toContain(`原帖当日被转发评论 ${count(reposts.length)} 次`);
    expect(html).toContain('值班员老王 于');
    expect(html).toContain(`起 @${demo.officialAccounts[0]}`);
    expect(html).toMatch(/回应后负面占比由 \d+(\.\d)?% (降至|升至|持平于) \d+(\.\d)?%/);
    expect(html).toContain(`data-root="${rootId}"`);
    expect(html).toContain('死去的城市');

    // Announcing is on-call's; the scheme asks for a daily report on a signed webhook.
    expect((await api('PUT', '/api/channels', TEST_TOKENS.admin, [{ id: 'report-hook', type: 'webhook', url: `${receiver.url}/daily`, secret: 'report-secret' }])).status).toBe(200);
    expect((await api('PUT', '/api/schemes', TEST_TOKENS.admin, [{ ...DEMO_SCHEME, report: { daily: true, channels: ['report-hook'] } }])).status).toBe(200);
    expect((await api('POST', '/api/reports/daily', TEST_TOKENS.analyst, { date: day, scheme: DEMO_SCHEME.name })).status).toBe(403);
    expect((await api('POST', '/api/reports/daily', TEST_TOKENS.oncall, { date: day, scheme: DEMO_SCHEME.name })).status).toBe(202);
    const message = await eventually(async () => receiver.received.find((m) => m.path === '/daily'), 60_000, 'the report announced on the webhook');
    expect(message.verified).toBe(true);
    expect(message.title).toBe(`【舆情日报】${day} · ${DEMO_SCHEME.name}`);
    const body = message.body as { kind: string; report: { link: string; overview: string; incidents: { id: string; sentence: string }[] } };
    expect(body.kind).toBe('report');
    expect(body.report.link).toMatch(new RegExp(`/#/reports/${day}\\?scheme=`));
    expect(body.report.overview).toContain(`监测方案「${DEMO_SCHEME.name}」`);
    const schemed = (await api('GET', `/api/incidents/${incidentId}`, TEST_TOKENS.analyst)).json.schemes as string[] | undefined;
    if (schemed?.includes(DEMO_SCHEME.name)) expect(body.report.incidents.map((i) => i.id)).toContain(incidentId);

    // The dashboard lists it, with where it went; the morning schedule is in the organisation's zone.
    const listed = await api('GET', '/api/reports', TEST_TOKENS.analyst);
    expect(listed.json.reports[0]).toMatchObject({ day, scheme: DEMO_SCHEME.name, deliveries: [{ channel: 'report-hook', ok: true }] });
    expect(listed.json.schedule).toMatchObject({ pattern: '30 7 * * *', tz: TZ });

    // The PDF, printed by Chromium from the same HTML.
    const pdf = await fetch(`${base}/api/reports/daily?date=${day}&format=pdf`, { headers: { authorization: `Bearer ${TEST_TOKENS.analyst}` } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    writeFileSync(join(artifacts, 'daily-report.pdf'), bytes);

    const browser = await launchChromium({ viewport: { width: 1280, height: 1400 }, locale: 'zh-CN', timezoneId: TZ, acceptDownloads: true });
    try {
      const csp = await watchCsp(browser);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(base);
      await page.fill('#token-input', TEST_TOKENS.analyst);
      await page.click('#token-save');
      await page.waitForSelector('#whoami:has-text("分析员小李")');

      // The list of reports built, then the report itself in its frame.
      await page.click('nav.pages a[data-page="reports"]');
      await page.waitForSelector(`#report-list li.report-item[data-day="${day}"]`);
      expect(await page.textContent('#report-schedule')).toContain('Asia/Shanghai');
      await page.screenshot({ path: join(artifacts, 'reports-list.png'), fullPage: true });
      await page.goto(`${base}/#/reports/${day}`);
      const frame = page.frameLocator('#report-frame');
      const item = frame.locator(`li.incident[data-id="${incidentId}"]`);
      await item.waitFor();
      expect(await item.locator('.sentence').textContent()).toContain('认领');
      expect(await frame.locator('#stat-posts b').textContent()).toBe(count(onDay.length));
      expect(await frame.locator('svg.week rect.bar').count()).toBe(8);
      // The frame grows to the report's length, so the page scrolls as one.
      await expect.poll(() => page.evaluate('document.querySelector("#report-frame").offsetHeight')).toBeGreaterThan(1000);
      await page.screenshot({ path: join(artifacts, 'daily-report.png'), fullPage: true });

      // The PDF from the dashboard's button, fetched with the token and saved.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report-pdf')]);
      expect(download.suggestedFilename()).toBe(`tingfeng-daily-${day}.pdf`);

      // Alone, on a phone, as "open alone" does: with a single-use ticket, never the token, in the URL.
      expect((await api('GET', `/api/reports/daily?date=${day}&token=${TEST_TOKENS.analyst}`)).status).toBe(401);
      const { ticket } = (await api('POST', '/api/stream/ticket', TEST_TOKENS.analyst)).json as { ticket: string };
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/api/reports/daily?date=${day}&ticket=${encodeURIComponent(ticket)}`);
      await page.waitForSelector(`li.incident[data-id="${incidentId}"]`);
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(artifacts, 'daily-report-phone.png'), fullPage: true });
      // Used once: the same link again is refused.
      expect((await api('GET', `/api/reports/daily?date=${day}&ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
      expect(errors).toEqual([]);
      expect(csp.violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
