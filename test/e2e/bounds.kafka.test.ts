import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from '../../packages/redis/src/index.js';
import { dyingCityAlert, enqueueAlerts, eventually, TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// The app's info lines would bury vitest's report; warnings and errors still show.
process.env['LOG_LEVEL'] ??= 'warn';

const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());

describe('bounded growth of the incidents service, through real Kafka, Redis and HTTP', () => {
  it('limits notes in size (413) and rate (429, per caller, with retry-after)', async () => {
    const config = harness.isolated({ INCIDENT_NOTE_MAX_CHARS: '20', INCIDENT_NOTES_PER_MINUTE: '3' });
    const app = await harness.start(config);
    const api = apiClient(app);
    await enqueueAlerts(config, [dyingCityAlert('n1', 'warning')]);
    const incident = await eventually(async () => (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json?.items?.[0], 30_000, 'an incident');
    const note = (token: string, text: string) => api('POST', `/api/incidents/${incident.id}/notes`, token, { text });

    // Twenty characters is the limit, counted as characters (CJK are one each), not bytes.
    expect((await note(TEST_TOKENS.analyst, '已联系昆明发布'.padEnd(20, '。'))).status).toBe(200);
    const long = await note(TEST_TOKENS.analyst, '昆'.repeat(21));
    expect(long.status).toBe(413);
    expect(long.json).toMatchObject({ error: 'note_too_large', maxChars: 20 });
    expect(long.json.message).toContain('at most 20 characters; this one has 21');
    // A body far beyond any note is refused before it is read whole.
    const huge = await note(TEST_TOKENS.analyst, 'x'.repeat(100_000));
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('payload_too_large');

    // Three a minute per caller: the fourth is refused (a refused too-long note did not count), another caller is not.
    // A window boundary could fall between the notes and reset the count; then the whole round is tried again.
    await eventually(async () => {
      const oncall = [];
      for (let i = 0; i < 4; i++) oncall.push(await note(TEST_TOKENS.oncall, `第${i}条`));
      if (oncall[3]!.status === 200) return undefined;
      expect(oncall.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
      expect(oncall[3]!.status).toBe(429);
      expect(oncall[3]!.json).toMatchObject({ error: 'rate_limited' });
      expect(oncall[3]!.json.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(oncall[3]!.json.message).toContain('at most 3 notes a minute per caller');
      return true;
    }, 130_000, 'a fourth note refused');
    const detail = (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json;
    expect(detail.timeline.filter((e: { kind: string }) => e.kind === 'note_added').length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(detail.timeline)).not.toContain('昆'.repeat(21));
  });
});

/** Opens `GET /api/stream` with `init`; resolves with the status and, for a 200, a reader of the first bytes and a closer. */
async function openStream(port: number | undefined, path: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: controller.signal });
  let first = '';
  if (res.status === 200) {
    const { value } = await res.body!.getReader().read();
    first = new TextDecoder().decode(value);
  } else {
    first = await res.text();
  }
  return { status: res.status, first, retryAfter: res.headers.get('retry-after'), close: () => controller.abort() };
}

describe('the live stream', () => {
  it('takes a single-use ticket instead of a token in the URL, and keeps at most INCIDENTS_SSE_MAX_CLIENTS streams', async () => {
    const config = harness.isolated({ INCIDENTS_SSE_MAX_CLIENTS: '2', INCIDENTS_SSE_TICKET_TTL_MS: '5000' });
    const app = await harness.start(config);
    const api = apiClient(app);

    // A token in the query string is not read any more: 401.
    expect((await openStream(app.port, `/api/stream?token=${TEST_TOKENS.analyst}`)).status).toBe(401);
    expect((await openStream(app.port, '/api/stream?ticket=not-a-ticket')).status).toBe(401);
    expect((await api('POST', '/api/stream/ticket')).status).toBe(401);

    const ticket = (await api('POST', '/api/stream/ticket', TEST_TOKENS.analyst)).json;
    expect(ticket.url).toBe(`/api/stream?ticket=${encodeURIComponent(ticket.ticket)}`);
    expect(Date.parse(ticket.expiresAt) - Date.now()).toBeLessThanOrEqual(5000);
    // Redis holds a hash of it, never the ticket itself, and lets it expire.
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    const stored = await redis.keys(`${config.REDIS_PREFIX}stream-ticket:*`);
    expect(stored).toHaveLength(1);
    expect(stored[0]).not.toContain(ticket.ticket);
    expect(await redis.pttl(stored[0]!)).toBeGreaterThan(0);
    const one = await openStream(app.port, ticket.url);
    expect(one.status).toBe(200);
    expect(one.first).toContain(': connected as 分析员小李');
    // Used once: the same URL is refused.
    expect((await openStream(app.port, ticket.url)).status).toBe(401);
    expect(await redis.keys(`${config.REDIS_PREFIX}stream-ticket:*`)).toEqual([]);

    // A client that can send headers may use its bearer token directly.
    const two = await openStream(app.port, '/api/stream', { authorization: `Bearer ${TEST_TOKENS.oncall}` });
    expect(two.status).toBe(200);
    // Two are open: the third is refused with 503 and retry-after.
    const third = await openStream(app.port, '/api/stream', { authorization: `Bearer ${TEST_TOKENS.admin}` });
    expect(third.status).toBe(503);
    expect(JSON.parse(third.first)).toMatchObject({ error: 'too_many_streams' });
    expect(third.retryAfter).toBe('10');
    // One closes: there is room again.
    one.close();
    const again = await eventually(async () => {
      const s = await openStream(app.port, '/api/stream', { authorization: `Bearer ${TEST_TOKENS.admin}` });
      if (s.status === 200) return s;
      s.close();
      return undefined;
    }, 10_000, 'a free stream slot');
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(metrics).toMatch(/tingfeng_incidents_sse_refused_total\{service="incidents"\} [1-9]/);
    expect(metrics).toMatch(/tingfeng_incidents_sse_clients\{service="incidents"\} 2/);
    two.close();
    again.close();
  });
});
