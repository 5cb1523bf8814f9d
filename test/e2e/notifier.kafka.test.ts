import { afterEach, describe, expect } from 'vitest';
import type { Incident, NotifyJobData } from '../../packages/contracts/src/index.js';
import { QUEUES } from '../../packages/contracts/src/index.js';
import { sampleIncident } from '../../packages/channels/src/testing/fixtures.js';
import { Queue, queueSettings } from '../../packages/queue/src/index.js';
import { consumeAll, createTopics, deleteTopics, randomName, redisTest, redisUrl, type RedisFixtures } from '../../packages/testing/src/index.js';
import { createNotifierApp, DELIVERIES_QUEUE, deliveryJobId, escalationJobId, loadNotifierConfig, type NotifierApp } from '../../services/notifier/src/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../services/webhook-receiver/src/index.js';

// Whole notifier through real Redis, BullMQ, Kafka and HTTP: each test has its own queue prefix, Redis prefix and
// event topic, and a local webhook receiver standing in for the generic webhook and the bots.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

interface Harness {
  app: NotifierApp;
  receiver: WebhookReceiver;
  topic: string;
  queuePrefix: string;
  notifications: Queue<NotifyJobData>;
  deliveries: Queue;
  escalations: Queue;
  notify(change: NotifyJobData['change'], incident: Incident, eventId?: string): Promise<string>;
}

async function harness(prefix: string, options: { env?: Record<string, string>; failFirst?: number } = {}): Promise<Harness> {
  const receiver = await startWebhookReceiver({ secret: 'whsec', failFirst: options.failFirst ?? 0, print: () => {} });
  cleanups.push(() => receiver.close());
  const topic = randomName('incident-events');
  await createTopics([topic]);
  cleanups.push(() => deleteTopics([topic]));
  const queuePrefix = randomName('tq');
  const app = createNotifierApp(
    loadNotifierConfig({
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
      QUEUE_PREFIX: queuePrefix,
      INCIDENT_EVENTS_TOPIC: topic,
      NOTIFIER_PORT: '0',
      NOTIFY_BACKOFF_BASE_MS: '100',
      NOTIFY_BACKOFF_MAX_MS: '400',
      PUBLIC_URL: 'http://127.0.0.1:3000',
      // The receiver stands in for the webhook and the bots on loopback, which nothing reaches unless listed.
      NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      ...options.env,
    }),
  );
  await app.start();
  cleanups.push(() => app.stop());
  const settings = queueSettings(redisUrl(), queuePrefix);
  const notifications = new Queue<NotifyJobData>(QUEUES.notifications, settings);
  const deliveries = new Queue(DELIVERIES_QUEUE, settings);
  const escalations = new Queue(QUEUES.escalations, settings);
  cleanups.push(async () => {
    // BullMQ keys live under the queue prefix, outside the fixture's Redis prefix.
    for (const q of [notifications, deliveries, escalations]) await q.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([notifications.close(), deliveries.close(), escalations.close()]);
  });
  return {
    app,
    receiver,
    topic,
    queuePrefix,
    notifications,
    deliveries,
    escalations,
    async notify(change, incident, eventId = `${incident.id}.${change}`) {
      await notifications.add('notify', { eventId, change, incident }, { jobId: eventId });
      return eventId;
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function finished(queue: Queue, jobId: string): Promise<unknown> {
  return until(`job ${jobId} to finish`, async () => {
    const state = await queue.getJobState(jobId);
    if (state !== 'completed' && state !== 'failed') return undefined;
    // Read after the state: a job object read earlier would hold no return value yet.
    const job = await queue.getJob(jobId);
    return state === 'completed' ? { value: job?.returnvalue } : { failed: job?.failedReason };
  });
}

const hook = (receiver: WebhookReceiver, id = 'hook', path = '/hook', secret = 'whsec') => ({ id, type: 'webhook', url: `${receiver.url}${path}`, secret });

describe('notifier end to end', () => {
  redisTest('a webhook answering 500 three times is retried and delivered exactly once, with one notified event', async ({ redis, prefix }) => {
    const h = await harness(prefix, { failFirst: 3 });
    await redis.set(`${prefix}config:channels`, JSON.stringify([hook(h.receiver)]));
    await redis.set(`${prefix}config:routes`, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['hook'] }] }));
    const incident = sampleIncident({ id: 'inc-retry' });
    const eventId = await h.notify('opened', incident);

    await until('the delivery', () => h.receiver.received.length === 1);
    expect(h.receiver.attempts).toBe(4);
    expect(h.receiver.received[0]?.verified).toBe(true);
    expect(h.receiver.received[0]?.title).toBe('【舆情·严重】新事件：“昆明是一座正在死去的城市”话题爆发');
    const body = h.receiver.received[0]?.body as { items: { eventId: string; link: string }[] };
    expect(body.items[0]).toMatchObject({ eventId, link: 'http://127.0.0.1:3000/#/incidents/inc-retry' });

    // The same change enqueued again (an incidents-service retry) adds nothing: the job ids de-duplicate.
    await h.notify('opened', incident);
    expect(await finished(h.notifications, eventId)).toMatchObject({ value: { outcome: 'routed' } });
    // The receiver has the message before the job has appended its event and completed.
    expect(await finished(h.deliveries, deliveryJobId(eventId, 'hook'))).toEqual({ value: 'sent' });
    const counts = await h.deliveries.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
    expect(counts).toMatchObject({ completed: 1, failed: 0, waiting: 0, delayed: 0, active: 0 });

    const events = await consumeAll(h.topic, { idleMs: 1_500 });
    expect(events.map((m) => JSON.parse(m.value ?? '{}'))).toEqual([
      expect.objectContaining({ eventId: `${eventId}.notified.hook`, incidentId: 'inc-retry', kind: 'notified', actor: 'system:notifier' }),
    ]);
    expect(h.receiver.received).toHaveLength(1);
  });

  redisTest('a bot over its rate limit gets a digest of the overflow, nothing dropped', async ({ redis, prefix }) => {
    const h = await harness(prefix, { env: { NOTIFY_RATE_WINDOW_MS: '2000' } });
    await redis.set(`${prefix}config:channels`, JSON.stringify([{ id: 'bot', type: 'wecom', url: `${h.receiver.url}/cgi-bin/webhook/send?key=k1`, ratePerMinute: 3 }]));
    await redis.set(`${prefix}config:routes`, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['bot'] }] }));
    for (let i = 0; i < 10; i++) await h.notify('opened', sampleIncident({ id: `inc-storm-${i}`, title: `事件${i}` }));

    // Three go out at once; the other seven wait for the window and go as one digest. On a loaded machine a slow
    // job can land in a later window, so the check is on coverage: every item exactly once, at least one digest.
    const listedIn = (m: WebhookReceiver['received'][number]) =>
      (m.body as { markdown: { content: string } }).markdown.content.split('\n').filter((line) => line.startsWith('- ')).length;
    const covered = () => h.receiver.received.reduce((n, m) => n + (m.title.startsWith('【舆情摘要】') ? listedIn(m) : 1), 0);
    await until('all ten items', () => covered() >= 10);
    const digests = h.receiver.received.filter((m) => m.title.startsWith('【舆情摘要】'));
    expect(digests.length).toBeGreaterThanOrEqual(1);
    expect(h.receiver.received.length - digests.length).toBeLessThanOrEqual(3);
    expect(covered()).toBe(10);
    expect(digests[0]?.title).toMatch(/^【舆情摘要】\d+ 条通知，涉及 \d+ 个事件$/);
    expect((digests[0]?.body as { markdown: { content: string } }).markdown.content).toContain('频率限制');

    const events = (await consumeAll(h.topic, { count: 10 })).map((m) => JSON.parse(m.value ?? '{}') as { eventId: string; data: { via: string } });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(10);
    expect(events.filter((e) => e.data.via === 'digest').length).toBe(10 - (h.receiver.received.length - digests.length));
  });

  redisTest('a silenced incident sends nothing', async ({ redis, prefix }) => {
    const h = await harness(prefix);
    const incident = sampleIncident({ id: 'inc-muted' });
    await redis.set(`${prefix}config:channels`, JSON.stringify([hook(h.receiver)]));
    await redis.set(`${prefix}config:routes`, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['hook'] }] }));
    await redis.set(
      `${prefix}config:silences`,
      JSON.stringify([{ id: 'mute-kunming', matcher: { terms: ['昆明'] }, endsAt: new Date(Date.now() + 3600_000).toISOString() }]),
    );
    const eventId = await h.notify('opened', incident);
    expect(await finished(h.notifications, eventId)).toEqual({ value: { outcome: 'silenced', silenceId: 'mute-kunming' } });
    expect(await h.deliveries.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active')).toEqual({ completed: 0, failed: 0, waiting: 0, delayed: 0, active: 0 });
    expect(h.receiver.attempts).toBe(0);
  });

  describe('escalation', () => {
    const escalationSetup = async (redis: RedisFixtures['redis'], prefix: string, h: Harness) => {
      await redis.set(`${prefix}config:channels`, JSON.stringify([hook(h.receiver), hook(h.receiver, 'lead', '/lead')]));
      await redis.set(
        `${prefix}config:routes`,
        JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['hook'], escalation: [{ afterMs: 1500, channels: ['lead'] }] }] }),
      );
      // What the incidents service writes once its view holds the whole log: escalations read the view only then.
      await redis.hset(`${prefix}view-epoch`, { id: 'test-epoch', caughtUpAt: new Date().toISOString() });
    };

    redisTest('fires when the incident is still triggered', async ({ redis, prefix }) => {
      const h = await harness(prefix);
      await escalationSetup(redis, prefix, h);
      const incident = sampleIncident({ id: 'inc-unanswered' });
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify({ ...incident, timeline: [] }));
      await h.notify('opened', incident);

      const escalated = await until('the escalation', () => h.receiver.received.find((m) => m.path === '/lead'));
      expect(escalated.title).toContain('升级提醒（第 1 级，仍未认领）');
      expect(await finished(h.escalations, escalationJobId(incident.id, 1))).toEqual({ value: 'escalated' });
      expect(await finished(h.deliveries, deliveryJobId('inc-unanswered.escalated.1', 'lead'))).toEqual({ value: 'sent' });
      const events = (await consumeAll(h.topic, { count: 3 })).map((m) => JSON.parse(m.value ?? '{}') as { eventId: string; kind: string });
      expect(events.map((e) => e.eventId).sort()).toEqual(
        ['inc-unanswered.escalated.1', 'inc-unanswered.escalated.1.notified.lead', 'inc-unanswered.opened.notified.hook'].sort(),
      );
    });

    redisTest('does not fire once acknowledged: the delayed job is removed', async ({ redis, prefix }) => {
      const h = await harness(prefix);
      await escalationSetup(redis, prefix, h);
      const incident = sampleIncident({ id: 'inc-acked' });
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify(incident));
      const opened = await h.notify('opened', incident);
      await finished(h.notifications, opened);
      expect(await h.escalations.getJob(escalationJobId(incident.id, 1))).toBeDefined();

      const acked: Incident = { ...incident, status: 'acknowledged', acknowledgedBy: '值班员', acknowledgedAt: new Date().toISOString() };
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify(acked));
      const ack = await h.notify('acknowledged', acked);
      await finished(h.notifications, ack);
      expect(await h.escalations.getJob(escalationJobId(incident.id, 1))).toBeUndefined();
      await until('both notifications', () => h.receiver.received.length === 2);
      expect(h.receiver.received.map((m) => m.path)).toEqual(['/hook', '/hook']);
      expect(h.receiver.received[1]?.title).toContain('已认领');
    });

    redisTest('an escalation that throws is retried with backoff, and the chain goes on', async ({ redis, prefix }) => {
      const h = await harness(prefix);
      await escalationSetup(redis, prefix, h);
      const incident = sampleIncident({ id: 'inc-transient' });
      // A view the escalation cannot read (as while Redis fails over or a write is half done): its first attempt throws.
      await redis.set(`${prefix}incident:${incident.id}`, '{"half":');
      await h.notify('opened', incident);
      const jobId = escalationJobId(incident.id, 1);
      const firstFailure = await until('the first attempt to fail', async () => {
        const job = await h.escalations.getJob(jobId);
        return job && job.attemptsMade >= 1 ? job : undefined;
      });
      expect(firstFailure.opts).toMatchObject({ attempts: 10, backoff: { type: 'exponential', delay: 1000 }, removeOnFail: { count: 10_000 } });
      expect(await h.escalations.getJobState(jobId)).not.toBe('failed');
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify({ ...incident, timeline: [] }));
      expect(await finished(h.escalations, jobId)).toEqual({ value: 'escalated' });
      const escalated = await until('the escalation', () => h.receiver.received.find((m) => m.path === '/lead'));
      expect(escalated.title).toContain('升级提醒（第 1 级，仍未认领）');
    });

    redisTest('while the view is being rebuilt (after a wipe) an escalation waits, retried, instead of finding its incident missing', async ({ redis, prefix }) => {
      const h = await harness(prefix);
      await escalationSetup(redis, prefix, h);
      const incident = sampleIncident({ id: 'inc-rebuilding' });
      // A fresh epoch without caughtUpAt, and no incident yet: the incidents service is replaying the log.
      await redis.del(`${prefix}view-epoch`);
      await redis.hset(`${prefix}view-epoch`, { id: 'rebuilding-epoch' });
      await h.notify('opened', incident);
      const jobId = escalationJobId(incident.id, 1);
      await until('the first attempt to fail', async () => {
        const job = await h.escalations.getJob(jobId);
        return job && job.attemptsMade >= 1 ? job : undefined;
      });
      expect(await h.escalations.getJobState(jobId)).not.toBe('failed');
      expect(h.receiver.received.filter((m) => m.path === '/lead')).toEqual([]);
      // The replay reaches the incident, then the end of the log.
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify({ ...incident, timeline: [] }));
      await redis.hset(`${prefix}view-epoch`, 'caughtUpAt', new Date().toISOString());
      expect(await finished(h.escalations, jobId)).toEqual({ value: 'escalated' });
    });

    redisTest('a due escalation re-reads the view and does nothing for an acknowledged incident', async ({ redis, prefix }) => {
      const h = await harness(prefix);
      await escalationSetup(redis, prefix, h);
      const incident = sampleIncident({ id: 'inc-raced' });
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify(incident));
      await h.notify('opened', incident);
      // Acknowledged in the view, but the `acknowledged` notification has not reached the notifier yet.
      await redis.set(`${prefix}incident:${incident.id}`, JSON.stringify({ ...incident, status: 'acknowledged' }));
      expect(await finished(h.escalations, escalationJobId(incident.id, 1))).toEqual({ value: 'not_triggered' });
      expect(h.receiver.received.map((m) => m.path)).toEqual(['/hook']);
    });
  });

  redisTest('a permanently refused delivery fails at once and shows on GET /deliveries/failed without secrets', async ({ redis, prefix }) => {
    const h = await harness(prefix);
    await redis.set(`${prefix}config:channels`, JSON.stringify([hook(h.receiver, 'wrong-secret', '/hook', 'n0t-the-s3cret')]));
    await redis.set(`${prefix}config:routes`, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['wrong-secret'] }] }));
    await h.notify('opened', sampleIncident({ id: 'inc-refused' }));
    const shown = await until('the failed delivery on the ops port', async () => {
      const res = await fetch(`http://127.0.0.1:${h.app.port}/deliveries/failed`);
      const json = (await res.json()) as { count: number; deliveries: { channelId: string; attemptsMade: number; failedReason: string }[] };
      return json.count > 0 ? json : undefined;
    });
    expect(shown.deliveries[0]).toMatchObject({ channelId: 'wrong-secret', attemptsMade: 1, failedReason: 'HTTP 401' });
    expect(JSON.stringify(shown)).not.toContain('n0t-the-s3cret');
    expect(h.receiver.refused).toBe(1);
  });
  redisTest('a channel to loopback not on the allow-list is refused for good, nothing reaches it, and its reason needs the ops token', async ({ redis, prefix }) => {
    const opsToken = 'notifier-ops-token-01';
    const h = await harness(prefix, { env: { NOTIFY_ALLOWED_HOSTS: '', NOTIFIER_OPS_TOKEN: opsToken } });
    await redis.set(
      `${prefix}config:channels`,
      JSON.stringify([hook(h.receiver, 'inside'), { id: 'fake-bot', type: 'wecom', url: `${h.receiver.url}/cgi-bin/webhook/send?key=k-secret` }]),
    );
    await redis.set(`${prefix}config:routes`, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: ['inside', 'fake-bot'] }] }));
    const eventId = await h.notify('opened', sampleIncident({ id: 'inc-ssrf' }));
    expect(await finished(h.deliveries, deliveryJobId(eventId, 'inside'))).toEqual({ failed: 'destination refused: the host resolves to a loopback address, which is not on the allow-list' });
    expect(await finished(h.deliveries, deliveryJobId(eventId, 'fake-bot'))).toEqual({ failed: 'destination refused: wecom channels go only to qyapi.weixin.qq.com' });
    expect(h.receiver.attempts).toBe(0);

    const url = `http://127.0.0.1:${h.app.port}/deliveries/failed`;
    expect((await fetch(url)).status).toBe(401);
    const shown = await until('the failed deliveries on the ops port', async () => {
      const json = (await (await fetch(url, { headers: { authorization: `Bearer ${opsToken}` } })).json()) as { count: number; deliveries: { failedReason: string; attemptsMade: number }[] };
      return json.count >= 2 ? json : undefined;
    });
    expect(shown.deliveries.map((d) => d.attemptsMade)).toEqual([1, 1]);
    expect(JSON.stringify(shown)).not.toContain('k-secret');
  });
});
