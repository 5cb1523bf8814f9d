import { buildDingtalkRequest } from './channels/dingtalk.js';
import { buildFeishuRequest } from './channels/feishu.js';
import { buildWebhookRequest } from './channels/webhook.js';
import { buildWecomRequest } from './channels/wecom.js';
import type { Channel, FormatOptions, HttpRequest, OutgoingMessage, VendorBaseUrls } from './types.js';

export interface BuildRequestOptions extends FormatOptions {
  /** Wall-clock time of signing, epoch ms. */
  nowMs: number;
  /** Identifies the delivery to the receiver (generic webhook header), so it can de-duplicate. */
  deliveryId: string;
  /** Vendor base URLs used when the channel names none. */
  baseUrls?: VendorBaseUrls;
}

/** Formats and signs one message for one channel. Pure: no I/O. */
export function buildRequest(channel: Channel, message: OutgoingMessage, options: BuildRequestOptions): HttpRequest {
  switch (channel.type) {
    case 'webhook':
      return buildWebhookRequest(channel, message, options, options.nowMs, options.deliveryId);
    case 'wecom':
      return buildWecomRequest(channel, message, options, options.baseUrls);
    case 'dingtalk':
      return buildDingtalkRequest(channel, message, options, options.nowMs, options.baseUrls);
    case 'feishu':
      return buildFeishuRequest(channel, message, options, options.nowMs, options.baseUrls);
  }
}
