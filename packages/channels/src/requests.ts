import { buildDingtalkRequest } from './channels/dingtalk.js';
import { buildFeishuRequest } from './channels/feishu.js';
import { buildWebhookRequest } from './channels/webhook.js';
import { buildWecomRequest } from './channels/wecom.js';
import type { ChannelTarget, FormatOptions, HttpRequest, OutgoingMessage } from './types.js';

export interface BuildRequestOptions extends FormatOptions {
  /** Wall-clock time of signing, epoch ms. */
  nowMs: number;
  /** Identifies the delivery to the receiver (generic webhook header), so it can de-duplicate. */
  deliveryId: string;
}

/** Formats and signs one message for one channel. Pure: no I/O. */
export function buildRequest(channel: ChannelTarget, message: OutgoingMessage, options: BuildRequestOptions): HttpRequest {
  switch (channel.type) {
    case 'webhook':
      return buildWebhookRequest(channel, message, options, options.nowMs, options.deliveryId);
    case 'wecom':
      return buildWecomRequest(channel, message, options);
    case 'dingtalk':
      return buildDingtalkRequest(channel, message, options, options.nowMs);
    case 'feishu':
      return buildFeishuRequest(channel, message, options, options.nowMs);
  }
}
