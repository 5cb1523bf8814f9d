import { buildContent, renderMarkdown, truncateUtf8 } from '../content.js';
import { feishuSign } from '../signing.js';
import type { ChannelTarget, FormatOptions, HttpRequest, OutgoingMessage } from '../types.js';

/** Feishu refuses request bodies over 20 KB; the card text is kept well below. */
const MAX_TEXT_BYTES = 12_000;

const TEMPLATE_BY_SEVERITY = { info: 'blue', warning: 'orange', critical: 'red' } as const;

/**
 * A Feishu custom bot request: `POST <url>` (`https://open.feishu.cn/open-apis/bot/v2/hook/<token>`) with an `interactive` card (header coloured by
 * severity, lark_md body, a button to the incident page); with a secret, `timestamp` (seconds) and `sign` in the body.
 */
export function buildFeishuRequest(channel: ChannelTarget, message: OutgoingMessage, options: FormatOptions, nowMs: number): HttpRequest {
  const content = buildContent(message, options);
  const timestampSeconds = Math.floor(nowMs / 1000);
  const signature = channel.secret ? { timestamp: String(timestampSeconds), sign: feishuSign(timestampSeconds, channel.secret) } : {};
  const card = {
    config: { wide_screen_mode: true },
    header: { template: TEMPLATE_BY_SEVERITY[content.severity], title: { tag: 'plain_text', content: content.title } },
    elements: [
      { tag: 'div', text: { tag: 'lark_md', content: truncateUtf8(renderMarkdown(content, { withTitle: false }), MAX_TEXT_BYTES) } },
      { tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: '查看详情' }, type: 'primary', url: content.link }] },
    ],
  };
  return {
    url: channel.url,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ ...signature, msg_type: 'interactive', card }),
  };
}
