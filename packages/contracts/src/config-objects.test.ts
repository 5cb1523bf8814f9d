import { describe, expect, it } from 'vitest';
import { ChannelsConfigSchema, mergeRedactedChannels, REDACTED, redactChannel, type Channel } from './config-objects.js';

describe('channel redaction', () => {
  const stored: Channel[] = [
    { id: 'wecom', type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234' },
    { id: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 's3cret' },
    { id: 'lark', type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/0b1f2c3d-feishu-token', secret: 'sign-me' },
  ];
  it('hides secrets and URL keys', () => {
    const shown = stored.map(redactChannel);
    expect(JSON.stringify(shown)).not.toContain('abcd-1234');
    expect(JSON.stringify(shown)).not.toContain('s3cret');
    // Feishu's bot token is the URL's last path segment, not a query value.
    expect(JSON.stringify(shown)).not.toContain('feishu-token');
    expect(shown[2]?.url).toBe(`https://open.feishu.cn/open-apis/bot/v2/hook/${REDACTED}`);
    expect(shown[0]?.url).toBe(`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REDACTED}`);
    expect(shown[1]?.url).toBe('http://127.0.0.1:9/hook');
    expect(shown[1]?.secret).toBe(REDACTED);
  });
  it('a PUT of what was read back keeps the stored secrets', () => {
    const roundTrip = ChannelsConfigSchema.parse(JSON.parse(JSON.stringify(stored.map(redactChannel))));
    expect(mergeRedactedChannels(roundTrip, stored)).toEqual(stored);
  });
});
