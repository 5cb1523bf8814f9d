import { buildContent, renderMarkdown, truncateUtf8 } from '../content.js';
import { dingtalkSign } from '../signing.js';
import type { DingtalkChannel, FormatOptions, HttpRequest, OutgoingMessage, VendorBaseUrls } from '../types.js';

export const DINGTALK_BASE_URL = 'https://oapi.dingtalk.com';
/** Kept well below DingTalk's request size limit. */
const MAX_TEXT_BYTES = 16_000;

/**
 * A DingTalk robot request: `POST /robot/send?access_token=…[&timestamp=<ms>&sign=<url-encoded base64>]` with a
 * `markdown` message (`title` shows in the notification preview, `text` in the chat).
 */
export function buildDingtalkRequest(
  channel: DingtalkChannel,
  message: OutgoingMessage,
  options: FormatOptions,
  nowMs: number,
  bases: VendorBaseUrls = {},
): HttpRequest {
  const base = (channel.baseUrl ?? bases.dingtalk ?? DINGTALK_BASE_URL).replace(/\/+$/, '');
  const content = buildContent(message, options);
  let url = `${base}/robot/send?access_token=${encodeURIComponent(channel.accessToken)}`;
  // dingtalkSign already URL-encodes the base64 signature, as DingTalk's documentation prescribes.
  if (channel.secret) url += `&timestamp=${nowMs}&sign=${dingtalkSign(nowMs, channel.secret)}`;
  return {
    url,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      msgtype: 'markdown',
      markdown: { title: content.title, text: truncateUtf8(renderMarkdown(content), MAX_TEXT_BYTES) },
    }),
  };
}
