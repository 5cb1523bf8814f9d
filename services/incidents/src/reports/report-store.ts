import { z } from 'zod';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { dayBounds } from '../domain/days.js';
import type { DailyReport } from './daily-report.js';

/** Where one announcement went: the channel, and whether it took it. */
export const ReportDeliverySchema = z.object({
  channel: z.string(),
  ok: z.boolean(),
  at: z.string(),
  error: z.string().optional(),
});
export type ReportDelivery = z.infer<typeof ReportDeliverySchema>;

/** A daily report the scheduled job built and announced (`{p}report:<day>:<scheme>`): what the dashboard lists. */
export const ReportRecordSchema = z.object({
  day: z.string(),
  /** '' for every post. */
  scheme: z.string(),
  builtAt: z.string(),
  overview: z.string(),
  posts: z.number(),
  negativeShare: z.number(),
  incidents: z.array(z.object({ id: z.string(), title: z.string(), severity: z.enum(['info', 'warning', 'critical']), sentence: z.string() })),
  link: z.string(),
  deliveries: z.array(ReportDeliverySchema),
});
export type ReportRecord = z.infer<typeof ReportRecordSchema>;

/** `<day>|<scheme>`: the day has no `|`, the scheme may. */
function splitMember(member: string): { day: string; scheme: string } {
  const bar = member.indexOf('|');
  return bar < 0 ? { day: member, scheme: '' } : { day: member.slice(0, bar), scheme: member.slice(bar + 1) };
}

/** Most records kept: over a year of reports for a few schemes. */
const KEEP = 2000;

/** The records of built reports in Redis: one JSON per day and scheme, a ZSET by day. */
export class ReportStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly timeZone: string,
  ) {}

  /** The record of a report as built now, keeping the deliveries already made (a rebuilt report is not re-sent where it went). */
  recordOf(report: DailyReport, link: string, previous: ReportRecord | undefined): ReportRecord {
    return {
      day: report.day,
      scheme: report.scheme ?? '',
      builtAt: report.builtAt,
      overview: report.overview,
      posts: report.volume.posts,
      negativeShare: report.volume.negativeShare,
      incidents: report.incidents.map((i) => ({ id: i.id, title: i.title, severity: i.severity, sentence: i.sentence })),
      link,
      deliveries: previous?.deliveries ?? [],
    };
  }

  async get(day: string, scheme: string): Promise<ReportRecord | undefined> {
    const raw = await this.redis.get(this.keys.report(day, scheme));
    if (!raw) return undefined;
    const parsed = ReportRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async put(record: ReportRecord): Promise<void> {
    const member = `${record.day}|${record.scheme}`;
    await this.redis
      .multi()
      .set(this.keys.report(record.day, record.scheme), JSON.stringify(record))
      .zadd(this.keys.reports, dayBounds(record.day, this.timeZone).startMs, member)
      .exec();
    const excess = (await this.redis.zcard(this.keys.reports)) - KEEP;
    if (excess > 0) {
      const old = await this.redis.zrange(this.keys.reports, 0, excess - 1);
      const multi = this.redis.multi().zremrangebyrank(this.keys.reports, 0, excess - 1);
      for (const m of old) {
        const { day, scheme } = splitMember(m);
        multi.del(this.keys.report(day, scheme));
      }
      await multi.exec();
    }
  }

  /** The newest records first. */
  async list(limit: number): Promise<ReportRecord[]> {
    const members = await this.redis.zrevrange(this.keys.reports, 0, limit - 1);
    if (members.length === 0) return [];
    const raws = await this.redis.mget(
      members.map((m) => {
        const { day, scheme } = splitMember(m);
        return this.keys.report(day, scheme);
      }),
    );
    const out: ReportRecord[] = [];
    for (const raw of raws) {
      if (!raw) continue;
      const parsed = ReportRecordSchema.safeParse(JSON.parse(raw));
      if (parsed.success) out.push(parsed.data);
    }
    return out;
  }
}
