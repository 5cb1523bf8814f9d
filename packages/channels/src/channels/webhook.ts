import { buildContent, evidenceOf, incidentLink, renderMarkdown, renderText, changeLabel } from '../content.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhookBody } from '../signing.js';
import type { FormatOptions, HttpRequest, NotificationItem, OutgoingMessage, ChannelTarget, ReportNotice } from '../types.js';

/** The JSON a generic webhook receives for one item. */
export interface WebhookItemPayload {
  eventId: string;
  change: string;
  changeLabel: string;
  escalationLevel?: number;
  link: string;
  incident: {
    id: string;
    key: string;
    type: string;
    status: string;
    severity: string;
    title: string;
    openedAt: string;
    acknowledgedAt: string | null;
    acknowledgedBy: string | null;
    resolvedAt: string | null;
    terms: string[];
    postIds: string[];
    observed?: number;
    expected?: number;
    schemes: string[];
  };
}

/** The JSON body of a generic webhook request. */
export interface WebhookPayload {
  source: 'tingfeng';
  version: 1;
  kind: 'single' | 'digest' | 'report';
  /** One line in Chinese, e.g. `【舆情·严重】新事件：…`. */
  title: string;
  /** The message as Markdown, ready to forward to a chat. */
  markdown: string;
  text: string;
  /** Why items were folded together, for a digest. */
  digestReason?: 'rate_limit' | 'quiet_hours';
  /** For `report`: the daily report announced (its day, scheme, overview, one sentence per incident, link). */
  report?: ReportNotice;
  items: WebhookItemPayload[];
}

function itemPayload(item: NotificationItem, options: FormatOptions): WebhookItemPayload {
  const { incident } = item;
  const evidence = evidenceOf(incident);
  return {
    eventId: item.eventId,
    change: item.change,
    changeLabel: changeLabel(item),
    ...(item.escalationLevel !== undefined ? { escalationLevel: item.escalationLevel } : {}),
    link: incidentLink(options.publicUrl, incident.id),
    incident: {
      id: incident.id,
      key: incident.key,
      type: incident.type,
      status: incident.status,
      severity: incident.severity,
      title: incident.title,
      openedAt: incident.openedAt,
      acknowledgedAt: incident.acknowledgedAt,
      acknowledgedBy: incident.acknowledgedBy,
      resolvedAt: incident.resolvedAt,
      terms: evidence.terms,
      postIds: evidence.postIds,
      ...(evidence.observed !== undefined ? { observed: evidence.observed } : {}),
      ...(evidence.expected !== undefined ? { expected: evidence.expected } : {}),
      schemes: evidence.schemes,
    },
  };
}

/** The body of a generic webhook request (exported for receivers and tests). */
export function webhookPayload(message: OutgoingMessage, options: FormatOptions): WebhookPayload {
  const content = buildContent(message, options);
  const items = message.kind === 'single' ? [message.item] : message.kind === 'digest' ? message.items : [];
  return {
    source: 'tingfeng',
    version: 1,
    kind: message.kind,
    title: content.title,
    markdown: renderMarkdown(content),
    text: renderText(content),
    ...(message.kind === 'digest' ? { digestReason: message.reason } : {}),
    ...(message.kind === 'report' ? { report: message.report } : {}),
    items: items.map((it) => itemPayload(it, options)),
  };
}

/**
 * A signed generic webhook request. Headers: `X-Tingfeng-Timestamp` (Unix seconds) and, with a secret,
 * `X-Tingfeng-Signature: sha256=<hex>` over `${timestamp}.${body}`; `X-Tingfeng-Delivery` lets a receiver de-duplicate.
 */
export function buildWebhookRequest(channel: ChannelTarget, message: OutgoingMessage, options: FormatOptions, nowMs: number, deliveryId: string): HttpRequest {
  const body = JSON.stringify(webhookPayload(message, options));
  const timestampSeconds = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    [TIMESTAMP_HEADER]: String(timestampSeconds),
    'x-tingfeng-delivery': deliveryId,
  };
  if (channel.secret) headers[SIGNATURE_HEADER] = signWebhookBody(body, channel.secret, timestampSeconds);
  return { url: channel.url, headers, body };
}
