import { z } from 'zod';
import type { Incident } from '@tingfeng/contracts';

export const CHANNEL_TYPES = ['webhook', 'wecom', 'dingtalk', 'feishu'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const channelId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)');
const common = {
  /** Stable id: routes, escalation levels and rate limits refer to it. */
  id: channelId,
  /** Shown to people (dashboards, logs); never a secret. */
  name: z.string().max(128).optional(),
  /** Messages a minute this channel accepts before the rest are folded into a digest; the notifier's default when absent. */
  rateLimitPerMinute: z.number().int().positive().max(10_000).optional(),
  /** A disabled channel is skipped by routing. */
  enabled: z.boolean().optional(),
};

/** A generic HTTPS webhook: JSON body, `X-Tingfeng-Signature` HMAC-SHA256 over `timestamp.body`. */
export const WebhookChannelSchema = z.object({
  ...common,
  type: z.literal('webhook'),
  url: z.string().url(),
  /** Signing secret; without it the request goes unsigned. */
  secret: z.string().min(1).optional(),
});

/** A WeCom (企业微信) group bot: the key is the credential, there is no signing. */
export const WecomChannelSchema = z.object({
  ...common,
  type: z.literal('wecom'),
  key: z.string().min(1),
  /** Default `https://qyapi.weixin.qq.com`; tests and demos point it at a local receiver. */
  baseUrl: z.string().url().optional(),
});

/** A DingTalk (钉钉) custom robot, with the optional 加签 secret (`SEC…`). */
export const DingtalkChannelSchema = z.object({
  ...common,
  type: z.literal('dingtalk'),
  accessToken: z.string().min(1),
  secret: z.string().min(1).optional(),
  /** Default `https://oapi.dingtalk.com`. */
  baseUrl: z.string().url().optional(),
});

/** A Feishu (飞书) custom bot: the hook token is the last path segment of its webhook URL; optional 签名校验 secret. */
export const FeishuChannelSchema = z.object({
  ...common,
  type: z.literal('feishu'),
  hookToken: z.string().min(1),
  secret: z.string().min(1).optional(),
  /** Default `https://open.feishu.cn`. */
  baseUrl: z.string().url().optional(),
});

/** One notification channel as stored in `{p}config:channels` (secrets included: never return it unredacted). */
export const ChannelSchema = z.discriminatedUnion('type', [WebhookChannelSchema, WecomChannelSchema, DingtalkChannelSchema, FeishuChannelSchema]);
export const ChannelListSchema = z.array(ChannelSchema);

export type Channel = z.infer<typeof ChannelSchema>;
export type WebhookChannel = z.infer<typeof WebhookChannelSchema>;
export type WecomChannel = z.infer<typeof WecomChannelSchema>;
export type DingtalkChannel = z.infer<typeof DingtalkChannelSchema>;
export type FeishuChannel = z.infer<typeof FeishuChannelSchema>;

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

/** What one outgoing message carries: one item, or a digest of several. */
export type OutgoingMessage =
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

/** Default vendor base URLs per channel type, overridable per deployment (tests point them at a local receiver). */
export interface VendorBaseUrls {
  wecom?: string;
  dingtalk?: string;
  feishu?: string;
}

/** A fully built HTTP request: what the sender posts. */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}
