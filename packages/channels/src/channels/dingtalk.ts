import { buildContent, renderMarkdown, truncateUtf8 } from '../content.js';
import { dingtalkSign } from '../signing.js';
import type { ChannelTarget, FormatOptions, HttpRequest, OutgoingMessage } from '../types.js';

/** Kept well below DingTalk's request size limit. */
const MAX_TEXT_BYTES = 16_000;

/**
 * A DingTalk robot request: `POST <url>` (`https://oapi.dingtalk.com/robot/send?access_token=…`), with a secret
 * `&timestamp=<ms>&sign=<url-encoded base64>` appended, and a `markdown` message (`title` shows in the notification
 * preview, `text` in the chat).
 */
export function buildDingtalkRequest(channel: ChannelTarget, message: OutgoingMessage, options: FormatOptions, nowMs: number): HttpRequest {
  const content = buildContent(message, options);
  let url = channel.url;
  // dingtalkSign already URL-encodes the base64 signature, as DingTalk's documentation prescribes.
  if (channel.secret) url += `${url.includes('?') ? '&' : '?'}timestamp=${nowMs}&sign=${dingtalkSign(nowMs, channel.secret)}`;
  return {
    url,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      msgtype: 'markdown',
      markdown: { title: content.title, text: truncateUtf8(renderMarkdown(content), MAX_TEXT_BYTES) },
    }),
  };
}
