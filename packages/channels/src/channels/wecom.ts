import { buildContent, renderMarkdown, truncateUtf8 } from '../content.js';
import type { FormatOptions, HttpRequest, OutgoingMessage, VendorBaseUrls, WecomChannel } from '../types.js';

export const WECOM_BASE_URL = 'https://qyapi.weixin.qq.com';
/** WeCom caps markdown content at 4096 bytes of UTF-8. */
const MAX_CONTENT_BYTES = 4096;

/** A WeCom group bot request: `POST /cgi-bin/webhook/send?key=…` with a `markdown` message. */
export function buildWecomRequest(channel: WecomChannel, message: OutgoingMessage, options: FormatOptions, bases: VendorBaseUrls = {}): HttpRequest {
  const base = (channel.baseUrl ?? bases.wecom ?? WECOM_BASE_URL).replace(/\/+$/, '');
  const content = truncateUtf8(renderMarkdown(buildContent(message, options), { withTitle: true, severityColor: true }), MAX_CONTENT_BYTES);
  return {
    url: `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(channel.key)}`,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }),
  };
}
