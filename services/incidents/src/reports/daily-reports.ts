import { buildRequest, sendRequest, type AllowList, type ReportNotice } from '@tingfeng/channels';
import { QUEUES } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import { JOB_RETENTION, Queue, Worker, type Job, type QueueSettings, type RedisKeys } from '@tingfeng/queue';
import { ChannelsConfigSchema, SchemesConfigSchema } from '@tingfeng/contracts';
import type { Redis } from '@tingfeng/redis';
import type { ArchiveGate } from '../archive/archive-gate.js';
import { dayOf, shiftDay, type Day } from '../domain/days.js';
import type { ViewStore } from '../store/view-store.js';
import { buildDailyReport } from './build-report.js';
import type { DailyReport } from './daily-report.js';
import { renderReportHtml } from './render-html.js';
import { ReportStore, type ReportDelivery, type ReportRecord } from './report-store.js';

/** Data of a job on `reports`: the scheduler's carries nothing (the day before, every scheme that asks); a manual run names them. */
export interface ReportJobData {
  day?: Day;
  /** One scheme, whether or not it asks for a daily report; '' for every post. */
  scheme?: string;
}

export const REPORT_JOB = 'daily-reports';
/** The id of the repeatable job's scheduler (one per deployment: upserting it again replaces it). */
export const REPORT_SCHEDULER_ID = 'daily-reports';

export interface DailyReportsOptions {
  archive: ArchiveGate;
  store: ViewStore;
  redis: Redis;
  keys: RedisKeys;
  queue: QueueSettings;
  timeZone: string;
  publicUrl: string;
  /** `HH:MM` in `timeZone` the reports are built at. */
  dailyAt: string;
  /** Non-public destinations announcements may reach (NOTIFY_ALLOWED_HOSTS); bots go only to their vendors' hosts. */
  allowList: AllowList;
  logger: Logger;
}

/** The states of the report scheduler: `idle` (built, not started), `running` (scheduled, worker taking jobs), `stopped`. */
export type DailyReportsState = 'idle' | 'running' | 'stopped';

/** The dashboard's link to a report. */
export function reportLink(publicUrl: string, day: Day, scheme: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/reports/${day}${scheme ? `?scheme=${encodeURIComponent(scheme)}` : ''}`;
}

/** `HH:MM` as a cron pattern, every day. */
export function dailyPattern(at: string): string {
  const [h = '0', m = '0'] = at.split(':');
  return `${Number(m)} ${Number(h)} * * *`;
}

/**
 * The daily reports (舆情日报): built on request for the API, and every morning by a BullMQ repeatable job (cron in
 * TIME_ZONE) for each monitoring scheme whose `report.daily` is set, recorded in Redis and announced to the scheme's
 * channels (link + summary). A channel that took the announcement is not sent it again when the job is retried.
 */
export class DailyReports {
  readonly records: ReportStore;
  #state: DailyReportsState = 'idle';
  #queue: Queue<ReportJobData> | undefined;
  #worker: Worker<ReportJobData> | undefined;

  constructor(private readonly o: DailyReportsOptions) {
    this.records = new ReportStore(o.redis, o.keys, o.timeZone);
  }

  get state(): DailyReportsState {
    return this.#state;
  }

  /** The report of `day` (every post, or one scheme's), as it stands now. */
  build(day: Day, scheme?: string, nowMs?: number): Promise<DailyReport> {
    return buildDailyReport({
      archive: this.o.archive.get(),
      store: this.o.store,
      day,
      scheme: scheme || undefined,
      timeZone: this.o.timeZone,
      publicUrl: this.o.publicUrl,
      ...(nowMs !== undefined ? { nowMs } : {}),
    });
  }

  /** Schedules the morning job (replacing an earlier schedule) and starts the worker. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#queue = new Queue<ReportJobData>(QUEUES.reports, this.o.queue);
    await this.#queue.upsertJobScheduler(
      REPORT_SCHEDULER_ID,
      { pattern: dailyPattern(this.o.dailyAt), tz: this.o.timeZone },
      { name: REPORT_JOB, data: {}, opts: { attempts: 5, backoff: { type: 'exponential', delay: 60_000 }, ...JOB_RETENTION } },
    );
    this.#worker = new Worker<ReportJobData>(QUEUES.reports, (job) => this.#run(job), { ...this.o.queue, concurrency: 1 });
    this.#worker.on('failed', (job, err) => this.o.logger.warn({ jobId: job?.id, err, attempts: job?.attemptsMade }, 'daily report job failed'));
    this.#worker.on('error', (err) => this.o.logger.error({ err }, 'daily report worker error'));
    this.#state = 'running';
  }

  /** Builds and announces now (the job a manual `POST /api/reports/daily` enqueues). */
  async enqueue(data: ReportJobData): Promise<string> {
    if (!this.#queue) throw new Error('daily reports not started');
    const job = await this.#queue.add(REPORT_JOB, data, { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...JOB_RETENTION });
    return job.id ?? '';
  }

  /** The schedule as BullMQ holds it (pattern, tz, next run). */
  async schedule(): Promise<{ pattern: string | null; tz: string | null; next: number | null } | undefined> {
    const s = await this.#queue?.getJobScheduler(REPORT_SCHEDULER_ID);
    return s ? { pattern: s.pattern ?? null, tz: s.tz ?? null, next: s.next ?? null } : undefined;
  }

  async #run(job: Job<ReportJobData>): Promise<{ built: string[] }> {
    // The morning job covers the day before, in the organisation's zone.
    const day = job.data.day ?? shiftDay(dayOf(Date.now(), this.o.timeZone), -1);
    let schemes: string[];
    if (job.data.scheme !== undefined) schemes = [job.data.scheme];
    else {
      const stored = SchemesConfigSchema.safeParse(JSON.parse((await this.o.redis.get(this.o.keys.schemes)) ?? '[]'));
      schemes = stored.success ? stored.data.filter((s) => s.enabled !== false && s.report?.daily).map((s) => s.name) : [];
    }
    const built: string[] = [];
    for (const scheme of schemes) {
      await this.#buildAndAnnounce(day, scheme);
      built.push(`${day}|${scheme}`);
    }
    return { built };
  }

  async #buildAndAnnounce(day: Day, scheme: string): Promise<ReportRecord> {
    const report = await this.build(day, scheme);
    const link = reportLink(this.o.publicUrl, day, scheme);
    const previous = await this.records.get(day, scheme);
    const record = this.records.recordOf(report, link, previous);
    await this.records.put(record);
    this.o.logger.info({ day, scheme, posts: record.posts, incidents: record.incidents.length }, 'daily report built');

    const stored = SchemesConfigSchema.safeParse(JSON.parse((await this.o.redis.get(this.o.keys.schemes)) ?? '[]'));
    const wanted = (stored.success ? stored.data.find((s) => s.name === scheme)?.report?.channels : undefined) ?? [];
    if (wanted.length === 0) return record;
    const channels = ChannelsConfigSchema.safeParse(JSON.parse((await this.o.redis.get(this.o.keys.channels)) ?? '[]'));
    const byId = new Map((channels.success ? channels.data : []).map((c) => [c.id, c]));
    const notice: ReportNotice = {
      day,
      ...(scheme ? { scheme } : {}),
      overview: report.overview,
      incidents: report.incidents.map((i) => ({ id: i.id, severity: i.severity, sentence: i.sentence })),
      link,
    };
    let retriable: Error | undefined;
    for (const id of wanted) {
      if (record.deliveries.some((d) => d.channel === id && d.ok)) continue;
      const channel = byId.get(id);
      const at = new Date().toISOString();
      let delivery: ReportDelivery;
      if (!channel || channel.enabled === false) delivery = { channel: id, ok: false, at, error: channel ? 'channel disabled' : 'no such channel' };
      else {
        try {
          // The delivery id travels as a header: ASCII only.
          const request = buildRequest(channel, { kind: 'report', report: notice }, { publicUrl: this.o.publicUrl, timeZone: this.o.timeZone, nowMs: Date.now(), deliveryId: `report:${day}:${encodeURIComponent(scheme)}:${id}` });
          await sendRequest(channel.type, request, { allowList: this.o.allowList });
          delivery = { channel: id, ok: true, at };
        } catch (err) {
          const e = err as Error & { retriable?: boolean };
          delivery = { channel: id, ok: false, at, error: e.message };
          if (e.retriable !== false) retriable = e;
        }
      }
      record.deliveries = [...record.deliveries.filter((d) => d.channel !== id), delivery];
      this.o.logger[delivery.ok ? 'info' : 'warn']({ day, scheme, channel: id, ok: delivery.ok, error: delivery.error }, 'daily report announced');
    }
    await this.records.put(record);
    // A channel that may take it later makes the job retry; the ones that took it are skipped then.
    if (retriable) throw retriable;
    return record;
  }

  /** The report as HTML. */
  async html(day: Day, scheme?: string): Promise<string> {
    return renderReportHtml(await this.build(day, scheme));
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    const errors: unknown[] = [];
    for (const close of [() => this.#worker?.close(), () => this.#queue?.close()]) {
      try {
        await close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'daily reports did not stop cleanly');
  }
}
