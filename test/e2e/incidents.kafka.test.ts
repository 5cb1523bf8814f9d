import { Redis } from '../../packages/redis/src/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../packages/contracts/src/index.js';
import { Queue, queueSettings } from '../../packages/queue/src/index.js';
import { deleteKeysWithPrefix } from '../../packages/testing/src/index.js';
import type { IncidentsConfig } from '../../services/incidents/src/index.js';
import { dyingCityAlert, enqueueAlerts, eventually, TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// The app's info lines would bury vitest's report; warnings and errors still show.
process.env['LOG_LEVEL'] ??= 'warn';

const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());

async function notificationJobs(config: IncidentsConfig) {
  const queue = new Queue(QUEUES.notifications, queueSettings(config.REDIS_URL, config.QUEUE_PREFIX));
  try {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
    return jobs.map((j) => ({ id: j.id, name: j.name, change: (j.data as { change: string }).change, data: j.data as Record<string, unknown> }));
  } finally {
    await queue.close();
  }
}

describe('incidents service through real Kafka, Redis and HTTP', () => {
  it('groups alerts by key, enforces roles, acks and resolves, reopens, and rebuilds the view from incident-events', async () => {
    const config = harness.isolated();
    let app = await harness.start(config);
    let api = apiClient(app);

    await enqueueAlerts(config, [dyingCityAlert('a1', 'info'), dyingCityAlert('a2', 'warning', { observed: 30 }), dyingCityAlert('a3', 'critical', { observed: 80 }), dyingCityAlert('a4', 'info')]);
    const first = await eventually(async () => {
      const r = await api('GET', '/api/incidents', TEST_TOKENS.analyst);
      return r.json?.items?.[0]?.alertCount === 4 ? r.json : undefined;
    }, 30_000, 'four alerts grouped');
    expect(first.total).toBe(1);
    const incident = first.items[0];
    expect(incident).toMatchObject({ status: 'triggered', severity: 'critical', type: 'cascade', key: 'cascade:3906000000000001' });
    expect(incident.title).toContain('昆明是一座正在死去的城市');

    // A redelivered alert (same id, new job) adds nothing.
    await enqueueAlerts(config, [dyingCityAlert('a2', 'warning')]);
    const dupQueue = new Queue(QUEUES.alerts, queueSettings(config.REDIS_URL, config.QUEUE_PREFIX));
    harness.defer(() => dupQueue.close());
    await dupQueue.add('alert', dyingCityAlert('a2', 'warning'), { jobId: 'a2-redelivered' });
    await eventually(async () => (((await dupQueue.getJobCounts('completed'))['completed'] ?? 0) >= 5 ? true : undefined), 20_000, 'redelivery processed');
    expect((await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json.alerts).toHaveLength(4);

    // Notifications: opened, then the two severity raises; one job per event.
    const jobs = await eventually(async () => {
      const j = await notificationJobs(config);
      return j.length >= 3 ? j : undefined;
    }, 10_000, 'notification jobs');
    expect(jobs.map((j) => j.change).sort()).toEqual(['alert_appended', 'alert_appended', 'opened']);
    expect(jobs.every((j) => j.id === j.data.eventId && j.name === 'notify')).toBe(true);
    expect(jobs.find((j) => j.change === 'opened')?.data.url).toBe(`${config.PUBLIC_URL}/#/incidents/${incident.id}`);

    // Live updates: the stream opened with a ticket (EventSource cannot send the token) pushes the acknowledgement below.
    const controller = new AbortController();
    const ticket = await api('POST', '/api/stream/ticket', TEST_TOKENS.analyst);
    expect(ticket.status).toBe(200);
    const stream = await fetch(`http://127.0.0.1:${app.port}${ticket.json.url}`, { signal: controller.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const received = (async () => {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
        if (text.includes('"kind":"acknowledged"')) return text;
      }
    })();

    // Roles: 401 without or with an unknown token, 403 for an analyst acking; analysts may add notes.
    expect((await api('GET', '/api/incidents')).status).toBe(401);
    expect((await api('GET', '/api/incidents', 'nope-nope')).status).toBe(401);
    expect((await api('POST', `/api/incidents/${incident.id}/ack`, TEST_TOKENS.analyst)).status).toBe(403);
    expect((await api('POST', `/api/incidents/${incident.id}/notes`, TEST_TOKENS.analyst, { text: '' })).status).toBe(400);
    const noted = await api('POST', `/api/incidents/${incident.id}/notes`, TEST_TOKENS.analyst, { text: '已联系昆明发布' });
    expect(noted.status).toBe(200);
    expect(noted.json.timeline.at(-1)).toMatchObject({ kind: 'note_added', actor: '分析员小李', data: { text: '已联系昆明发布' } });
    expect((await api('POST', '/api/incidents/nope/ack', TEST_TOKENS.oncall)).status).toBe(404);

    const acked = await api('POST', `/api/incidents/${incident.id}/ack`, TEST_TOKENS.oncall);
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ status: 'acknowledged', acknowledgedBy: '值班员老王' });
    expect(await received).toContain(`"id":"${incident.id}"`);
    controller.abort();

    expect((await api('POST', `/api/incidents/${incident.id}/assign`, TEST_TOKENS.oncall, { assignee: '值班员老王' })).status).toBe(200);
    expect((await api('POST', `/api/incidents/${incident.id}/response`, TEST_TOKENS.oncall, { accounts: ['@昆明发布'] })).json.response).toMatchObject({
      accounts: ['@昆明发布'],
      by: '值班员老王',
    });
    const resolved = await api('POST', `/api/incidents/${incident.id}/resolve`, TEST_TOKENS.oncall, { reason: '官方已回应' });
    expect(resolved.json).toMatchObject({ status: 'resolved', resolvedBy: '值班员老王' });
    expect((await api('POST', `/api/incidents/${incident.id}/ack`, TEST_TOKENS.oncall)).status).toBe(409);

    // After resolution the same key opens a new incident.
    await enqueueAlerts(config, [dyingCityAlert('a5', 'warning', { at: '2015-10-21T02:00:00.000Z' })]);
    const two = await eventually(async () => {
      const r = await api('GET', '/api/incidents', TEST_TOKENS.analyst);
      return r.json?.total === 2 ? r.json : undefined;
    }, 30_000, 'a second incident');
    expect(two.items[0]).toMatchObject({ status: 'triggered', severity: 'warning', alertCount: 1 });
    expect(two.items[1].id).toBe(incident.id);
    expect((await api('GET', '/api/incidents?status=resolved', TEST_TOKENS.analyst)).json.total).toBe(1);
    expect((await api('GET', '/api/incidents?status=bogus', TEST_TOKENS.analyst)).status).toBe(400);

    const detail = (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json;
    expect(detail.timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'opened',
      'alert_appended',
      'alert_appended',
      'alert_appended',
      'note_added',
      'acknowledged',
      'assigned',
      'response_started',
      'resolved',
    ]);
    expect(detail.detail.volume).toHaveLength(4);
    expect(detail.detail.samples[0].text).toContain('死去');
    expect(detail.detail.series[0]).toMatchObject({ field: 'curve' });
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(metrics).toMatch(/tingfeng_incidents\{status="resolved",service="incidents"\} 1/);
    expect(metrics).toMatch(/tingfeng_incidents_api_requests_total\{method="POST",route="\/api\/incidents\/:id\/ack",status="403"/);

    // Wipe the view (only this test's prefix), restart: the same incidents and timelines, rebuilt from the log.
    const before = {
      list: (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json,
      details: await Promise.all(two.items.map(async (i: { id: string }) => (await api('GET', `/api/incidents/${i.id}`, TEST_TOKENS.analyst)).json)),
    };
    await app.stop();
    const redis = new Redis(config.REDIS_URL);
    try {
      expect(await deleteKeysWithPrefix(redis, config.REDIS_PREFIX)).toBeGreaterThan(0);
      expect(await redis.keys(`${config.REDIS_PREFIX}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    app = await harness.start(config);
    api = apiClient(app);
    expect((await fetch(`http://127.0.0.1:${app.port}/readyz`)).status).toBe(200);
    const after = {
      list: (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json,
      details: await Promise.all(two.items.map(async (i: { id: string }) => (await api('GET', `/api/incidents/${i.id}`, TEST_TOKENS.analyst)).json)),
    };
    expect(after).toEqual(before);

    // A restart without a wipe resumes from the stored offset and changes nothing.
    await app.stop();
    app = await harness.start(config);
    api = apiClient(app);
    expect((await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json).toEqual(before.list);

    // And the rebuilt view keeps grouping: the open incident takes the next alert of its key.
    await enqueueAlerts(config, [dyingCityAlert('a6', 'critical', { at: '2015-10-21T03:00:00.000Z' })]);
    await eventually(async () => {
      const r = await api('GET', '/api/incidents', TEST_TOKENS.analyst);
      return r.json?.total === 2 && r.json.items[0].alertCount === 2 ? true : undefined;
    }, 30_000, 'the reopened incident takes the next alert');
  });

  it('resolves an incident quiet for the auto-resolve period, as system:auto-resolve', async () => {
    const config = harness.isolated({ INCIDENT_AUTO_RESOLVE_MS: '1500', INCIDENT_AUTO_RESOLVE_CHECK_MS: '250' });
    const app = await harness.start(config);
    const api = apiClient(app);
    await enqueueAlerts(config, [dyingCityAlert('q1', 'warning', { key: 'story:昆明|鬼城', type: 'story' })]);
    const resolved = await eventually(async () => {
      const r = await api('GET', '/api/incidents?status=resolved', TEST_TOKENS.analyst);
      return r.json?.items?.[0];
    }, 30_000, 'auto-resolution');
    expect(resolved).toMatchObject({ resolvedBy: 'system:auto-resolve', type: 'story' });
    const detail = (await api('GET', `/api/incidents/${resolved.id}`, TEST_TOKENS.analyst)).json;
    expect(detail.timeline.at(-1)).toMatchObject({ kind: 'resolved', actor: 'system:auto-resolve', data: { auto: true } });
    const jobs = await eventually(async () => {
      const j = await notificationJobs(config);
      return j.length >= 2 ? j : undefined;
    }, 10_000, 'notifications');
    expect(jobs.find((j) => j.change === 'resolved')?.data.actor).toBe('system:auto-resolve');
  });

  it('stores routing, silences and channels for the notifier, admin only, secrets redacted on read, every change audited', async () => {
    const config = harness.isolated();
    const app = await harness.start(config);
    const api = apiClient(app);
    const channels = [
      { id: 'hook', type: 'webhook', url: 'http://127.0.0.1:9999/hook', secret: 'hmac-secret-1' },
      { id: 'wecom', type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bot-key-1', ratePerMinute: 20 },
    ];
    expect((await api('PUT', '/api/channels', TEST_TOKENS.oncall, channels)).status).toBe(403);
    expect((await api('PUT', '/api/channels', TEST_TOKENS.admin, [{ id: 'x', type: 'carrier-pigeon', url: 'http://x' }])).status).toBe(400);
    const put = await api('PUT', '/api/channels', TEST_TOKENS.admin, channels);
    expect(put.status).toBe(200);
    const read = await api('GET', '/api/channels', TEST_TOKENS.admin);
    expect(JSON.stringify(read.json)).not.toMatch(/hmac-secret-1|bot-key-1/);
    // Writing back what was read keeps the secrets.
    expect((await api('PUT', '/api/channels', TEST_TOKENS.admin, read.json)).status).toBe(200);
    const redis = new Redis(config.REDIS_URL);
    harness.defer(() => redis.disconnect());
    expect(JSON.parse((await redis.get(`${config.REDIS_PREFIX}config:channels`))!)).toEqual(channels);

    const routes = { rules: [{ id: 'critical', match: { minSeverity: 'warning', types: ['cascade'] }, channels: ['hook', 'wecom'], escalation: [{ afterMs: 600_000, channels: ['hook'] }] }] };
    expect((await api('PUT', '/api/routes', TEST_TOKENS.admin, routes)).status).toBe(200);
    expect((await api('GET', '/api/routes', TEST_TOKENS.admin)).json).toEqual(routes);
    expect(JSON.parse((await redis.get(`${config.REDIS_PREFIX}config:routes`))!)).toEqual(routes);

    const silence = await api('POST', '/api/silences', TEST_TOKENS.admin, { matcher: { terms: ['天气'] }, endsAt: new Date(Date.now() + 3600_000).toISOString(), comment: '天气话题不告警' });
    expect(silence.status).toBe(201);
    expect(silence.json.createdBy).toMatch(/^admin#[0-9a-f]{8}$/);
    // A fingerprint, not a piece of the token.
    expect(TEST_TOKENS.admin).not.toContain(String(silence.json.createdBy).slice('admin#'.length, 'admin#'.length + 4));
    expect((await api('GET', '/api/silences', TEST_TOKENS.admin)).json[0]).toMatchObject({ id: silence.json.id, active: true });
    expect((await api('DELETE', `/api/silences/${silence.json.id}`, TEST_TOKENS.admin)).status).toBe(204);
    expect((await api('GET', '/api/silences', TEST_TOKENS.admin)).json).toEqual([]);

    const audit = (await api('GET', '/api/audit', TEST_TOKENS.admin)).json;
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['silences.delete', 'silences.create', 'routes.put', 'channels.put', 'channels.put']);

    const doc = (await api('GET', '/api/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/incidents', '/api/incidents/{id}/ack', '/api/silences', '/api/channels', '/api/stream']));
  });
});
