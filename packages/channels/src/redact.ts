import type { Channel } from './types.js';

/** What may be shown about a channel anywhere (logs, API answers): no URL, key, token or secret. */
export interface ChannelSummary {
  id: string;
  type: Channel['type'];
  name?: string;
  /** The host only: paths and query strings of bot URLs carry credentials. */
  host: string;
  signed: boolean;
  rateLimitPerMinute?: number;
  enabled: boolean;
}

const DEFAULT_HOSTS = { wecom: 'qyapi.weixin.qq.com', dingtalk: 'oapi.dingtalk.com', feishu: 'open.feishu.cn' } as const;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

/** A channel with every credential removed. */
export function summarizeChannel(channel: Channel): ChannelSummary {
  const host = channel.type === 'webhook' ? hostOf(channel.url) : channel.baseUrl ? hostOf(channel.baseUrl) : DEFAULT_HOSTS[channel.type];
  return {
    id: channel.id,
    type: channel.type,
    ...(channel.name !== undefined ? { name: channel.name } : {}),
    host,
    signed: channel.type === 'wecom' ? false : channel.secret !== undefined,
    ...(channel.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: channel.rateLimitPerMinute } : {}),
    enabled: channel.enabled !== false,
  };
}
