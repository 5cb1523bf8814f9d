import { z } from 'zod';
import { SEVERITIES } from './alert.js';
import { CHANNEL_TYPES } from './channel.js';

/**
 * Configuration objects the incidents API stores in Redis (`{p}config:*`) and the notifier (the analyzer: the schemes)
 * reads.
 * Objects are loose: a field this schema does not name is kept, so the notifier can add options without a change here.
 */

/** What an incident must match; every given field must match, an absent one matches anything. */
export const IncidentMatcherSchema = z.looseObject({
  /** Alert/incident types, e.g. `cascade`, `story`. */
  types: z.array(z.string().min(1)).optional(),
  /** Severities the rule accepts. */
  severities: z.array(z.enum(SEVERITIES)).optional(),
  /** Lowest severity the rule accepts. */
  minSeverity: z.enum(SEVERITIES).optional(),
  /** At least one of these terms among the incident's terms. */
  terms: z.array(z.string().min(1)).optional(),
  /** At least one of these regions among the incident's alerts' regions. */
  regions: z.array(z.string().min(1)).optional(),
  /** At least one of these monitoring schemes among the incident's schemes. */
  schemes: z.array(z.string().min(1)).optional(),
  /** Exact incident dedup keys. */
  keys: z.array(z.string().min(1)).optional(),
});
export type IncidentMatcher = z.infer<typeof IncidentMatcherSchema>;

/** One escalation level: if the incident is still `triggered` `afterMs` after it opened, notify these channels. */
export const EscalationLevelSchema = z.looseObject({
  afterMs: z.number().int().positive(),
  channels: z.array(z.string().min(1)).min(1),
});

/** A routing rule: incidents it matches go to its channels. */
export const RouteRuleSchema = z.looseObject({
  id: z.string().min(1).max(64),
  name: z.string().max(200).optional(),
  match: IncidentMatcherSchema.default({}),
  /** Channel ids (see ChannelSchema). */
  channels: z.array(z.string().min(1)).min(1),
  escalation: z.array(EscalationLevelSchema).optional(),
  /** Keep evaluating later rules after this one matched. */
  continue: z.boolean().optional(),
});
export type RouteRule = z.infer<typeof RouteRuleSchema>;

/** `{p}config:routes`. */
export const RoutesConfigSchema = z.looseObject({
  rules: z.array(RouteRuleSchema),
  /** Channels for an incident no rule matched; empty or absent drops it. */
  defaultChannels: z.array(z.string().min(1)).optional(),
});
export type RoutesConfig = z.infer<typeof RoutesConfigSchema>;

/** A silence: mutes notifications for matching incidents until `endsAt`. */
export const SilenceSchema = z.looseObject({
  id: z.string().min(1).max(64),
  matcher: IncidentMatcherSchema,
  /** ISO-8601 wall time; absent means now. */
  startsAt: z.iso.datetime({ offset: true }).optional(),
  /** ISO-8601 wall time the silence expires. */
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().max(1000).optional(),
  createdBy: z.string().optional(),
  createdAt: z.string().optional(),
});
export type Silence = z.infer<typeof SilenceSchema>;

/** Most monitoring schemes stored: the detector's per-scheme baselines are capped at the same number. */
export const MAX_SCHEMES = 1000;

/**
 * A monitoring scheme (`Scheme` of `@tingfeng/text`) in `{p}config:schemes`: the incidents API checks the shape
 * with it before storing (the rule's syntax with the analyzer's compiler), the analyzer and the daily reports read
 * through it. Loose, like the other config objects, so a `description` or other note is kept.
 */
export const SchemeSchema = z.looseObject({
  name: z.string().trim().min(1).max(100),
  rule: z.string().max(4000),
  accounts: z.array(z.string().trim().min(1).max(200)).max(5000).optional(),
  enabled: z.boolean().optional(),
  /** The daily report (舆情日报): built every morning when `daily`, its link and summary sent to `channels` (channel ids). */
  report: z.object({ daily: z.boolean(), channels: z.array(z.string().min(1).max(64)).max(50).optional() }).optional(),
});
export const SchemesConfigSchema = z.array(SchemeSchema).max(MAX_SCHEMES);
export type SchemeConfig = z.infer<typeof SchemeSchema>;

/** Daily window (channel's local time, `HH:MM`) in which only critical incidents are sent. */
export const QuietHoursSchema = z.looseObject({
  start: z.string().regex(/^\d{2}:\d{2}$/),
  end: z.string().regex(/^\d{2}:\d{2}$/),
  /** IANA zone, default Asia/Shanghai. */
  timeZone: z.string().optional(),
});

/**
 * A notification channel. `url` (bot webhooks carry their key in it) and `secret` are secrets:
 * the API returns them redacted.
 */
export const ChannelSchema = z.looseObject({
  id: z.string().min(1).max(64),
  type: z.enum(CHANNEL_TYPES),
  name: z.string().max(200).optional(),
  url: z.string().url(),
  /** HMAC key (webhook) or signing secret (DingTalk, Feishu). */
  secret: z.string().optional(),
  /** Messages per minute the channel accepts before digesting; bots allow about 20. */
  ratePerMinute: z.number().int().positive().optional(),
  quietHours: QuietHoursSchema.optional(),
  enabled: z.boolean().optional(),
});
export type Channel = z.infer<typeof ChannelSchema>;

export const ChannelsConfigSchema = z.array(ChannelSchema);

/** What a secret reads as in API answers; a PUT carrying it keeps the stored value. */
export const REDACTED = '[redacted]';

/** A channel as the API shows it: secret replaced, the URL's query string (bot keys, tokens) replaced. */
export function redactChannel(channel: Channel): Channel {
  const out: Channel = { ...channel };
  if (out.secret !== undefined) out.secret = REDACTED;
  out.url = redactUrl(out.url, out.type === 'feishu');
  return out;
}

/**
 * The URL without its credentials: query values (WeCom `key`, DingTalk `access_token`), user info and, when
 * `pathToken` is set, the last path segment (Feishu puts the bot's token there: `/open-apis/bot/v2/hook/<token>`).
 */
function redactUrl(url: string, pathToken: boolean): string {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/');
    const last = segments.length - 1;
    const tokenInPath = pathToken && (segments[last] ?? '') !== '';
    if (u.search === '' && u.username === '' && u.password === '' && !tokenInPath) return url;
    if (tokenInPath) segments[last] = REDACTED;
    const params = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join('&');
    return `${u.protocol}//${u.host}${segments.join('/')}${params ? `?${params}` : ''}`;
  } catch {
    return REDACTED;
  }
}

/**
 * Merges an incoming channel list with the stored one: a field sent as redacted keeps the stored value of the
 * channel with the same id, so an admin can edit a channel they only ever saw redacted.
 */
export function mergeRedactedChannels(incoming: Channel[], stored: Channel[]): Channel[] {
  const byId = new Map(stored.map((c) => [c.id, c]));
  return incoming.map((c) => {
    const prev = byId.get(c.id);
    const out: Channel = { ...c };
    if (out.secret === REDACTED) {
      if (prev?.secret !== undefined) out.secret = prev.secret;
      else delete out.secret;
    }
    if (out.url.includes(REDACTED) && prev) out.url = prev.url;
    return out;
  });
}
