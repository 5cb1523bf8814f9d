import { describe, expect, it } from 'vitest';
import { byGravity, incidentSentence, overviewSentence, type DailyReport, type ReportIncident, type ReportVolume } from './daily-report.js';
import { esc, renderReportHtml, REPORT_CSP } from './render-html.js';

const TZ = 'Asia/Shanghai';

const figures: Omit<ReportIncident, 'sentence' | 'representative'> = {
  id: 'inc-1',
  title: '@昆明网友 的帖子正在扩散:「昆明是一座正在死去的城市」',
  type: 'cascade',
  severity: 'critical',
  status: 'acknowledged',
  startedAt: '2015-10-20T01:40:00.000Z',
  acknowledgedBy: '值班员老王',
  acknowledgedAt: '2015-10-20T02:05:00.000Z',
  resolvedAt: null,
  resolvedBy: null,
  alertCount: 4,
  terms: ['死去', '城市'],
  peak: { observed: 120, expected: 15, ratio: 8 },
  cascadePosts: 1234,
  cascadeNegativeShare: 0.62,
  evidencePosts: 111,
  accounts: 0,
  response: {
    accounts: ['昆明发布', '春城晚报', '云南网', '掌上春城'],
    startedAt: '2015-10-21T05:00:00.000Z',
    by: '值班员老王',
    responsePosts: 12,
    reach: 2_500_000,
    negativeShareBefore: 0.6,
    negativeShareAfter: 0.41,
  },
};

const volume: ReportVolume = {
  posts: 9000,
  negative: 3600,
  negativeShare: 0.4,
  previousDays: 7,
  previousMeanPosts: 6000,
  previousNegativeShare: 0.2,
  change: 0.5,
  byDay: [
    { day: '2015-10-19', posts: 6000, negativeShare: 0.2 },
    { day: '2015-10-20', posts: 9000, negativeShare: 0.4 },
  ],
};

describe('the report’s sentences', () => {
  it('says, for an incident, when and what, how big, who took it, how it was answered and where it stands, in the organisation’s time', () => {
    expect(incidentSentence(figures, TZ)).toBe(
      '10月20日 09:40 起出现转发扩散事件「@昆明网友 的帖子正在扩散:「昆明是一座正在死去的城市」」（严重）；' +
        '原帖当日被转发评论 1,234 次，负面占比 62%，高峰时段声量为平时的 8.0 倍；值班员老王 于 10月20日 10:05 认领；' +
        '10月21日 13:00 起 @昆明发布、@春城晚报、@云南网 等 4 个账号 发布回应 12 条，触达粉丝约 2,500,000 人次，回应后负面占比由 60% 降至 41%；目前已认领。',
    );
  });

  it('says so when nobody took it, and when it resolved itself', () => {
    const open = incidentSentence({ ...figures, status: 'triggered', acknowledgedBy: null, acknowledgedAt: null, response: null }, TZ);
    expect(open).toContain('尚无人认领');
    expect(open).toMatch(/目前待处理。$/);
    const auto = incidentSentence({ ...figures, status: 'resolved', resolvedAt: '2015-10-20T06:00:00.000Z', resolvedBy: 'system:auto-resolve', response: null }, TZ);
    expect(auto).toMatch(/已自动解除（10月20日 14:00）。$/);
  });

  it('compares the day with the week before it', () => {
    expect(overviewSentence('2015-10-20', '城市形象', volume, [{ severity: 'critical' }, { severity: 'info' }])).toBe(
      '2015年10月20日，监测方案「城市形象」共监测到信息 9,000 条，较前 7 日日均 6,000 条上升 50%；负面信息 3,600 条，占 40%（前 7 日 20%）。当日新增舆情事件 2 起，其中严重 1 起。',
    );
    expect(overviewSentence('2015-10-20', null, { ...volume, change: null }, [])).toContain('（前 7 日无数据可比）');
    expect(overviewSentence('2015-10-20', null, { ...volume, change: 0.02 }, [])).toContain('基本持平');
    // An archive younger than the week compares with the days it holds.
    expect(overviewSentence('2015-10-20', null, { ...volume, previousDays: 1 }, [])).toContain('较前 7 日中有数据的 1 日日均 6,000 条');
  });

  it('puts the most severe first, then the earliest', () => {
    const a = { severity: 'warning' as const, startedAt: '2015-10-20T01:00:00Z' };
    const b = { severity: 'critical' as const, startedAt: '2015-10-20T05:00:00Z' };
    const c = { severity: 'critical' as const, startedAt: '2015-10-20T02:00:00Z' };
    expect([a, b, c].sort(byGravity)).toEqual([c, b, a]);
  });
});

describe('the report’s HTML', () => {
  const report: DailyReport = {
    day: '2015-10-20',
    scheme: '城市<形象>',
    timeZone: TZ,
    builtAt: '2015-10-20T23:30:00.000Z',
    volume,
    incidents: [{ ...figures, sentence: incidentSentence(figures, TZ), representative: [{ id: 'p1', text: '<script>alert(1)</script>昆明', author: '昆明网友', followers: 10, createdAt: '2015-10-20T01:40:00.000Z', url: 'javascript:alert(1)', sentiment: -0.5 }] }],
    stories: [],
    cascades: [],
    accounts: [{ id: 'u1', name: '昆明网友', followers: 10, verified: false, posts: 3, negativeShare: 1 }],
    terms: [{ term: '死去', count: 40 }],
    overview: '概况',
    publicUrl: 'http://dash.example/',
  };

  it('escapes what posts say and drops links that are not http(s)', () => {
    const html = renderReportHtml(report);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;昆明');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('城市&lt;形象&gt;');
    expect(html).toContain('href="http://dash.example/#/incidents/inc-1"');
    expect(esc(`"'&`)).toBe('&quot;&#39;&amp;');
  });

  it('reads on a phone, carries its one stylesheet allowed by hash, and draws the eight days', () => {
    const html = renderReportHtml(report);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(REPORT_CSP['style-src'][0]).toMatch(/^'sha256-[A-Za-z0-9+/]+=*'$/);
    expect(html.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(html).toContain('id="incidents"');
  });
});
