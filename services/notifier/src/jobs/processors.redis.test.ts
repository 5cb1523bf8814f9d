import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '@tingfeng/channels';
import { sampleIncident, sampleItem } from '@tingfeng/channels/testing';
import { decodeIncidentEvent, encodeIncidentEvent, JOB_NAMES, QUEUES, type Channel, type EscalationJobData, type IncidentEvent, type NotifyJobData } from '@tingfeng/contracts';
import { createLogger } from '@tingfeng/logger';
import { createRegistry, type Counter } from '@tingfeng/metrics';
import { Queue, queueSettings, redisKeys, UnrecoverableError, Worker, type Job } from '@tingfeng/queue';
import { redisTest, redisUrl } from '@tingfeng/testing';
import { notifierSettings } from '../app.js';
import { loadNotifierConfig } from '../config.js';
import { DeliveryStore } from '../delivery/store.js';
import { notifierMetrics } from '../metrics.js';
import { ConfigStore } from '../routing/config-store.js';
import type { NotifierContext } from './context.js';
import { createDeliveryProcessor } from './delivery-processor.js';
import { holdForDigest } from './enqueue.js';
import { createEscalationProcessor } from './escalation-processor.js';
import { deliveryJobId, digestJobId, escalationJobId } from './job-ids.js';
import { createNotifyProcessor } from './notify-processor.js';
import { DELIVERIES_QUEUE, DELIVERY_JOB_NAMES, type DeliveryJobData } from './types.js';

// The three processors called on real BullMQ jobs in a real Redis (the queues under the test's random prefix, so the
// fixture's clean-up removes them too), sending through the real sender to a local HTTP server that checks Tingfeng's
// signature. The events they cause are kept in a list, each passed through the contract's encoding as the log would
// carry it.

const SECRET = 'whsec-0123456789abcdef';

/** A generic-webhook endpoint on loopback: 401 to a bad signature, 500 to the first `failFirst` requests. */
interface HookServer {
  url: string;
  /** Accepted requests, oldest first. */
  received: { path: string; body: { title?: string; kind?: string; items?: unknown[] } }[];
  /** Requests refused for their signature. */
  readonly refused: number;
  close(): Promise<void>;
}

async function startHookServer(failFirst = 0): Promise<HookServer> {
  const received: HookServer['received'] = [];
  let refused = 0;
  let failuresLeft = failFirst;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => [req.headers[name]].flat()[0];
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        res.writeHead(500).end();
      } else if (!verifyWebhookSignature(raw, { signature: header(SIGNATURE_HEADER), timestamp: header(TIMESTAMP_HEADER) }, SECRET, Date.now()).ok) {
        refused += 1;
        res.writeHead(401).end();
      } else {
        received.push({ path: req.url ?? '/', body: JSON.parse(raw) as HookServer['received'][number]['body'] });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ProcessorFixtures {
  /** The local endpoint every channel of a test points at. */
  receiver: HookServer;
  /** The events the processors appended, oldest first. */
  events: IncidentEvent[];
  ctx: NotifierContext;
  notifications: Queue<NotifyJobData>;
}

const processorTest = redisTest.extend<ProcessorFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring
  receiver: async ({}, use) => {
    const receiver = await startHookServer();
    try {
      await use(receiver);
    } finally {
      await receiver.close();
    }
  },
  // eslint-disable-next-line no-empty-pattern -- as above
  events: async ({}, use) => {
    await use([]);
  },
  ctx: async ({ redis, prefix, events }, use) => {
    const config = loadNotifierConfig({ REDIS_URL: redisUrl(), REDIS_PREFIX: prefix, NOTIFY_ALLOWED_HOSTS: '127.0.0.1', PUBLIC_URL: 'http://127.0.0.1:3000' });
    const bull = queueSettings(redisUrl(), `${prefix}bull`);
    const deliveries = new Queue<DeliveryJobData>(DELIVERIES_QUEUE, bull);
    const escalations = new Queue<EscalationJobData>(QUEUES.escalations, bull);
    const keys = redisKeys(prefix);
    const logger = createLogger('notifier-test');
    try {
      await use({
        settings: notifierSettings(config),
        redis,
        viewRedis: redis,
        keys,
        configStore: new ConfigStore(redis, keys, [], logger),
        store: new DeliveryStore(redis, prefix),
        deliveries,
        escalations,
        events: {
          append: async (appended) => {
            for (const event of appended) {
              const decoded = decodeIncidentEvent(encodeIncidentEvent(event).value);
              if (!decoded) throw new Error(`event ${event.eventId} does not fit the contract`);
              events.push(decoded);
            }
          },
        },
        metrics: notifierMetrics(createRegistry('notifier')),
        logger,
      });
    } finally {
      await Promise.allSettled([deliveries.close(), escalations.close()]);
    }
  },
  notifications: async ({ prefix }, use) => {
    const queue = new Queue<NotifyJobData>(QUEUES.notifications, queueSettings(redisUrl(), `${prefix}bull`));
    try {
      await use(queue);
    } finally {
      await queue.close();
    }
  },
});

function hook(receiver: HookServer, overrides: Partial<Channel> = {}): Channel {
  return { id: 'hook', type: 'webhook', url: `${receiver.url}/hook`, secret: SECRET, ...overrides };
}

/** Stores the channels and a route sending every incident to them, with an optional escalation chain. */
async function configure(ctx: NotifierContext, channels: Channel[], escalation?: { afterMs: number; channels: string[] }[]): Promise<void> {
  await ctx.redis.set(ctx.keys.channels, JSON.stringify(channels));
  await ctx.redis.set(ctx.keys.routes, JSON.stringify({ rules: [{ id: 'all', match: {}, channels: channels.map((c) => c.id), ...(escalation ? { escalation } : {}) }] }));
}

async function count<L extends string>(counter: Counter<L>, labels: Partial<Record<L, string>>): Promise<number> {
  const { values } = await counter.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k as L] === want))?.value ?? 0;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A deliver job on the real queue, as enqueueDeliveries adds it. */
async function deliverJob(ctx: NotifierContext, item = sampleItem(), channelId = 'hook'): Promise<Job<DeliveryJobData>> {
  return ctx.deliveries.add(DELIVERY_JOB_NAMES.deliver, { channelId, item }, { jobId: deliveryJobId(item.eventId, channelId), attempts: ctx.settings.deliveryAttempts });
}

async function job<T>(queue: Queue<T>, id: string): Promise<Job<T>> {
  const found = await queue.getJob(id);
  if (!found) throw new Error(`no job ${id}`);
  return found as Job<T>;
}

/** `HH:MM` in the notifier's time zone at wall time `ms`. */
function localTime(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

describe('notify processor (real Redis and BullMQ)', () => {
  processorTest('fans an opened incident out to one delivery job per enabled channel and schedules the first escalation level', async ({ ctx, receiver, notifications }) => {
    await configure(ctx, [hook(receiver), hook(receiver, { id: 'off', enabled: false })], [{ afterMs: 60_000, channels: ['hook'] }]);
    const incident = sampleIncident({ id: 'inc-fan' });
    const notify = await notifications.add(JOB_NAMES.notify, { eventId: 'inc-fan.opened', change: 'opened', incident }, { jobId: 'inc-fan.opened' });

    expect(await createNotifyProcessor(ctx)(notify)).toEqual({ outcome: 'routed', channels: ['hook'] });
    const delivery = await job(ctx.deliveries, deliveryJobId('inc-fan.opened', 'hook'));
    expect(delivery.data).toEqual({ channelId: 'hook', item: { eventId: 'inc-fan.opened', change: 'opened', incident } });
    expect(await ctx.deliveries.getJobCounts('waiting')).toEqual({ waiting: 1 });
    const escalation = await job(ctx.escalations, escalationJobId('inc-fan', 1));
    expect([await escalation.getState(), escalation.opts.delay, escalation.data]).toEqual(['delayed', 60_000, { incidentId: 'inc-fan', level: 1 }]);
    expect(await count(ctx.metrics.notifications, { change: 'opened', outcome: 'routed' })).toBe(1);

    // The incidents service retrying the same change adds nothing: the job ids de-duplicate.
    await createNotifyProcessor(ctx)(notify);
    expect(await ctx.deliveries.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(await ctx.escalations.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  processorTest('an acknowledgement cancels the pending escalation levels', async ({ ctx, receiver, notifications }) => {
    await configure(ctx, [hook(receiver)], [{ afterMs: 60_000, channels: ['hook'] }, { afterMs: 120_000, channels: ['hook'] }]);
    const incident = sampleIncident({ id: 'inc-ack' });
    await createNotifyProcessor(ctx)(await notifications.add(JOB_NAMES.notify, { eventId: 'e1', change: 'opened', incident }));
    await ctx.escalations.add(JOB_NAMES.escalate, { incidentId: 'inc-ack', level: 2 }, { jobId: escalationJobId('inc-ack', 2), delay: 120_000 });
    expect(await ctx.escalations.getJobCounts('delayed')).toEqual({ delayed: 2 });

    const acked = { ...incident, status: 'acknowledged' as const, acknowledgedAt: '2015-10-20T02:10:00.000Z', acknowledgedBy: 'oncall' };
    expect(await createNotifyProcessor(ctx)(await notifications.add(JOB_NAMES.notify, { eventId: 'e2', change: 'acknowledged', incident: acked }))).toEqual({ outcome: 'routed', channels: ['hook'] });
    expect(await ctx.escalations.getJobCounts('delayed', 'waiting')).toEqual({ delayed: 0, waiting: 0 });
  });

  processorTest('a matching silence drops the notification; no enabled channel leaves it unrouted', async ({ ctx, receiver, notifications }) => {
    await configure(ctx, [hook(receiver)]);
    await ctx.redis.set(ctx.keys.silences, JSON.stringify([{ id: 'quiet-story', matcher: { types: ['story'] }, endsAt: new Date(Date.now() + 3_600_000).toISOString() }]));
    const silenced = await notifications.add(JOB_NAMES.notify, { eventId: 's1', change: 'alert_appended', incident: sampleIncident() });
    expect(await createNotifyProcessor(ctx)(silenced)).toEqual({ outcome: 'silenced', silenceId: 'quiet-story' });

    await ctx.redis.del(ctx.keys.silences);
    await configure(ctx, [hook(receiver, { enabled: false })]);
    const unrouted = await notifications.add(JOB_NAMES.notify, { eventId: 's2', change: 'alert_appended', incident: sampleIncident() });
    expect(await createNotifyProcessor(ctx)(unrouted)).toEqual({ outcome: 'unrouted' });
    expect(await ctx.deliveries.count()).toBe(0);
    expect([await count(ctx.metrics.notifications, { outcome: 'silenced' }), await count(ctx.metrics.notifications, { outcome: 'unrouted' })]).toEqual([1, 1]);
  });

  processorTest('job data that is not NotifyJobData fails at once, without a retry', async ({ ctx, notifications }) => {
    const bad = await notifications.add(JOB_NAMES.notify, { eventId: 'x', change: 'opened' } as unknown as NotifyJobData);
    const err = await rejection(createNotifyProcessor(ctx)(bad));
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toMatch(/is not NotifyJobData/);
  });
});

describe('delivery processor (real Redis, BullMQ and HTTP)', () => {
  processorTest('sends one signed message, marks it sent and appends one notified event; a rerun sends nothing again', async ({ ctx, receiver, events }) => {
    await configure(ctx, [hook(receiver)]);
    const item = sampleItem({ eventId: 'inc-20151020-0001.opened' });
    const deliver = await deliverJob(ctx, item);

    expect(await createDeliveryProcessor(ctx)(deliver)).toBe('sent');
    expect(receiver.received.map((m) => [m.path, m.body.title])).toEqual([['/hook', '【舆情·严重】新事件：“昆明是一座正在死去的城市”话题爆发']]);
    expect(receiver.received[0]?.body).toMatchObject({ kind: 'single', items: [{ eventId: item.eventId, link: 'http://127.0.0.1:3000/#/incidents/inc-20151020-0001' }] });
    const notified = {
      eventId: `${item.eventId}.notified.hook`,
      incidentId: item.incident.id,
      kind: 'notified',
      actor: 'system:notifier',
      data: { channelId: 'hook', channelType: 'webhook', change: 'opened', sourceEventId: item.eventId, via: 'direct', deliveryId: deliver.id },
    };
    expect(events).toMatchObject([notified]);

    // Sent before a crash, event appended or not: the retry sends nothing and appends the same event id again.
    expect(await createDeliveryProcessor(ctx)(deliver)).toBe('sent');
    expect(receiver.received).toHaveLength(1);
    expect(events.map((e) => e.eventId)).toEqual([notified.eventId, notified.eventId]);
    expect([await count(ctx.metrics.deliveries, { outcome: 'sent' }), await count(ctx.metrics.deliveries, { outcome: 'duplicate' })]).toEqual([1, 1]);
  });

  processorTest('a 500 is left to BullMQ to retry; a refused signature and an unknown channel fail at once', async ({ ctx, events }) => {
    const flaky = await startHookServer(1);
    try {
      await configure(ctx, [hook(flaky), hook(flaky, { id: 'wrong-secret', secret: 'not-the-receivers-secret' })]);
      const retried = await rejection(createDeliveryProcessor(ctx)(await deliverJob(ctx)));
      expect(retried).not.toBeInstanceOf(UnrecoverableError);
      expect(retried.name).toBe('DeliveryError');

      const refused = await rejection(createDeliveryProcessor(ctx)(await deliverJob(ctx, sampleItem(), 'wrong-secret')));
      expect(refused).toBeInstanceOf(UnrecoverableError);
      expect(flaky.refused).toBe(1);

      const missing = await rejection(createDeliveryProcessor(ctx)(await deliverJob(ctx, sampleItem(), 'deleted')));
      expect(missing).toBeInstanceOf(UnrecoverableError);
      expect(missing.message).toBe('channel deleted is not configured');

      expect(flaky.received).toHaveLength(0);
      expect(events).toEqual([]);
      expect([await count(ctx.metrics.deliveries, { outcome: 'retried' }), await count(ctx.metrics.deliveries, { outcome: 'failed' })]).toEqual([1, 1]);
    } finally {
      await flaky.close();
    }
  });

  processorTest('over the rate limit items wait for one digest, sent when the window has room', async ({ ctx, receiver, events }) => {
    ctx.settings.rateWindowMs = 1_000;
    await configure(ctx, [hook(receiver, { ratePerMinute: 1 })]);
    const process = createDeliveryProcessor(ctx);
    const items = ['a', 'b', 'c'].map((n) => sampleItem({ eventId: `evt-${n}`, incident: sampleIncident({ id: `inc-${n}` }) }));
    expect(await process(await deliverJob(ctx, items[0]))).toBe('sent');
    expect(await process(await deliverJob(ctx, items[1]))).toBe('digested');
    expect(await process(await deliverJob(ctx, items[2]))).toBe('digested');
    const digest = await job(ctx.deliveries, digestJobId('hook', 'rate', 0));
    expect([await digest.getState(), digest.data]).toEqual(['delayed', { channelId: 'hook', bucket: 'rate', batch: 0 }]);

    await new Promise((r) => setTimeout(r, 1_100));
    expect(await process(digest)).toBe('sent');
    expect(receiver.received.map((m) => m.body.items?.length)).toEqual([1, 2]);
    expect(receiver.received[1]?.body).toMatchObject({ kind: 'digest', digestReason: 'rate_limit' });
    expect(events.map((e) => [e.incidentId, e.kind === 'notified' ? e.data.via : undefined])).toEqual([
      ['inc-a', 'direct'],
      ['inc-b', 'digest'],
      ['inc-c', 'digest'],
    ]);
    // The batch is finished: a stale copy of the job finds nothing to send.
    expect(await process(digest)).toBe('empty');
    expect(await count(ctx.metrics.digests, { reason: 'rate' })).toBe(1);
  });

  processorTest('a digest whose window is still full goes back to the delayed set, keeping its items', async ({ ctx, receiver, prefix }) => {
    await configure(ctx, [hook(receiver, { ratePerMinute: 1 })]);
    await ctx.store.acquire('hook', Date.now(), ctx.settings.rateWindowMs, 1, 'earlier-send');
    await holdForDigest(ctx, 'hook', 'rate', sampleItem(), 0);
    // Taken the way a worker takes it, with a lock token, which moving it back to the delayed set needs.
    const worker = new Worker<DeliveryJobData>(DELIVERIES_QUEUE, null, { ...queueSettings(redisUrl(), `${prefix}bull`), autorun: false });
    try {
      const token = randomUUID();
      const digest = await worker.getNextJob(token);
      expect(digest?.id).toBe(digestJobId('hook', 'rate', 0));
      const err = await rejection(createDeliveryProcessor(ctx)(digest!, token));
      expect(err.name).toBe('DelayedError');
      expect(await digest!.getState()).toBe('delayed');
      expect(await ctx.store.takeBatch('hook', 'rate', 0)).toHaveLength(1);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await worker.close();
    }
  });

  processorTest('in quiet hours a non-critical item waits for the quiet digest; a critical one is sent', async ({ ctx, receiver }) => {
    const nowMs = Date.now();
    const quietHours = { start: localTime(nowMs - 3_600_000, ctx.settings.timeZone), end: localTime(nowMs + 3_600_000, ctx.settings.timeZone) };
    await configure(ctx, [hook(receiver, { quietHours })]);
    const warning = sampleItem({ eventId: 'evt-warning', incident: sampleIncident({ id: 'inc-w', severity: 'warning' }) });
    expect(await createDeliveryProcessor(ctx)(await deliverJob(ctx, warning))).toBe('held');
    const digest = await job(ctx.deliveries, digestJobId('hook', 'quiet', 0));
    expect(await digest.getState()).toBe('delayed');
    expect(digest.opts.delay).toBeGreaterThan(3_000_000);

    expect(await createDeliveryProcessor(ctx)(await deliverJob(ctx, sampleItem({ eventId: 'evt-critical' })))).toBe('sent');
    expect(receiver.received).toHaveLength(1);
    expect(await count(ctx.metrics.deliveries, { outcome: 'held' })).toBe(1);
  });
});

describe('escalation processor (real Redis and BullMQ)', () => {
  const levels = [
    { afterMs: 60_000, channels: ['hook'] },
    { afterMs: 180_000, channels: ['hook', 'lead'] },
  ];
  /** The view's epoch as the incidents service leaves it once the view holds the whole log. */
  const caughtUp = (ctx: NotifierContext) => ctx.viewRedis.hset(ctx.keys.viewEpoch, { id: 'test-epoch', caughtUpAt: new Date().toISOString() });

  processorTest('a still-triggered incident notifies the level, appends escalated and schedules the next level', async ({ ctx, receiver, events }) => {
    await configure(ctx, [hook(receiver), hook(receiver, { id: 'lead', url: `${receiver.url}/lead` })], levels);
    await caughtUp(ctx);
    await ctx.redis.set(ctx.keys.incident('inc-esc'), JSON.stringify(sampleIncident({ id: 'inc-esc' })));
    const first = await ctx.escalations.add(JOB_NAMES.escalate, { incidentId: 'inc-esc', level: 1 }, { jobId: escalationJobId('inc-esc', 1) });

    expect(await createEscalationProcessor(ctx)(first)).toBe('escalated');
    const delivery = await job(ctx.deliveries, deliveryJobId('inc-esc.escalated.1', 'hook'));
    expect(delivery.data).toMatchObject({ channelId: 'hook', item: { eventId: 'inc-esc.escalated.1', change: 'escalated', escalationLevel: 1, incident: { id: 'inc-esc' } } });
    expect(events).toMatchObject([{ eventId: 'inc-esc.escalated.1', incidentId: 'inc-esc', kind: 'escalated', data: { level: 1, channels: ['hook'], afterMs: 60_000 } }]);
    const next = await job(ctx.escalations, escalationJobId('inc-esc', 2));
    expect([await next.getState(), next.opts.delay, next.data]).toEqual(['delayed', 120_000, { incidentId: 'inc-esc', level: 2 }]);

    // The last level schedules nothing more; a level past the chain does nothing.
    expect(await createEscalationProcessor(ctx)(next)).toBe('escalated');
    expect(await ctx.deliveries.getJob(deliveryJobId('inc-esc.escalated.2', 'lead'))).toBeDefined();
    expect(await ctx.escalations.getJob(escalationJobId('inc-esc', 3))).toBeUndefined();
    const beyond = await ctx.escalations.add(JOB_NAMES.escalate, { incidentId: 'inc-esc', level: 3 });
    expect(await createEscalationProcessor(ctx)(beyond)).toBe('no_level');
    expect(await count(ctx.metrics.escalations, { outcome: 'escalated' })).toBe(2);
  });

  processorTest('does nothing for an incident acknowledged, silenced or gone, and retries a view that does not read', async ({ ctx, receiver, events }) => {
    await configure(ctx, [hook(receiver)], levels);
    const escalate = (incidentId: string) => ctx.escalations.add(JOB_NAMES.escalate, { incidentId, level: 1 }).then((j) => createEscalationProcessor(ctx)(j));
    // A view being rebuilt from the log (no caughtUpAt yet) may lack the incident: retried, not ended as missing.
    await ctx.viewRedis.hset(ctx.keys.viewEpoch, { id: 'rebuilding-epoch' });
    const rebuilding = await rejection(escalate('inc-gone'));
    expect(rebuilding).not.toBeInstanceOf(UnrecoverableError);
    expect(rebuilding.message).toMatch(/being rebuilt/);
    await caughtUp(ctx);
    await ctx.redis.set(ctx.keys.incident('inc-ack'), JSON.stringify(sampleIncident({ id: 'inc-ack', status: 'acknowledged', acknowledgedAt: '2015-10-20T02:00:00.000Z', acknowledgedBy: 'oncall' })));
    expect(await escalate('inc-ack')).toBe('not_triggered');
    expect(await escalate('inc-gone')).toBe('missing');

    await ctx.redis.set(ctx.keys.incident('inc-quiet'), JSON.stringify(sampleIncident({ id: 'inc-quiet' })));
    await ctx.redis.set(ctx.keys.silences, JSON.stringify([{ id: 'hush', matcher: { keys: ['story:昆明|死去|城市'] }, endsAt: new Date(Date.now() + 60_000).toISOString() }]));
    expect(await escalate('inc-quiet')).toBe('silenced');

    await ctx.redis.set(ctx.keys.incident('inc-torn'), '{"id":"inc-torn","status":');
    const torn = await rejection(escalate('inc-torn'));
    expect(torn).not.toBeInstanceOf(UnrecoverableError);
    expect(torn.message).toBe('the view of incident inc-torn is not an Incident');

    expect(events).toEqual([]);
    expect(await ctx.deliveries.count()).toBe(0);
  });
});
