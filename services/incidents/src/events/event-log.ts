import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { decodeIncidentEvent, encodeIncidentEvent, type IncidentEvent } from '@tingfeng/contracts';
import { attemptBounded, ConsumerRecovery, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from '@tingfeng/kafka';
import { TIMED_OUT, withTimeout } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { applyEvent, isOpen, type ApplyOutcome, type IncidentView, type TimelineEntry, type ViewCaps } from '../domain/incident-view.js';
import type { IncidentsMetrics } from '../metrics.js';
import type { ViewEpoch } from '../store/view-epoch.js';
import type { HistoryAppend, ViewWriter } from '../store/view-writer.js';

/** What the applier did with an event: applied, a duplicate or an orphan; or `expired` (it resolved an incident already past its retention, which left Redis). */
export type AppliedOutcome = ApplyOutcome | 'expired';

/** An event the applier has handled, with the view after it. */
export interface AppliedEvent {
  event: IncidentEvent;
  view: IncidentView | undefined;
  outcome: AppliedOutcome;
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
  /** The view's writes (indexes, history lists, retention). */
  writer: ViewWriter;
  /** How much history the view JSON itself carries. */
  caps: ViewCaps;
  /** Wall clock; injectable for tests. */
  nowMs?: () => number;
  /**
   * Checks that the view read before an append was not wiped meanwhile ({@link ViewEpoch.verify}); an append is
   * refused otherwise, so no decision taken from a wiped view reaches the log.
   */
  epoch?: Pick<ViewEpoch, 'verify'>;
  /** Called once when the applier cannot go on (not an outage, or one longer than 5 minutes): exit the process. */
  onFailed?: (err: Error) => void;
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
  private admin: Admin | undefined;
  /** Applying an event, expiring incidents and writing a rebuilt one take turns: each reads and writes whole incidents. */
  private turn: Promise<unknown> = Promise.resolve();
  state: ApplierState = 'initialized';
  private readonly recovery: ConsumerRecovery;

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
    });
    // An outage kafkajs gives up on is ridden out with backoff; anything else fails the applier (and the process).
    this.recovery = new ConsumerRecovery({
      consumer: this.consumer,
      restart: () => this.runApplier(),
      logger: options.logger,
      onFailed: (err) => {
        this.fail(err);
        options.onFailed?.(err);
      },
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
    this.admin = admin;
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
    await this.runApplier();
    logger.info({ topic, from: Object.fromEntries([...this.appliedOffsets].map(([p, o]) => [p, o.toString()])) }, 'applying incident-events');
    await this.caughtUp.promise;
    logger.info('incident view caught up with the log');
  }

  /** Runs the consumer from the offsets the view holds (at start, and again after an outage). */
  private async runApplier(): Promise<void> {
    const { topic } = this.options;
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    // Skip what the view already holds; without a stored offset the log is read from its start.
    for (const [partition, applied] of this.appliedOffsets) {
      if (applied >= 0n) this.consumer.seek({ topic, partition, offset: (applied + 1n).toString() });
    }
  }

  async stop(): Promise<void> {
    this.recovery.stop();
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
    // The caller decided these events from the view: if it has been wiped since, they must not be written.
    await this.options.epoch?.verify();
    const applied = events.map((e) => this.waitFor(e.eventId));
    try {
      await this.options.producer.send({
        topic: this.options.topic,
        acks: -1,
        messages: events.map(encodeIncidentEvent),
      });
      if ((await withTimeout(Promise.all(applied.map((w) => w.promise)), this.options.applyTimeoutMs)) === TIMED_OUT) {
        throw new Error(`events not applied within ${this.options.applyTimeoutMs} ms`);
      }
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
        await this.exclusive(() => this.applyMessage(batch.partition, offset, message.value));
      }
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private now(): number {
    return (this.options.nowMs ?? Date.now)();
  }

  private async applyMessage(partition: number, offset: bigint, value: Buffer | null): Promise<void> {
    const { redis, keys, topic, logger, metrics, writer, caps } = this.options;
    const offsetKey = keys.appliedOffset(topic, partition);
    const event = decodeIncidentEvent(value);
    // What depends on the event alone (reading it, applying it, serialising the view) is tried a bounded number of
    // times; an event that fails is skipped like an unreadable one, so one bad record cannot stop the applier.
    const before = event ? await this.readView(event.incidentId) : undefined;
    // The view's timeline is capped; the incident's seen set holds every event id applied (the newest historyMax).
    const copy = event && before ? await writer.seen(before.id, event.eventId) : false;
    const applied = event ? attemptBounded(() => {
      const result = copy ? { view: before, outcome: 'duplicate' as const } : applyEvent(before, event, caps);
      const until = result.outcome === 'applied' && result.view ? writer.retainedUntilMs(result.view) : null;
      const view = result.view && until !== null ? { ...result.view, retainedUntil: new Date(until).toISOString() } : result.view;
      return { ...result, view, until, json: view ? JSON.stringify(view) : undefined };
    }) : undefined;
    if (!event || !applied?.ok) {
      const detail = applied && !applied.ok ? applied.error : 'not an incident event (not JSON, nested too deep, an unknown kind, or a field missing or mistyped)';
      logger.error({ partition, offset: offset.toString(), eventId: event?.eventId, detail }, 'incident event skipped');
      metrics.eventsApplied.inc({ kind: event?.kind ?? 'unknown', outcome: event ? 'failed' : 'unreadable' });
      await redis.set(offsetKey, offset.toString());
      this.appliedOffsets.set(partition, offset);
      this.checkCaughtUp();
      return;
    }
    const { view, json, until } = applied.value;
    let outcome: AppliedOutcome = applied.value.outcome;
    const tx = redis.multi();
    if (outcome === 'applied' && view) {
      const owner = await writer.openKeyOwner(view.key);
      if (until !== null && until <= this.now()) {
        // Resolved longer ago than the retention (a replay of an old log): it leaves Redis instead of being written.
        if (before) writer.remove(tx, before, await writer.alertIdsOf(before), owner);
        outcome = 'expired';
      } else {
        writer.write(tx, before, view, json!, historyOf(before, view, event), owner, event.kind === 'opened');
      }
    }
    tx.set(offsetKey, offset.toString());
    await tx.exec();
    this.appliedOffsets.set(partition, offset);
    metrics.eventsApplied.inc({ kind: event.kind, outcome });
    if (outcome === 'orphan') logger.warn({ eventId: event.eventId, incidentId: event.incidentId, kind: event.kind }, 'event for an unknown incident');
    for (const w of this.waiters.get(event.eventId) ?? []) w.resolve();
    this.waiters.delete(event.eventId);
    this.emit('applied', { event, view: outcome === 'expired' ? undefined : view, outcome, live: this.state === 'live' });
    this.checkCaughtUp();
  }

  /**
   * Removes from Redis every resolved incident whose retention has run out (at most `batch` per call, oldest first);
   * returns how many. The log keeps them: {@link rebuild} brings one back.
   */
  expire(batch = 200): Promise<number> {
    const { redis, keys, writer, metrics } = this.options;
    return this.exclusive(async () => {
      const nowMs = this.now();
      const ids = await redis.zrangebyscore(keys.incidentsExpiry, '-inf', nowMs, 'LIMIT', 0, batch);
      let removed = 0;
      for (const id of ids) {
        const view = await this.readView(id);
        const tx = redis.multi();
        if (!view) {
          tx.zrem(keys.incidentsExpiry, id).zrem(keys.incidents, id);
        } else {
          const until = writer.retainedUntilMs(view);
          if (until === null || until > nowMs) continue;
          writer.remove(tx, view, await writer.alertIdsOf(view), await writer.openKeyOwner(view.key));
          removed++;
        }
        await tx.exec();
      }
      if (removed > 0) {
        metrics.incidentsExpired.inc(removed);
        this.options.logger.info({ removed }, 'resolved incidents past their retention removed from the view');
      }
      return removed;
    });
  }

  /**
   * Rebuilds one incident's view from the log (after it expired, or to repair it): reads `incident-events` from the
   * start with a throwaway consumer group, folds the incident's events as the applier would, and writes the result,
   * kept for the retention period from now. Up to the applier's position: the last stretch is read while the applier
   * waits, so no event is applied twice or missed. Undefined when the log holds no `opened` event for it.
   */
  async rebuild(incidentId: string): Promise<IncidentView | undefined> {
    const { kafka, topic, groupId, redis, writer, caps, logger } = this.options;
    const group = `${groupId}.rebuild.${randomUUID()}`;
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100, readUncommitted: false });
    const key = Buffer.from(incidentId);
    const found: { partition: number; offset: bigint; event: IncidentEvent }[] = [];
    const read = new Map<number, bigint>();
    let targets = new Map(this.appliedOffsets);
    let wake: () => void = () => undefined;
    const reached = () => [...targets].every(([p, t]) => t < 0n || (read.get(p) ?? -1n) >= t);
    const until = (): Promise<void> =>
      reached()
        ? Promise.resolve()
        : new Promise((resolve) => {
            wake = () => {
              if (reached()) resolve();
            };
          });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          for (const m of batch.messages) {
            if (m.key?.equals(key)) {
              const event = decodeIncidentEvent(m.value);
              if (event?.incidentId === incidentId) found.push({ partition: batch.partition, offset: BigInt(m.offset), event });
            }
            read.set(batch.partition, BigInt(m.offset));
          }
          await heartbeat();
          wake();
        },
      });
      await until();
      return await this.exclusive(async () => {
        // What the applier took meanwhile (orphans, if the incident was gone) is read before anything is written.
        targets = new Map(this.appliedOffsets);
        await until();
        const events = found.filter((f) => f.offset <= (targets.get(f.partition) ?? -1n)).map((f) => f.event);
        const folded = foldEvents(events, caps, writer.bounds.historyMax);
        if (!folded) return undefined;
        const untilMs = writer.retainedUntilMs(folded.view);
        const view: IncidentView = { ...folded.view, retainedUntil: untilMs === null ? null : new Date(Math.max(untilMs, this.now() + writer.bounds.retentionMs)).toISOString() };
        const before = await this.readView(incidentId);
        const owner = await writer.openKeyOwner(view.key);
        const tx = redis.multi();
        if (before) writer.remove(tx, before, await writer.alertIdsOf(before), owner);
        writer.write(tx, undefined, view, JSON.stringify(view), folded.history, owner, isOpen(view) && (owner === null || owner === incidentId));
        await tx.exec();
        logger.info({ incidentId, events: events.length }, 'incident rebuilt from the log');
        return view;
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await this.admin?.deleteGroups([group]).catch(() => undefined);
    }
  }

  private async readView(id: string): Promise<IncidentView | undefined> {
    const raw = await this.options.redis.get(this.options.keys.incident(id));
    return raw ? (JSON.parse(raw) as IncidentView) : undefined;
  }
}

/** The history entries one applied event adds: its timeline entry, and the alert if it was new to the incident. */
function historyOf(before: IncidentView | undefined, after: IncidentView, event: IncidentEvent): HistoryAppend {
  const entry = after.timeline.at(-1);
  const alert = event.kind === 'opened' || event.kind === 'alert_appended' ? event.data.alert : undefined;
  const grew = after.alertCount > (before?.alertCount ?? 0);
  return { entries: entry ? [entry] : [], alerts: grew && alert ? [{ seq: after.alertCount, alert }] : [] };
}

/**
 * An incident's view and history from its events in log order, as the applier would have built them one by one
 * (each event id once), the history trimmed to the newest `historyMax`. Undefined without an `opened` event.
 */
export function foldEvents(events: readonly IncidentEvent[], caps: ViewCaps, historyMax: number): { view: IncidentView; history: HistoryAppend } | undefined {
  let view: IncidentView | undefined;
  const seen = new Set<string>();
  const entries: TimelineEntry[] = [];
  const alerts: HistoryAppend['alerts'] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    const result = applyEvent(view, event, caps);
    if (result.outcome !== 'applied' || !result.view) continue;
    seen.add(event.eventId);
    const history = historyOf(view, result.view, event);
    entries.push(...history.entries);
    alerts.push(...history.alerts);
    view = result.view;
  }
  if (!view) return undefined;
  return { view, history: { entries: entries.slice(-historyMax), alerts: alerts.slice(-historyMax) } };
}
