import type { EnrichedPost, PostFields } from '@tingfeng/contracts';
import { Rng } from './rng.js';

/** An injected, labelled event the detectors are scored on. */
export interface LabelledEvent {
  id: string;
  /** `alert`: must be detected by one of `types`; `quiet`: must raise no alert; `daily`: may alert on its first day only; `context`: alerts on it are true but not required. */
  expect: 'alert' | 'quiet' | 'daily' | 'context';
  types: string[];
  /** Event time the phenomenon begins, epoch ms (per day for `daily`). */
  onsetMs: number[];
  postIds: Set<string>;
  description: string;
}

/** A generated, labelled scenario: posts in arrival order plus the truth. */
export interface Scenario {
  name: string;
  description: string;
  startMs: number;
  endMs: number;
  posts: EnrichedPost[];
  events: LabelledEvent[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 2015-10-19 00:00 Asia/Shanghai: the week of the seed's episode. */
export const SCENARIO_EPOCH_MS = Date.parse('2015-10-19T00:00:00+08:00');

const CHATTER: readonly (readonly string[])[] = [
  ['昆明18度', '凉快', '天气', '春城', '舒服', '避暑'],
  ['滇池', '海鸥', '喂食', '海埂', '大坝', '拍照'],
  ['堵车', '二环', '地铁', '公交', '上班', '修路'],
  ['旅游', '石林', '翠湖', '游客', '景区', '门票'],
  ['米线', '过桥米线', '菌子', '烧饵块', '小吃', '好吃'],
  ['鲜花', '斗南', '花市', '玫瑰', '便宜', '买花'],
];
const FILLER = ['今天', '感觉', '朋友', '周末', '真的', '还是', '大家', '一起', '觉得', '时候', '早上', '晚上'];
const COMMENTS = ['转发微博', '说得好', '哈哈哈', '同意', '马克一下', '学习了', '有道理', '围观'];

/** Account pools: a city's ordinary users, some big accounts, and the organisation's own. */
interface Account {
  id: string;
  name: string;
  followers: number;
  verified: boolean;
  createdAt: string;
}

const OFFICIAL_NAMES = ['昆明发布', '昆明市长', '昆明12345市长热线', '春城晚报', '掌上春城', '昆明信息港', '昆明日报', '都市时报'];

class World {
  readonly rng: Rng;
  readonly posts: EnrichedPost[] = [];
  readonly users: Account[] = [];
  readonly officials: Account[];
  private seq = 0;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    for (let i = 0; i < 3000; i++) {
      const followers = Math.floor(Math.exp(3 + 2 * Math.abs(this.rng.normal())));
      const ageDays = this.rng.int(200, 3000);
      this.users.push({
        id: `u${i}`,
        name: `网友${i}`,
        followers,
        verified: followers > 50_000,
        createdAt: new Date(SCENARIO_EPOCH_MS - ageDays * DAY).toISOString(),
      });
    }
    this.officials = OFFICIAL_NAMES.map((name, i) => ({ id: `gov${i}`, name, followers: 200_000 + i * 90_000, verified: true, createdAt: '2012-01-01T00:00:00.000Z' }));
  }

  user(): Account {
    return this.rng.pick(this.users);
  }

  post(a: Account, t: number, words: string[], o: { parent?: EnrichedPost; root?: EnrichedPost; sentiment?: number; spam?: boolean; topics?: string[]; text?: string } = {}): EnrichedPost {
    const id = `${this.name}-${++this.seq}`;
    const ownText = o.text ?? (words.length === 0 ? '' : `${words.join('')}${this.rng.pick(['', '。', '！', '…'])}`);
    const topics = o.topics ?? [];
    const p: EnrichedPost = {
      id,
      platform: 'weibo',
      text: ownText + (o.parent && o.parent !== o.root ? `//@${o.parent.author.name}:${o.parent.ownText}` : ''),
      createdAt: new Date(t).toISOString(),
      createdAtMs: Math.round(t),
      author: { ...a },
      ...(o.parent ? { parentId: o.parent.id } : {}),
      ...(o.root ? { rootId: o.root.id } : {}),
      ownText,
      tokens: words,
      keywords: words.slice(0, 8),
      emoticons: [],
      mentions: [],
      topics,
      urls: [],
      repostChain: [],
      spam: o.spam ?? false,
      sentiment: o.sentiment ?? Math.round((this.rng.next() * 0.9 - 0.3) * 100) / 100,
    };
    if (o.spam) p.spamReason = 'advertising';
    this.posts.push(p);
    return p;
  }

  /** City chatter with a day/night rhythm: about `perMinute` posts a minute at the daytime peak. */
  chatter(fromMs: number, toMs: number, perMinute: number): void {
    for (let m = fromMs; m < toMs; m += MINUTE) {
      const hour = new Date(m + 8 * HOUR).getUTCHours();
      const rhythm = hour < 7 ? 0.15 : hour < 9 ? 0.6 : hour < 23 ? 1 : 0.4;
      const n = this.rng.poisson(perMinute * rhythm);
      for (let i = 0; i < n; i++) {
        const topic = this.rng.pick(CHATTER);
        const words = [...this.rng.sample(topic, this.rng.int(2, 4)), ...this.rng.sample(FILLER, this.rng.int(1, 3))];
        this.post(this.user(), m + this.rng.next() * MINUTE, words);
      }
    }
  }

  /** Ordinary small cascades: heavy-tailed sizes, none fast enough to matter. Returns their roots. */
  smallCascades(fromMs: number, toMs: number, perDay: number): void {
    const n = Math.round(((toMs - fromMs) / DAY) * perDay);
    for (let i = 0; i < n; i++) {
      const t0 = fromMs + this.rng.next() * (toMs - fromMs - 4 * HOUR);
      const topic = this.rng.pick(CHATTER);
      const root = this.post(this.user(), t0, [...this.rng.sample(topic, 3), ...this.rng.sample(FILLER, 2)]);
      const size = Math.min(150, Math.floor(this.rng.pareto(5, 1.3)));
      const durationMs = this.rng.int(60, 240) * MINUTE;
      for (let k = 0; k < size; k++) {
        const t = t0 + this.rng.exp(durationMs / 3);
        if (t > toMs) continue;
        const comment = this.rng.next() < 0.5 ? [] : [this.rng.pick(COMMENTS)];
        this.post(this.user(), t, comment, { parent: root, root });
      }
    }
  }

  /** A cascade whose children follow rate(t) children/minute from t0 for `minutes`. Amplifiers are reposted in turn. */
  cascade(root: EnrichedPost, t0: number, minutes: number, rate: (min: number) => number, comment: (min: number) => { words: string[]; sentiment: number }, amplifiers: Account[] = []): EnrichedPost[] {
    const children: EnrichedPost[] = [];
    const hubs: EnrichedPost[] = [];
    for (let m = 0; m < minutes; m++) {
      const n = this.rng.poisson(rate(m));
      for (let i = 0; i < n; i++) {
        const t = t0 + (m + this.rng.next()) * MINUTE;
        const amp = amplifiers[hubs.length];
        const parent = hubs.length > 0 && this.rng.next() < 0.5 ? this.rng.pick(hubs) : root;
        const c = this.rng.next() < 0.4 ? { words: [] as string[], sentiment: 0 } : comment(m);
        const author = amp !== undefined && m >= 10 + 15 * hubs.length ? amp : this.user();
        const p = this.post(author, t, c.words, { parent, root, sentiment: c.sentiment });
        if (author === amp) hubs.push(p);
        children.push(p);
      }
    }
    return children;
  }
}

const finish = (w: World, description: string, startMs: number, endMs: number, events: LabelledEvent[]): Scenario => {
  const posts = [...w.posts].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  return { name: w.name, description, startMs, endMs, posts, events };
};

const ids = (posts: readonly EnrichedPost[]): Set<string> => new Set(posts.map((p) => p.id));

/**
 * The seed's episode: a day of city chatter, then a post calling Kunming "一座正在死去的城市"
 * goes viral, the discussion bursts, the city's media answer with a rebuttal series, and the
 * public's replies turn (#昆明保卫战#).
 */
export function dyingCityScenario(seed = 2015): Scenario {
  const w = new World('dying-city', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + 2 * DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const day2 = start + DAY;
  const author: Account = { id: 'u-outsider', name: '来昆工作的外省人', followers: 850, verified: false, createdAt: '2013-04-01T00:00:00.000Z' };
  const rootMs = day2 + 9.5 * HOUR;
  const root = w.post(author, rootMs, ['昆明', '正在', '死去', '城市', '年轻人', '离开', '工资', '房价'], { sentiment: -0.8, text: '昆明，一座正在死去的城市。年轻人在离开，工资低，房价高，产业空心。' });
  const onset = day2 + 10 * HOUR;
  const negative = [['说得对', '昆明', '死去'], ['年轻人', '离开', '昆明'], ['工资', '太低', '房价'], ['城市', '死去', '真实']];
  const positive = [['昆明', '没有', '死去'], ['支持', '昆明', '春城'], ['理性', '看待', '发展'], ['昆明保卫战', '热爱', '昆明']];
  const bigV: Account[] = [
    { id: 'u-bigv1', name: '云南资讯', followers: 520_000, verified: true, createdAt: '2011-05-01T00:00:00.000Z' },
    { id: 'u-bigv2', name: '滇池边的老张', followers: 180_000, verified: true, createdAt: '2012-05-01T00:00:00.000Z' },
  ];
  const early = w.cascade(root, rootMs, 30, () => 0.15, () => ({ words: w.rng.pick(negative), sentiment: -0.6 }));
  // Takes off at 10:00 when a big account reposts it: a jump, doubling every ~30 min to a peak near 11:30, then a slow decay.
  const viral = w.cascade(
    root,
    onset,
    12 * 60,
    (m) => (m < 90 ? 5 * 2 ** (m / 30) : 40 * Math.exp(-(m - 90) / 150)),
    (m) => (m < 200 ? { words: w.rng.pick(negative), sentiment: -0.6 } : w.rng.next() < 0.7 ? { words: w.rng.pick(positive), sentiment: 0.6 } : { words: w.rng.pick(negative), sentiment: -0.5 }),
    bigV,
  );
  // The discussion in original posts (not reposts), from 10:15.
  const discussion: EnrichedPost[] = [];
  for (let m = 15; m < 8 * 60; m++) {
    const n = w.rng.poisson(m < 90 ? 2 * 2 ** ((m - 15) / 30) : 11 * Math.exp(-(m - 90) / 180));
    for (let i = 0; i < n; i++) {
      const words = [...w.rng.pick(m < 200 ? negative : positive), '城市', ...w.rng.sample(FILLER, 1)];
      discussion.push(w.post(w.user(), onset + (m + w.rng.next()) * MINUTE, words, { sentiment: m < 200 ? -0.5 : 0.5 }));
    }
  }
  // The rebuttal series: distinct articles by the city's own accounts, 13:00–15:00.
  const rebuttalOnset = day2 + 13 * HOUR;
  const articles = [
    ['昆明', '正在', '生长', '城市', '理性'],
    ['昆明保卫战', '昆明', '发展', '问题', '正视'],
    ['昆明', '城市', '活力', '数据', '说话'],
    ['春城', '昆明', '热爱', '家乡', '建设'],
    ['昆明', '没有', '死去', '城市', '未来'],
  ];
  const rebuttal: EnrichedPost[] = [];
  for (let i = 0; i < 12; i++) {
    const words = articles[i % articles.length]!;
    rebuttal.push(w.post(w.officials[i % w.officials.length]!, rebuttalOnset + i * 10 * MINUTE + w.rng.next() * 5 * MINUTE, words, { sentiment: 0.5, topics: i % 2 ? ['昆明保卫战'] : [] }));
  }
  // The public joins in: #昆明保卫战# posts, positive.
  const reaction: EnrichedPost[] = [];
  for (let m = 30; m < 10 * 60; m++) {
    const n = w.rng.poisson(m < 120 ? (m / 120) * 2 : 2 * Math.exp(-(m - 120) / 240));
    for (let i = 0; i < n; i++) {
      reaction.push(w.post(w.user(), rebuttalOnset + (m + w.rng.next()) * MINUTE, ['昆明保卫战', ...w.rng.pick(positive), ...w.rng.sample(CHATTER[w.rng.int(0, 5)]!, 1)], { sentiment: 0.6, topics: ['昆明保卫战'] }));
    }
  }
  const cascadePosts = [root, ...early, ...viral];
  return finish(w, 'a day of chatter, then the "dying city" post goes viral; discussion; official rebuttal; reaction turns', start, end, [
    { id: 'dying-city-cascade', expect: 'alert', types: ['cascade'], onsetMs: [onset], postIds: ids(cascadePosts), description: 'the post and its reposts' },
    { id: 'dying-city-story', expect: 'alert', types: ['story'], onsetMs: [onset + 15 * MINUTE], postIds: ids([...discussion, ...cascadePosts]), description: 'the discussion bursts' },
    { id: 'official-rebuttal', expect: 'alert', types: ['response'], onsetMs: [rebuttalOnset], postIds: ids(rebuttal), description: 'the rebuttal series by official accounts' },
    { id: 'public-reaction', expect: 'context', types: ['story', 'cascade'], onsetMs: [rebuttalOnset + 30 * MINUTE], postIds: ids(reaction), description: '#昆明保卫战#: the public turns' },
  ]);
}

/** A benign peak every evening: traffic complaints 18:00–18:40 on four days. */
export function dailyPeakScenario(seed = 18): Scenario {
  const w = new World('daily-peak', seed);
  const start = SCENARIO_EPOCH_MS;
  const days = 4;
  const end = start + days * DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const peak: EnrichedPost[] = [];
  const onsets: number[] = [];
  const words = ['晚高峰', '堵死', '北京路', '下班', '回家', '东风路', '车流'];
  for (let d = 0; d < days; d++) {
    const onset = start + d * DAY + 18 * HOUR;
    onsets.push(onset);
    for (let m = 0; m < 40; m++) {
      const n = w.rng.poisson(8 * (1 + 0.1 * w.rng.normal()));
      for (let i = 0; i < n; i++) peak.push(w.post(w.user(), onset + (m + w.rng.next()) * MINUTE, [...w.rng.sample(words, 3), w.rng.pick(FILLER)], { sentiment: -0.4 }));
    }
  }
  return finish(w, 'evening traffic complaints (8/min) at 18:00–18:40 every day for four days', start, end, [
    { id: 'evening-peak', expect: 'daily', types: ['story'], onsetMs: onsets, postIds: ids(peak), description: 'recurring benign peak' },
  ]);
}

/** A copy-paste campaign: 40 young, low-follower accounts post one template with small edits in 15 minutes. */
export function campaignScenario(seed = 40): Scenario {
  const w = new World('campaign', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const onset = start + 15 * HOUR;
  const template = '强烈支持滇池治理新政策，滇池变清了，海鸥回来了，为昆明的美好明天点赞';
  const campaign: EnrichedPost[] = [];
  for (let i = 0; i < 40; i++) {
    const account: Account = { id: `sock${i}`, name: `春城小号${i}`, followers: w.rng.int(0, 30), verified: false, createdAt: new Date(onset - w.rng.int(3, 20) * DAY).toISOString() };
    const variant = template + w.rng.pick(['', '！', '！！', '[赞]', '👍', ` ${w.rng.int(1, 99)}`]);
    campaign.push(w.post(account, onset + w.rng.next() * 15 * MINUTE, ['支持', '滇池', '治理', '新政策', '变清', '海鸥', '昆明', '点赞'], { text: variant, sentiment: 0.7 }));
  }
  return finish(w, 'a copy-paste campaign by 40 young low-follower accounts within 15 minutes', start, end, [
    { id: 'copy-paste-campaign', expect: 'alert', types: ['coordination'], onsetMs: [onset], postIds: ids(campaign), description: 'near-identical posts' },
  ]);
}

/** A spam burst: 300 advertising posts from 100 accounts in 20 minutes, flagged by the analyzer. */
export function spamScenario(seed = 300): Scenario {
  const w = new World('spam-burst', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const onset = start + 11 * HOUR;
  const spam: EnrichedPost[] = [];
  for (let i = 0; i < 300; i++) {
    const account: Account = { id: `ad${i % 100}`, name: `代购${i % 100}`, followers: 3, verified: false, createdAt: new Date(onset - 2 * DAY).toISOString() };
    spam.push(w.post(account, onset + w.rng.next() * 20 * MINUTE, ['加微信', '低价', '代购', '正品', '优惠'], { spam: true, text: `加微信dg${w.rng.int(100, 999)}低价代购正品优惠，昆明同城当天送达`, sentiment: 0.3 }));
  }
  return finish(w, '300 spam posts from 100 accounts in 20 minutes', start, end, [
    { id: 'spam-burst', expect: 'quiet', types: [], onsetMs: [onset], postIds: ids(spam), description: 'spam must raise nothing' },
  ]);
}

/** A post whose reposts trickle in for two days (one every ~8 minutes) and never goes viral. */
export function slowPostScenario(seed = 8): Scenario {
  const w = new World('slow-post', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + 2 * DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const onset = start + 8 * HOUR;
  const root = w.post(w.user(), onset, ['翠湖', '银杏', '黄了', '拍照', '好看']);
  const children = w.cascade(root, onset, 36 * 60, () => 1 / 8, () => ({ words: [w.rng.pick(COMMENTS)], sentiment: 0.2 }));
  return finish(w, 'a post reposted every ~8 minutes for 36 hours', start, end, [
    { id: 'slow-post', expect: 'quiet', types: [], onsetMs: [onset], postIds: ids([root, ...children]), description: 'never viral' },
  ]);
}

/** A paraphrase of a template: one of a few wordings of each clause, an ending, sometimes a number. */
function paraphrase(w: World, clauses: readonly (readonly string[])[]): string {
  const text = clauses.map((options) => w.rng.pick(options)).join('，');
  return text + w.rng.pick(['', '！', '！！', '[赞]', '👍', ` ${w.rng.int(1, 99)}`, '。']);
}

/** Young, low-follower accounts for a campaign. */
function sockAccounts(w: World, n: number, prefix: string, atMs: number): Account[] {
  const out: Account[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ id: `${prefix}${i}`, name: `${prefix}小号${i}`, followers: w.rng.int(0, 30), verified: false, createdAt: new Date(atMs - w.rng.int(3, 20) * DAY).toISOString() });
  }
  return out;
}

/** The campaign of {@link unseenStreamScenario} and {@link growingCampaignScenario}: one template, reworded clause by clause. */
const CAMPAIGN_CLAUSES: readonly (readonly string[])[] = [
  ['强烈支持地铁五号线延长方案', '坚决支持地铁五号线延长方案', '我们支持地铁五号线延长方案'],
  ['早日开工造福呈贡市民', '尽快开工方便呈贡市民', '早点开工造福呈贡百姓'],
  ['为昆明的美好明天点赞', '为春城的美好明天点赞', '为昆明的明天加油'],
];
const CAMPAIGN_WORDS = ['支持', '地铁', '五号线', '延长', '方案', '开工', '呈贡', '点赞'];

/** The words of the story that breaks on the last day: none of them occurs anywhere before it. */
const NEW_STORY = ['化工厂', '泄漏', '刺鼻', '气味', '疏散', '安宁', '封路', '黄烟'];

/**
 * A stream the detectors were never tuned on: three days of city chatter with a morning commute peak every
 * day, a paraphrased campaign by 60 accounts on day 1, a viral cascade on day 2, and on day 3 a new story
 * (about 80 posts every five minutes) made of words never seen before, each post a handful of them mixed
 * with the stream's everyday filler words.
 */
export function unseenStreamScenario(seed = 333): Scenario {
  const w = new World('unseen-stream', seed);
  const start = SCENARIO_EPOCH_MS;
  const days = 3;
  const end = start + days * DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const commute: EnrichedPost[] = [];
  const commuteOnsets: number[] = [];
  const commuteWords = ['早高峰', '堵车', '二环', '地铁', '上班', '迟到', '挤'];
  for (let d = 0; d < days; d++) {
    const onset = start + d * DAY + 8 * HOUR;
    commuteOnsets.push(onset);
    for (let m = 0; m < 60; m++) {
      const n = w.rng.poisson(6 * Math.sin((Math.PI * (m + 0.5)) / 60) + 1);
      for (let i = 0; i < n; i++) commute.push(w.post(w.user(), onset + (m + w.rng.next()) * MINUTE, [...w.rng.sample(commuteWords, 3), ...w.rng.sample(FILLER, 2)], { sentiment: -0.3 }));
    }
  }
  // Day 1, 14:00: 60 accounts post paraphrases of one template over an hour.
  const campaignOnset = start + 14 * HOUR;
  const campaign: EnrichedPost[] = [];
  for (const account of sockAccounts(w, 60, 'metro', campaignOnset)) {
    for (let k = w.rng.int(1, 2); k > 0; k--) {
      campaign.push(w.post(account, campaignOnset + w.rng.next() * HOUR, w.rng.sample(CAMPAIGN_WORDS, 6), { text: paraphrase(w, CAMPAIGN_CLAUSES), sentiment: 0.7 }));
    }
  }
  // Day 2, 11:00: a big account's post goes viral.
  const cascadeOnset = start + DAY + 11 * HOUR;
  const bigV: Account = { id: 'u-bigv-lake', name: '滇池观察', followers: 400_000, verified: true, createdAt: '2011-05-01T00:00:00.000Z' };
  const root = w.post(bigV, cascadeOnset, ['滇池', '蓝藻', '暴发', '海埂', '拍照', '今天'], { sentiment: -0.4 });
  const viral = w.cascade(root, cascadeOnset, 4 * 60, (m) => (m < 60 ? 3 * 2 ** (m / 20) : 24 * Math.exp(-(m - 60) / 60)), () => ({ words: [w.rng.pick(['蓝藻', '滇池', '海埂']), w.rng.pick(FILLER)], sentiment: -0.3 }));
  // Day 3, 15:00: the new story, ~16 posts a minute for two hours, then fading.
  const storyOnset = start + 2 * DAY + 15 * HOUR;
  const story: EnrichedPost[] = [];
  for (let m = 0; m < 3 * 60; m++) {
    const n = w.rng.poisson(m < 120 ? 16 : 16 * Math.exp(-(m - 120) / 30));
    for (let i = 0; i < n; i++) {
      const words = [...w.rng.sample(NEW_STORY, w.rng.int(2, 3)), ...w.rng.sample(FILLER, w.rng.int(2, 3))];
      story.push(w.post(w.user(), storyOnset + (m + w.rng.next()) * MINUTE, w.rng.sample(words, words.length), { sentiment: -0.5 }));
    }
  }
  return finish(w, 'three unseen days: commute peak daily, a 60-account paraphrase campaign, a viral post, then a story of never-seen words mixed with filler', start, end, [
    { id: 'commute-peak', expect: 'daily', types: ['story'], onsetMs: commuteOnsets, postIds: ids(commute), description: 'recurring morning peak' },
    // Background here (about one account a minute only just meets 10 accounts in 10 minutes, so it is called late);
    // growingCampaignScenario tests the campaign itself.
    { id: 'metro-campaign', expect: 'context', types: ['coordination'], onsetMs: [campaignOnset], postIds: ids(campaign), description: 'paraphrased template by 60 accounts' },
    { id: 'lake-cascade', expect: 'context', types: ['cascade', 'story'], onsetMs: [cascadeOnset], postIds: ids([root, ...viral]), description: 'a big account goes viral' },
    { id: 'new-story', expect: 'alert', types: ['story'], onsetMs: [storyOnset], postIds: ids(story), description: 'never-seen words mixed with filler' },
  ]);
}

/** The two unrelated stories of {@link twoStoriesScenario}: each its own words, both written with the same common words. */
const FIRST_STORY = ['暴雨', '内涝', '积水', '淹车', '排水'];
const SECOND_STORY = ['停电', '变电站', '断电', '抢修', '电梯'];
/** Words of the everyday stream (chatter and filler), so both stories share words the baseline knows well. */
const COMMON = ['今天', '大家', '真的', '觉得', '天气', '上班'];

/** Two unrelated stories a day apart (days 2 and 3, 10:00) that share the stream's common words: two stories, two alerts. */
export function twoStoriesScenario(seed = 22): Scenario {
  const w = new World('two-stories', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + 3 * DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const wave = (words: readonly string[], onset: number): EnrichedPost[] => {
    const out: EnrichedPost[] = [];
    for (let m = 0; m < 4 * 60; m++) {
      const n = w.rng.poisson(m < 90 ? 12 : 12 * Math.exp(-(m - 90) / 40));
      for (let i = 0; i < n; i++) {
        const mixed = [...w.rng.sample(words, w.rng.int(2, 3)), ...w.rng.sample(COMMON, w.rng.int(2, 3))];
        out.push(w.post(w.user(), onset + (m + w.rng.next()) * MINUTE, w.rng.sample(mixed, mixed.length), { sentiment: -0.4 }));
      }
    }
    return out;
  };
  const firstOnset = start + DAY + 10 * HOUR;
  const secondOnset = start + 2 * DAY + 10 * HOUR;
  const first = wave(FIRST_STORY, firstOnset);
  const second = wave(SECOND_STORY, secondOnset);
  return finish(w, 'a rainstorm story, then a day later a power-cut story, both written with the same common words', start, end, [
    { id: 'rainstorm', expect: 'alert', types: ['story'], onsetMs: [firstOnset], postIds: ids(first), description: 'first story' },
    { id: 'power-cut', expect: 'alert', types: ['story'], onsetMs: [secondOnset], postIds: ids(second), description: 'second story, sharing common words with the first' },
  ]);
}

/** 60 accounts post paraphrases of one template over an hour: one campaign. */
export function growingCampaignScenario(seed = 60): Scenario {
  const w = new World('growing-campaign', seed);
  const start = SCENARIO_EPOCH_MS;
  const end = start + DAY;
  w.chatter(start, end, 3);
  w.smallCascades(start, end, 40);
  const onset = start + 15 * HOUR;
  const campaign: EnrichedPost[] = [];
  const accounts = sockAccounts(w, 60, 'metro', onset);
  accounts.forEach((account, i) => {
    // Accounts join in turn over the hour; some post twice.
    const joinMs = onset + (i / accounts.length) * 50 * MINUTE + w.rng.next() * 5 * MINUTE;
    for (let k = w.rng.int(1, 2), t = joinMs; k > 0; k--, t += w.rng.next() * 10 * MINUTE) {
      campaign.push(w.post(account, t, w.rng.sample(CAMPAIGN_WORDS, 6), { text: paraphrase(w, CAMPAIGN_CLAUSES), sentiment: 0.7 }));
    }
  });
  return finish(w, '60 accounts post paraphrases of one template over an hour', start, end, [
    { id: 'growing-campaign', expect: 'alert', types: ['coordination'], onsetMs: [onset], postIds: ids(campaign), description: 'one campaign, growing' },
  ]);
}

/**
 * The dying-city episode delivered out of order: each post arrives after a crawler lag
 * (exponential, mean 2 min; one in twenty up to 30 min late).
 */
export function outOfOrderScenario(seed = 2016): Scenario {
  const base = dyingCityScenario(seed);
  const rng = new Rng(seed ^ 0x5eed);
  const arrival = base.posts.map((p) => ({ p, at: p.createdAtMs + (rng.next() < 0.05 ? rng.next() * 30 * MINUTE : rng.exp(2 * MINUTE)) }));
  arrival.sort((a, b) => a.at - b.at || (a.p.id < b.p.id ? -1 : 1));
  return { ...base, name: 'out-of-order', description: 'the dying-city episode with crawler lag (mean 2 min, 5% up to 30 min)', posts: arrival.map((x) => x.p) };
}

/** Every labelled scenario of `pnpm eval`. */
export function allScenarios(): Scenario[] {
  return [dyingCityScenario(), dailyPeakScenario(), campaignScenario(), spamScenario(), slowPostScenario(), outOfOrderScenario(), unseenStreamScenario(), twoStoriesScenario()];
}

/** The raw posts (contract shape, no analysis) of the dying-city episode: the `pnpm start` demo's input. */
export function demoPosts(seed = 2015): RawPost[] {
  return dyingCityScenario(seed).posts.map(toRawPost);
}

/** A post as a crawler delivers it (the contract's input shape, createdAt in Beijing time). */
export type RawPost = Omit<PostFields, 'createdAtMs'>;

/** Strips analyzer fields: what a crawler would deliver. */
export function toRawPost(p: EnrichedPost): RawPost {
  const raw: RawPost = {
    id: p.id,
    platform: p.platform,
    text: p.text,
    createdAt: new Date(p.createdAtMs + 8 * HOUR).toISOString().replace('Z', '+08:00'),
    author: p.author,
  };
  if (p.parentId !== undefined) raw.parentId = p.parentId;
  if (p.rootId !== undefined) raw.rootId = p.rootId;
  return raw;
}
