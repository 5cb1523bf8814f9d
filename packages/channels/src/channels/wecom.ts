import { buildContent, renderMarkdown, truncateUtf8 } from '../content.js';
import type { ChannelTarget, FormatOptions, HttpRequest, OutgoingMessage } from '../types.js';

/** WeCom caps markdown content at 4096 bytes of UTF-8. */
const MAX_CONTENT_BYTES = 4096;

/** A WeCom group bot request: `POST <url>` (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`), a `markdown` message. */
export function buildWecomRequest(channel: ChannelTarget, message: OutgoingMessage, options: FormatOptions): HttpRequest {
  const content = truncateUtf8(renderMarkdown(buildContent(message, options), { withTitle: true, severityColor: true }), MAX_CONTENT_BYTES);
  return {
    url: channel.url,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }),
  };
}
