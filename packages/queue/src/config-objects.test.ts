import { describe, expect, it } from 'vitest';
import { ChannelsConfigSchema, mergeRedactedChannels, REDACTED, redactChannel, type Channel } from './config-objects.js';
import { redisKeys } from './keys.js';

describe('redisKeys', () => {
  it('builds the shared view keys under the prefix', () => {
    const k = redisKeys('t1:');
    expect(k.incident('abc')).toBe('t1:incident:abc');
    expect(k.incidents).toBe('t1:incidents');
    expect(k.incidentOpen('cascade:1')).toBe('t1:incident-open:cascade:1');
    expect(k.routes).toBe('t1:config:routes');
    expect(k.silences).toBe('t1:config:silences');
    expect(k.channels).toBe('t1:config:channels');
    expect(k.campaign('i1')).toBe('t1:campaign:i1');
    expect(k.campaignsActive).toBe('t1:campaigns:active');
    expect(k.campaignSeries('i1')).toBe('t1:campaign-series:i1');
    expect(redisKeys().incidents).toBe('tf:incidents');
  });
});

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
