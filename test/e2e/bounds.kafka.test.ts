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

/** Opens `path` (the stream) with `headers`; resolves with the status, the first bytes (or the error body), retry-after and a closer. */
async function openStream(port: number | undefined, path: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: controller.signal });
  const first = res.status === 200 ? new TextDecoder().decode((await res.body!.getReader().read()).value) : await res.text();
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

describe('incident views capped, paged and indexed', () => {
  it('keeps the newest entries in the view, pages the rest from the history, and the log rebuilds the same', async () => {
    const config = harness.isolated({ INCIDENT_VIEW_TIMELINE_MAX: '5', INCIDENT_VIEW_ALERTS_MAX: '3', INCIDENT_HISTORY_MAX: '8', INCIDENT_NOTES_PER_MINUTE: '100' });
    let app = await harness.start(config);
    let api = apiClient(app);
    await enqueueAlerts(config, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id, i) => dyingCityAlert(id, i === 5 ? 'critical' : 'warning', { observed: 10 + i })));
    const incident = await eventually(async () => {
      const item = (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json?.items?.[0];
      return item?.alertCount === 6 ? item : undefined;
    }, 30_000, 'six alerts grouped');
    for (let i = 1; i <= 6; i++) expect((await api('POST', `/api/incidents/${incident.id}/notes`, TEST_TOKENS.analyst, { text: `备注${i}` })).status).toBe(200);

    const detail = (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json;
    expect(detail).toMatchObject({ timelineCount: 12, alertCount: 6, severity: 'critical' });
    expect(detail.timeline.map((e: { seq: number }) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(detail.timeline.at(-1)).toMatchObject({ kind: 'note_added', data: { text: '备注6' } });
    expect(detail.alerts.map((a: { id: string }) => a.id)).toEqual(['c4', 'c5', 'c6']);

    // The timeline pages back from the newest; Redis holds the newest eight of the twelve (the log holds all).
    const t1 = (await api('GET', `/api/incidents/${incident.id}/timeline?limit=4`, TEST_TOKENS.analyst)).json;
    expect(t1).toMatchObject({ incidentId: incident.id, total: 12, firstSeq: 5, nextCursor: 9 });
    expect(t1.items.map((e: { seq: number }) => e.seq)).toEqual([9, 10, 11, 12]);
    const t2 = (await api('GET', `/api/incidents/${incident.id}/timeline?limit=4&cursor=9`, TEST_TOKENS.analyst)).json;
    expect(t2.items.map((e: { seq: number; kind: string }) => `${e.seq}:${e.kind}`)).toEqual(['5:alert_appended', '6:alert_appended', '7:note_added', '8:note_added']);
    expect(t2.nextCursor).toBeNull();
    // Alerts likewise; all six are still held (six is under the history's eight).
    const a1 = (await api('GET', `/api/incidents/${incident.id}/alerts?limit=4`, TEST_TOKENS.analyst)).json;
    expect(a1.items.map((a: { seq: number; alert: { id: string } }) => `${a.seq}:${a.alert.id}`)).toEqual(['3:c3', '4:c4', '5:c5', '6:c6']);
    const a2 = (await api('GET', `/api/incidents/${incident.id}/alerts?limit=4&cursor=${a1.nextCursor}`, TEST_TOKENS.analyst)).json;
    expect(a2.items.map((a: { alert: { id: string } }) => a.alert.id)).toEqual(['c1', 'c2']);
    expect(a2).toMatchObject({ total: 6, firstSeq: 1, nextCursor: null });
    expect((await api('GET', `/api/incidents/nope/timeline`, TEST_TOKENS.analyst)).status).toBe(404);
    expect((await api('GET', `/api/incidents/${incident.id}/timeline?cursor=0`, TEST_TOKENS.analyst)).status).toBe(400);

    // A redelivered alert (a new job for an alert the incident holds, outside the view's three) adds nothing.
    await enqueueAlerts(config, [{ ...dyingCityAlert('c1', 'warning') }]);
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    const view = JSON.parse((await redis.get(`${config.REDIS_PREFIX}incident:${incident.id}`))!);
    expect(view.timeline).toHaveLength(5);
    expect(view.alerts).toHaveLength(3);

    // Wiped and rebuilt from the log: the same view and the same pages.
    const before = { detail: (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json, t1, a1 };
    await app.stop();
    await redis.del(...(await redis.keys(`${config.REDIS_PREFIX}*`)));
    app = await harness.start(config);
    api = apiClient(app);
    expect({
      detail: (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json,
      t1: (await api('GET', `/api/incidents/${incident.id}/timeline?limit=4`, TEST_TOKENS.analyst)).json,
      a1: (await api('GET', `/api/incidents/${incident.id}/alerts?limit=4`, TEST_TOKENS.analyst)).json,
    }).toEqual(before);
  });

  it('lists from sorted-set indexes by status, severity, type and scheme, paged by cursor', async () => {
    const config = harness.isolated();
    const app = await harness.start(config);
    const api = apiClient(app);
    const specs = [
      { id: 'l1', type: 'cascade', severity: 'warning', schemes: ['昆明'] },
      { id: 'l2', type: 'story', severity: 'critical', schemes: ['昆明', '滇池'] },
      { id: 'l3', type: 'coordination', severity: 'info' },
      { id: 'l4', type: 'cascade', severity: 'critical', schemes: ['滇池'] },
      { id: 'l5', type: 'story', severity: 'warning' },
      { id: 'l6', type: 'cascade', severity: 'info', schemes: ['昆明'] },
      { id: 'l7', type: 'story', severity: 'critical' },
    ] as const;
    // One at a time, so openedAt follows the order (ties are ordered by id, which the cursor handles too).
    for (const s of specs) {
      await enqueueAlerts(config, [dyingCityAlert(s.id, s.severity, { key: `${s.type}:${s.id}`, type: s.type, ...('schemes' in s ? { schemes: [...s.schemes] } : {}) })]);
      await eventually(async () => ((await api('GET', `/api/incidents?type=${s.type}`, TEST_TOKENS.analyst)).json?.items?.some((i: { alerts?: unknown; title: string; key: string }) => i.key === `${s.type}:${s.id}`) ? true : undefined), 30_000, `incident ${s.id}`);
    }
    const all = (await api('GET', '/api/incidents?limit=100', TEST_TOKENS.analyst)).json;
    expect(all.total).toBe(7);
    const idOf = new Map<string, string>(all.items.map((i: { key: string; id: string }) => [i.key.split(':')[1], i.id]));
    expect(await api('POST', `/api/incidents/${idOf.get('l2')}/ack`, TEST_TOKENS.oncall)).toMatchObject({ status: 200 });
    expect(await api('POST', `/api/incidents/${idOf.get('l4')}/resolve`, TEST_TOKENS.oncall, {})).toMatchObject({ status: 200 });
    expect(await api('POST', `/api/incidents/${idOf.get('l6')}/resolve`, TEST_TOKENS.oncall, {})).toMatchObject({ status: 200 });

    const everything = (await api('GET', '/api/incidents?limit=100', TEST_TOKENS.analyst)).json.items as { id: string; status: string; severity: string; type: string; schemes?: string[]; openedAt: string }[];
    expect(everything.map((i) => i.openedAt)).toEqual([...everything.map((i) => i.openedAt)].sort().reverse());
    const expected = (f: (i: (typeof everything)[number]) => boolean) => everything.filter(f).map((i) => i.id);
    const ids = async (query: string) => {
      const r = (await api('GET', `/api/incidents?limit=100&${query}`, TEST_TOKENS.analyst)).json;
      expect(r.total).toBe(r.items.length);
      return r.items.map((i: { id: string }) => i.id);
    };
    expect(await ids('status=resolved')).toEqual(expected((i) => i.status === 'resolved'));
    expect(await ids('status=triggered,acknowledged')).toEqual(expected((i) => i.status !== 'resolved'));
    expect(await ids('severity=critical')).toEqual(expected((i) => i.severity === 'critical'));
    expect(await ids('status=triggered&type=story')).toEqual(expected((i) => i.status === 'triggered' && i.type === 'story'));
    expect(await ids('type=cascade,story&severity=critical,info&status=resolved,acknowledged')).toEqual(
      expected((i) => ['cascade', 'story'].includes(i.type) && ['critical', 'info'].includes(i.severity) && i.status !== 'triggered'),
    );
    expect(await ids('scheme=昆明')).toEqual(expected((i) => (i.schemes ?? []).includes('昆明')));
    expect(await ids('scheme=滇池&status=triggered')).toEqual([]);
    const mid = everything[3]!.openedAt;
    expect(await ids(`until=${encodeURIComponent(mid)}`)).toEqual(everything.slice(3).map((i) => i.id));

    // Pages of two by cursor give every row once, in order; the cursor carries the filter's position, not an offset.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { items: { id: string }[]; nextCursor: string | null; total: number } = (await api('GET', `/api/incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`, TEST_TOKENS.analyst)).json;
      expect(r.total).toBe(7);
      paged.push(...r.items.map((i) => i.id));
      cursor = r.nextCursor;
    } while (cursor);
    expect(paged).toEqual(everything.map((i) => i.id));
    expect((await api('GET', '/api/incidents?limit=2&offset=2', TEST_TOKENS.analyst)).json.items.map((i: { id: string }) => i.id)).toEqual(everything.slice(2, 4).map((i) => i.id));
    expect((await api('GET', '/api/incidents?cursor=bogus', TEST_TOKENS.analyst)).status).toBe(400);

    // The indexes are sorted sets in Redis, one per value; the list's counts are theirs.
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    expect(await redis.zcard(`${config.REDIS_PREFIX}incidents-idx:status:resolved`)).toBe(2);
    expect(await redis.zcard(`${config.REDIS_PREFIX}incidents-idx:severity:critical`)).toBe(3);
    expect(await redis.zcard(`${config.REDIS_PREFIX}incidents-idx:scheme:滇池`)).toBe(2);
    expect(await redis.keys(`${config.REDIS_PREFIX}tmp:*`)).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(metrics).toMatch(/tingfeng_incidents\{status="resolved",service="incidents"\} 2/);
  });
});

describe('an older view layout', () => {
  it('is removed at start and rebuilt from the log, configuration kept', async () => {
    const config = harness.isolated();
    let app = await harness.start(config);
    let api = apiClient(app);
    await enqueueAlerts(config, [dyingCityAlert('v1', 'warning')]);
    const incident = await eventually(async () => (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json?.items?.[0], 30_000, 'an incident');
    expect((await api('PUT', '/api/routes', TEST_TOKENS.admin, { rules: [] })).status).toBe(200);
    await app.stop();
    // What version 1 left: status SETs, a whole timeline without seq, no indexes, no version.
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    const p = config.REDIS_PREFIX;
    const view = JSON.parse((await redis.get(`${p}incident:${incident.id}`))!);
    await redis.del(`${p}view-version`, `${p}incidents-idx:status:triggered`, `${p}incident-timeline:${incident.id}`);
    await redis.sadd(`${p}incidents-status:triggered`, incident.id);
    await redis.set(`${p}incident:${incident.id}`, JSON.stringify({ ...view, timeline: view.timeline.map(({ seq: _s, ...e }: { seq: number }) => e), timelineCount: undefined }));
    app = await harness.start(config);
    api = apiClient(app);
    expect(await redis.get(`${p}view-version`)).toBe('2');
    expect(await redis.exists(`${p}incidents-status:triggered`)).toBe(0);
    expect((await api('GET', '/api/incidents?status=triggered', TEST_TOKENS.analyst)).json.items.map((i: { id: string }) => i.id)).toEqual([incident.id]);
    expect((await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json).toEqual({ ...(await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json, timelineCount: 1 });
    expect((await api('GET', `/api/incidents/${incident.id}/timeline`, TEST_TOKENS.analyst)).json.items).toHaveLength(1);
    expect((await api('GET', '/api/routes', TEST_TOKENS.admin)).json).toEqual({ rules: [] });
  });
});

describe('retention', () => {
  it('removes a resolved incident from Redis after INCIDENT_RETENTION_MS, and rebuilds the same view from the log', async () => {
    const config = harness.isolated({ INCIDENT_RETENTION_MS: '4000', INCIDENT_EXPIRY_CHECK_MS: '200', INCIDENT_VIEW_TIMELINE_MAX: '4' });
    let app = await harness.start(config);
    let api = apiClient(app);
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    await enqueueAlerts(config, [dyingCityAlert('r1', 'warning'), dyingCityAlert('r2', 'critical'), dyingCityAlert('o1', 'info', { key: 'story:still-open', type: 'story' })]);
    const items = await eventually(async () => {
      const r = (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json;
      return r?.total === 2 && r.items.some((i: { alertCount: number }) => i.alertCount === 2) ? r.items : undefined;
    }, 30_000, 'two incidents');
    const incident = items.find((i: { type: string }) => i.type === 'cascade');
    const open = items.find((i: { type: string }) => i.type === 'story');
    await api('POST', `/api/incidents/${incident.id}/notes`, TEST_TOKENS.analyst, { text: '已核实' });
    await api('POST', `/api/incidents/${incident.id}/ack`, TEST_TOKENS.oncall);
    await api('POST', `/api/incidents/${incident.id}/response`, TEST_TOKENS.oncall, { accounts: ['昆明发布'] });
    const resolved = await api('POST', `/api/incidents/${incident.id}/resolve`, TEST_TOKENS.oncall, { reason: '已回应' });
    expect(resolved.json).toMatchObject({ status: 'resolved', timelineCount: 6 });
    expect(Date.parse(resolved.json.retainedUntil) - Date.parse(resolved.json.resolvedAt)).toBe(4000);
    const timeline = (await api('GET', `/api/incidents/${incident.id}/timeline`, TEST_TOKENS.analyst)).json;
    expect(timeline.items.map((e: { kind: string }) => e.kind)).toEqual(['opened', 'alert_appended', 'note_added', 'acknowledged', 'response_started', 'resolved']);

    // Past the retention it is gone from Redis: the view, its history, its index entries, its alert pointers.
    const gone = await eventually(async () => {
      const r = await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst);
      return r.status === 404 ? r.json : undefined;
    }, 30_000, 'the resolved incident expired');
    expect(gone.message).toContain(`POST /api/incidents/${incident.id}/rebuild`);
    const left = await redis.keys(`${config.REDIS_PREFIX}*`);
    expect(left.filter((k) => k.includes(incident.id) || k.includes('alert-incident:r'))).toEqual([]);
    for (const k of left.filter((k) => k.includes('incidents'))) {
      if ((await redis.type(k)) === 'zset') expect(await redis.zscore(k, incident.id)).toBeNull();
    }
    expect((await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json).toMatchObject({ total: 1, items: [{ id: open.id }] });
    expect((await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text()).match(/tingfeng_incidents_expired_total\{service="incidents"\} (\d+)/)?.[1]).toBe('1');

    // Rebuilt from the log by an admin: the same incident, timeline and pages; kept for another retention from now.
    expect((await api('POST', `/api/incidents/${incident.id}/rebuild`, TEST_TOKENS.oncall)).status).toBe(403);
    expect((await api('POST', '/api/incidents/inc-nope/rebuild', TEST_TOKENS.admin)).status).toBe(404);
    const rebuilt = await api('POST', `/api/incidents/${incident.id}/rebuild`, TEST_TOKENS.admin);
    expect(rebuilt.status).toBe(200);
    const { retainedUntil: keptUntil, ...same } = rebuilt.json;
    const { retainedUntil: _was, ...original } = resolved.json;
    expect(same).toEqual(original);
    expect(Date.parse(keptUntil)).toBeGreaterThan(Date.parse(resolved.json.retainedUntil));
    // A rebuild of an incident the view holds changes nothing.
    const repaired = await api('POST', `/api/incidents/${open.id}/rebuild`, TEST_TOKENS.admin);
    const { retainedUntil: _r, ...repairedView } = repaired.json;
    const { retainedUntil: _o, ...openView } = (await api('GET', `/api/incidents/${open.id}`, TEST_TOKENS.analyst)).json;
    expect(repairedView).toEqual(openView);

    // A whole rebuild (wipe, restart) does not bring back what is past its retention: it leaves again as it is replayed.
    await eventually(async () => ((await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).status === 404 ? true : undefined), 30_000, 'expired again');
    await app.stop();
    await redis.del(...(await redis.keys(`${config.REDIS_PREFIX}*`)));
    app = await harness.start(config);
    api = apiClient(app);
    expect((await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json).toMatchObject({ total: 1, items: [{ id: open.id }] });
    expect(await redis.keys(`${config.REDIS_PREFIX}incident*${incident.id}`)).toEqual([]);
  });
});
