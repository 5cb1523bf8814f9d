import { EventEmitter } from 'node:events';
import type { IncidentEvent } from '@tingfeng/contracts';
import { decodeJson, INCIDENT_STATUSES } from '@tingfeng/contracts';
import { attemptBounded, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { campaignRecordOf } from '../domain/campaign.js';
import { applyEvent, isOpen, type ApplyOutcome, type IncidentView } from '../domain/incident-view.js';
import type { IncidentsMetrics } from '../metrics.js';

/** Largest incident event read: events are small (an alert with at most 50 post ids is the biggest). */
const MAX_EVENT_BYTES = 1024 * 1024;

/** An event the applier has handled, with the view after it. */
export interface AppliedEvent {
  event: IncidentEvent;
  view: IncidentView | undefined;
  outcome: ApplyOutcome;
  /** False while catching up with the log at start. */
  live: boolean;
}

export interface EventLogOptions {
  kafka: Kafka;
  producer: Producer;
  redis: Redis;
  keys: RedisKeys;
  topic: string;
  groupId: string;
  logger: Logger;
  metrics: IncidentsMetrics;
  applyTimeoutMs: number;
}

/** State of the applier: `catching-up` until it has applied what the log held when it started. */
export type ApplierState = 'initialized' | 'catching-up' | 'live' | 'stopped' | 'failed';

/**
 * `incident-events`, the log of record, and the view derived from it.
 * `append` writes events (key = incidentId) and resolves once the applier has put them in the view, so the
 * writer reads its own writes. The applier is the only writer of the view: it reads the topic from the offset
 * stored in Redis beside the view (so a wiped view is rebuilt from the start of the log), and applies each
 * event and that offset in one MULTI; events already in an incident's timeline are skipped (idempotent by eventId).
 */
export class IncidentEventLog extends EventEmitter<{ applied: [AppliedEvent] }> {
  private readonly consumer: Consumer;
  private readonly waiters = new Map<string, { resolve: () => void }[]>();
  private readonly appliedOffsets = new Map<number, bigint>();
  private caughtUp: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void };
  private targets = new Map<number, bigint>();
  state: ApplierState = 'initialized';

  constructor(private readonly options: EventLogOptions) {
    super();
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      readUncommitted: false,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      options.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'incident-events applier crashed');
      if (!e.payload.restart) this.fail(e.payload.error);
    });
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.caughtUp = { promise, resolve, reject };
  }

  get live(): boolean {
    return this.state === 'live';
  }

  /** Starts applying; resolves once the view holds everything the log held at start. */
  async start(admin: Admin): Promise<void> {
    const { topic, redis, keys, logger } = this.options;
    this.state = 'catching-up';
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const p of offsets) {
      const stored = await redis.get(keys.appliedOffset(topic, p.partition));
      this.appliedOffsets.set(p.partition, stored === null ? -1n : BigInt(stored));
      const last = BigInt(p.high) - 1n;
      if (last >= BigInt(p.low)) this.targets.set(p.partition, last);
    }
    this.checkCaughtUp();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    // Skip what the view already holds; without a stored offset the log is read from its start.
    for (const [partition, applied] of this.appliedOffsets) {
      if (applied >= 0n) this.consumer.seek({ topic, partition, offset: (applied + 1n).toString() });
    }
    logger.info({ topic, from: Object.fromEntries([...this.appliedOffsets].map(([p, o]) => [p, o.toString()])) }, 'applying incident-events');
    await this.caughtUp.promise;
    logger.info('incident view caught up with the log');
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    await this.consumer.disconnect();
    for (const list of this.waiters.values()) for (const w of list) w.resolve();
    this.waiters.clear();
  }

  /**
   * Appends events to the log and waits until each is in the view. Throws if that takes longer than the apply
   * timeout; the events may still be applied later, which is safe: event ids are unique and re-application is a no-op.
   */
  async append(events: IncidentEvent[]): Promise<void> {
    if (events.length === 0) return;
    const applied = events.map((e) => this.waitFor(e.eventId));
    try {
      await this.options.producer.send({
        topic: this.options.topic,
        acks: -1,
        messages: events.map((e) => ({ key: e.incidentId, value: JSON.stringify(e), headers: { kind: e.kind } })),
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(applied.map((w) => w.promise)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`events not applied within ${this.options.applyTimeoutMs} ms`)), this.options.applyTimeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      for (const w of applied) w.cancel();
    }
  }

  private waitFor(eventId: string): { promise: Promise<void>; cancel: () => void } {
    let entry!: { resolve: () => void };
    const promise = new Promise<void>((resolve) => {
      entry = { resolve };
    });
    const list = this.waiters.get(eventId) ?? [];
    list.push(entry);
    this.waiters.set(eventId, list);
    return {
      promise,
      cancel: () => {
        const rest = (this.waiters.get(eventId) ?? []).filter((w) => w !== entry);
        if (rest.length > 0) this.waiters.set(eventId, rest);
        else this.waiters.delete(eventId);
      },
    };
  }

  private fail(err: Error): void {
    this.state = 'failed';
    this.caughtUp.reject(err);
  }

  private checkCaughtUp(): void {
    if (this.state !== 'catching-up') return;
    for (const [partition, target] of this.targets) {
      if ((this.appliedOffsets.get(partition) ?? -1n) < target) return;
    }
    this.state = 'live';
    this.caughtUp.resolve();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const offset = BigInt(message.offset);
      if (offset > (this.appliedOffsets.get(batch.partition) ?? -1n)) {
        await this.applyMessage(batch.partition, offset, message.value);
      }
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  private async applyMessage(partition: number, offset: bigint, value: Buffer | null): Promise<void> {
    const { redis, keys, topic, logger, metrics } = this.options;
    const offsetKey = keys.appliedOffset(topic, partition);
    const event = parseEvent(value);
    // What depends on the event alone (reading it, applying it, serialising the view) is tried a bounded number of
    // times; an event that fails is skipped like an unreadable one, so one bad record cannot stop the applier.
    const before = event ? await this.readView(event.incidentId) : undefined;
    const applied = event ? attemptBounded(() => {
      const result = applyEvent(before, event);
      return { ...result, json: result.view ? JSON.stringify(result.view) : undefined };
    }) : undefined;
    if (!event || !applied?.ok) {
      const detail = applied && !applied.ok ? applied.error : 'not an incident event (not JSON, nested too deep, or a field missing)';
      logger.error({ partition, offset: offset.toString(), eventId: event?.eventId, detail }, 'incident event skipped');
      metrics.eventsApplied.inc({ kind: event?.kind ?? 'unknown', outcome: event ? 'failed' : 'unreadable' });
      await redis.set(offsetKey, offset.toString());
      this.appliedOffsets.set(partition, offset);
      this.checkCaughtUp();
      return;
    }
    const { view, outcome, json } = applied.value;
    const tx = redis.multi();
    if (outcome === 'applied' && view) {
      tx.set(keys.incident(view.id), json!);
      tx.zadd(keys.incidents, Date.parse(view.openedAt), view.id);
      for (const s of INCIDENT_STATUSES) {
        if (s === view.status) tx.sadd(keys.incidentsByStatus(s), view.id);
        else tx.srem(keys.incidentsByStatus(s), view.id);
      }
      if (isOpen(view)) {
        tx.zadd(keys.openByActivity, Date.parse(view.lastAlertAt), view.id);
        // The newest open incident owns its key; an older one still open (a race lost to it) stays reachable by id.
        if (event.kind === 'opened') tx.set(keys.incidentOpen(view.key), view.id);
      } else {
        tx.zrem(keys.openByActivity, view.id);
        if ((await redis.get(keys.incidentOpen(view.key))) === view.id) tx.del(keys.incidentOpen(view.key));
      }
      const alert = event.data['alert'] as { id?: unknown } | undefined;
      if (typeof alert?.id === 'string') tx.set(keys.alertIncident(alert.id), view.id);
      // The campaign registry the detector tracks: rewritten on every change (new alerts add terms and roots),
      // dropped from the active set once the incident is resolved (its series stays for the incident page).
      const campaign = campaignRecordOf(view);
      if (campaign) {
        tx.set(keys.campaign(view.id), JSON.stringify(campaign));
        if (isOpen(view)) tx.sadd(keys.campaignsActive, view.id);
        else tx.srem(keys.campaignsActive, view.id);
      }
    }
    tx.set(offsetKey, offset.toString());
    await tx.exec();
    this.appliedOffsets.set(partition, offset);
    metrics.eventsApplied.inc({ kind: event.kind, outcome });
    if (outcome === 'orphan') logger.warn({ eventId: event.eventId, incidentId: event.incidentId, kind: event.kind }, 'event for an unknown incident');
    for (const w of this.waiters.get(event.eventId) ?? []) w.resolve();
    this.waiters.delete(event.eventId);
    this.emit('applied', { event, view, outcome, live: this.state === 'live' });
    this.checkCaughtUp();
  }

  private async readView(id: string): Promise<IncidentView | undefined> {
    const raw = await this.options.redis.get(this.options.keys.incident(id));
    return raw ? (JSON.parse(raw) as IncidentView) : undefined;
  }
}

/** An incident event from a log record, or undefined when it is not one. Depth-limited; never throws. */
function parseEvent(value: Buffer | null): IncidentEvent | undefined {
  if (!value) return undefined;
  const decoded = decodeJson(value, { maxBytes: MAX_EVENT_BYTES });
  if (!decoded.ok || typeof decoded.value !== 'object' || decoded.value === null || Array.isArray(decoded.value)) return undefined;
  const e = decoded.value as Partial<IncidentEvent>;
  if (typeof e.eventId !== 'string' || typeof e.incidentId !== 'string' || typeof e.kind !== 'string' || typeof e.at !== 'string') return undefined;
  const data = typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data) ? e.data : {};
  return { eventId: e.eventId, incidentId: e.incidentId, kind: e.kind, actor: typeof e.actor === 'string' ? e.actor : 'unknown', at: e.at, data };
}
