import { describe, expect, it } from 'vitest';
import { escapeMarkup } from './content.js';
import { buildRequest } from './requests.js';
import { dingtalkSign, feishuSign, signWebhookBody } from './signing.js';
import { sampleIncident, sampleItem } from './testing/fixtures.js';
import type { ChannelTarget as Channel, OutgoingMessage } from './types.js';

const nowMs = 1_700_000_000_123;
const options = { publicUrl: 'http://127.0.0.1:3000/', nowMs, deliveryId: 'dlv-1' };
const single: OutgoingMessage = { kind: 'single', item: sampleItem() };
const link = 'http://127.0.0.1:3000/#/incidents/inc-20151020-0001';

describe('generic webhook', () => {
  const channel: Channel = { id: 'hook', type: 'webhook', url: 'http://127.0.0.1:3900/hook', secret: 'whsec' };
  const req = buildRequest(channel, single, options);
  const body = JSON.parse(req.body);

  it('signs timestamp.body with the channel secret', () => {
    expect(req.url).toBe('http://127.0.0.1:3900/hook');
    expect(req.headers['x-tingfeng-timestamp']).toBe('1700000000');
    expect(req.headers['x-tingfeng-signature']).toBe(signWebhookBody(req.body, 'whsec', 1_700_000_000));
    expect(req.headers['x-tingfeng-delivery']).toBe('dlv-1');
  });
  it('carries the evidence in Chinese and structured', () => {
    expect(body.title).toBe('【舆情·严重】新事件：“昆明是一座正在死去的城市”话题爆发');
    expect(body.items[0].incident.terms).toEqual(['昆明', '城市', '死去', '没落']);
    expect(body.items[0].incident.postIds).toEqual(['3900000000000007', '3900000000000001', '3900000000000009', '3900000000000011', '3900000000000012']);
    expect(body.items[0].incident.observed).toBe(860);
    expect(body.items[0].incident.expected).toBe(40);
    expect(body.items[0].link).toBe(link);
    expect(body.text).toContain('类型：话题爆发（story）');
    expect(body.text).toContain('观测/基线：860 / 40，约为基线的 21.5 倍');
    expect(body.text).toContain('证据帖子：3900000000000007、3900000000000001、3900000000000009、3900000000000011、3900000000000012 等 6 条');
    expect(body.text).toContain('发现时间：2015-10-20 09:30');
  });
  it('is unsigned without a secret', () => {
    const unsigned = buildRequest({ id: 'h', type: 'webhook', url: 'http://x/h' }, single, options);
    expect(unsigned.headers['x-tingfeng-signature']).toBeUndefined();
  });
});

describe('WeCom group bot', () => {
  const channel: Channel = { id: 'wx', type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123' };
  it('posts markdown to the bot URL', () => {
    const req = buildRequest(channel, single, options);
    expect(req.url).toBe('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123');
    const body = JSON.parse(req.body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain('### 【舆情·严重】新事件');
    expect(body.markdown.content).toContain('<font color="warning">严重</font>');
    expect(body.markdown.content).toContain(`[查看详情](${link})`);
  });
  it('keeps content within 4096 bytes', () => {
    const many: OutgoingMessage = {
      kind: 'digest',
      reason: 'rate_limit',
      items: Array.from({ length: 40 }, (_, i) => sampleItem({ eventId: `e${i}`, incident: sampleIncident({ id: `inc-${i}`, title: '很长的标题'.repeat(30) }) })),
    };
    const req = buildRequest(channel, many, options);
    expect(Buffer.byteLength(JSON.parse(req.body).markdown.content, 'utf8')).toBeLessThanOrEqual(4096);
  });
});

describe('DingTalk robot', () => {
  const url = 'https://oapi.dingtalk.com/robot/send?access_token=tok';
  it('adds timestamp (ms) and the URL-encoded sign to the query', () => {
    const req = buildRequest({ id: 'dd', type: 'dingtalk', url, secret: 'SECxyz' }, single, options);
    expect(req.url).toBe(`https://oapi.dingtalk.com/robot/send?access_token=tok&timestamp=${nowMs}&sign=${dingtalkSign(nowMs, 'SECxyz')}`);
    const body = JSON.parse(req.body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('【舆情·严重】新事件：“昆明是一座正在死去的城市”话题爆发');
    expect(body.markdown.text).toContain('> **关键词**：昆明、城市、死去、没落');
  });
  it('omits signing without a secret', () => {
    const req = buildRequest({ id: 'dd', type: 'dingtalk', url }, single, options);
    expect(req.url).toBe('https://oapi.dingtalk.com/robot/send?access_token=tok');
  });
});

describe('Feishu bot', () => {
  it('puts timestamp (seconds, a string) and sign in the body with an interactive card', () => {
    const req = buildRequest({ id: 'fs', type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc-def', secret: 'SECfs' }, single, options);
    expect(req.url).toBe('https://open.feishu.cn/open-apis/bot/v2/hook/abc-def');
    const body = JSON.parse(req.body);
    expect(body.timestamp).toBe('1700000000');
    expect(body.sign).toBe(feishuSign(1_700_000_000, 'SECfs'));
    expect(body.msg_type).toBe('interactive');
    expect(body.card.header.template).toBe('red');
    expect(body.card.header.title.content).toContain('新事件');
    expect(body.card.elements[1].actions[0].url).toBe(link);
  });
});

describe('messages for each change', () => {
  const textOf = (m: OutgoingMessage) => JSON.parse(buildRequest({ id: 'h', type: 'webhook', url: 'http://x/h' }, m, options).body).text as string;
  it('says who acknowledged, that it auto-resolved, and the escalation level', () => {
    const ack = textOf({
      kind: 'single',
      item: sampleItem({ change: 'acknowledged', incident: sampleIncident({ status: 'acknowledged', acknowledgedBy: '值班员张三', acknowledgedAt: '2015-10-20T02:05:00Z' }) }),
    });
    expect(ack).toContain('已认领');
    expect(ack).toContain('认领人：值班员张三（2015-10-20 10:05）');
    const auto = textOf({
      kind: 'single',
      item: sampleItem({ change: 'resolved', incident: sampleIncident({ status: 'resolved', resolvedAt: '2015-10-20T05:00:00Z', resolvedBy: 'system:incidents' }) }),
    });
    expect(auto).toContain('已自动解除');
    expect(textOf({ kind: 'single', item: sampleItem({ change: 'escalated', escalationLevel: 2 }) })).toContain('升级提醒（第 2 级，仍未认领）');
  });
  it('a digest lists each item with its link and says why', () => {
    const text = textOf({ kind: 'digest', reason: 'rate_limit', items: [sampleItem(), sampleItem({ eventId: 'e2', incident: sampleIncident({ id: 'inc-2', severity: 'warning' }) })] });
    expect(text).toContain('【舆情摘要】2 条通知，涉及 2 个事件');
    expect(text).toContain('发送频率限制');
    expect(text).toContain('http://127.0.0.1:3000/#/incidents/inc-2');
  });
});

describe('text from posts is inert in every channel’s markup', () => {
  const evil = '[官方处置入口](https://evil.example/phish)';
  const hostile = sampleIncident({
    id: 'inc-evil',
    title: `${evil} <at id=all></at> **紧急** \n### 伪造标题\n> **级别**：提示 ![x](https://evil.example/p.png) www.evil.example`,
    alerts: [
      {
        ...sampleIncident().alerts![1]!,
        terms: [evil, '<font color="info">绿色</font>', '`code`'],
        postIds: ['[3900](javascript:alert(1))', '39000000000000\n- 伪造'],
      },
    ],
    acknowledgedBy: '<@all>',
  });
  const messages: OutgoingMessage[] = [
    { kind: 'single', item: sampleItem({ incident: hostile }) },
    { kind: 'single', item: sampleItem({ change: 'acknowledged', incident: { ...hostile, status: 'acknowledged', acknowledgedAt: '2015-10-20T02:05:00Z' } }) },
    { kind: 'digest', reason: 'rate_limit', items: [sampleItem({ incident: hostile }), sampleItem({ eventId: 'e2', incident: { ...hostile, id: 'inc-evil-2' } })] },
  ];
  const channels: Channel[] = [
    { id: 'wx', type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' },
    { id: 'dd', type: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=t' },
    { id: 'fs', type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/t' },
    { id: 'h', type: 'webhook', url: 'https://hooks.example/h' },
  ];
  const markupOf = (channel: Channel, message: OutgoingMessage): string => {
    const body = JSON.parse(buildRequest(channel, message, options).body);
    if (channel.type === 'wecom') return body.markdown.content;
    if (channel.type === 'dingtalk') return body.markdown.text;
    if (channel.type === 'feishu') return body.card.elements[0].text.content;
    return body.markdown;
  };

  it.each(channels.map((c) => [c.type, c] as const))('%s: the only links are the system’s own, no tag, no extra line', (_type, channel) => {
    for (const message of messages) {
      const markup = markupOf(channel, message);
      const links = [...markup.matchAll(/\[([^\]]*)\]\(([^)]*)\)/g)].map((m) => m[2]);
      expect(links.length).toBeGreaterThan(0);
      for (const target of links) expect(target).toMatch(/^http:\/\/127\.0\.0\.1:3000\/#\/incidents/);
      expect(markup).not.toMatch(/https?:\/\/evil/);
      expect(markup).not.toMatch(/www\.evil/);
      expect(markup).not.toContain('<at');
      expect(markup).not.toContain('<@');
      expect(markup).not.toContain('<font color="info"');
      expect(markup).not.toContain('`');
      // Every line is one the renderer made: a heading first, then quoted fields, list items and the details link.
      for (const line of markup.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^(### |> |- |\[查看详情\]\()/);
      expect(markup.split('\n').filter((l) => l.startsWith('### '))).toHaveLength(channel.type === 'feishu' ? 0 : 1);
      // The words are still there for a reader.
      expect(markup).toContain('官方处置入口');
    }
  });

  it('keeps ordinary Chinese text as it was', () => {
    expect(escapeMarkup('“昆明是一座正在死去的城市”话题爆发、没落：18度')).toBe('“昆明是一座正在死去的城市”话题爆发、没落：18度');
    expect(escapeMarkup('[蜡烛] a_b')).toBe('［蜡烛］ a＿b');
  });
});
