import type { ChannelType, Incident, Severity } from '@tingfeng/contracts';

export { CHANNEL_TYPES, type ChannelType } from '@tingfeng/contracts';

/**
 * Where a message goes: structurally the `Channel` that `@tingfeng/queue` stores in `{p}config:channels`.
 * `url` is the endpoint as the vendor issues it (bot URLs carry their key or token: a secret); `secret` is the
 * generic webhook's HMAC key or the DingTalk/Feishu signing secret. Neither may reach a log or an API answer.
 */
export interface ChannelTarget {
  id: string;
  type: ChannelType;
  /** Generic webhook: any URL. WeCom: `…/cgi-bin/webhook/send?key=…`. DingTalk: `…/robot/send?access_token=…`. Feishu: `…/open-apis/bot/v2/hook/<token>`. */
  url: string;
  secret?: string | undefined;
}

/** One incident change to tell people about. */
export interface NotificationItem {
  /** The IncidentEvent's id (or a derived one, e.g. for an escalation). */
  eventId: string;
  /** The event kind: `opened`, `alert_appended`, `acknowledged`, `resolved`, `escalated`, … */
  change: string;
  incident: Incident;
  /** For `escalated`: the level reached, 1 first. */
  escalationLevel?: number;
}

/** A daily report (舆情日报) to announce: its one-line summary per incident and where to read it whole. */
export interface ReportNotice {
  /** The report's day, `YYYY-MM-DD` in the organisation's time zone. */
  day: string;
  /** The monitoring scheme it covers; absent for every post. */
  scheme?: string;
  /** The day in one sentence (volume, negative share, incidents). */
  overview: string;
  /** One plain-Chinese sentence per incident opened that day, most severe first. */
  incidents: { id: string; severity: Severity; sentence: string }[];
  /** The report on the dashboard. */
  link: string;
}

/** What one outgoing message carries: one item, a digest of several, or a daily report's announcement. */
export type OutgoingMessage =
  | { kind: 'report'; report: ReportNotice }
  | { kind: 'single'; item: NotificationItem }
  | {
      kind: 'digest';
      items: NotificationItem[];
      /** Why these were folded together. */
      reason: 'rate_limit' | 'quiet_hours';
    };

/** Where links point and which vendor hosts are used when a channel names none. */
export interface FormatOptions {
  /** Base URL of the dashboard; links are `${publicUrl}/#/incidents/<id>`. */
  publicUrl: string;
  /** IANA time zone times are shown in. Default `Asia/Shanghai`. */
  timeZone?: string;
}

/** A fully built HTTP request: what the sender posts. */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}
