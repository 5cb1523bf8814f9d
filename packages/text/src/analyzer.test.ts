import type { Post } from '@tingfeng/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnalyzer } from './analyzer.js';
import { loadSentimentModel } from './sentiment-model.js';

const analyzer = createAnalyzer();
afterAll(() => analyzer.close());
const post = (text: string): Post => ({
  id: '3900000000000001',
  platform: 'weibo',
  text,
  createdAt: '2015-10-20T01:30:00.000Z',
  createdAtMs: Date.parse('2015-10-20T01:30:00.000Z'),
  author: { id: 'u1', name: '某网友' },
});

describe('createAnalyzer().analyze', () => {
  it('fills every enriched field from a repost with markup', () => {
    const e = analyzer.analyze(post('昆明是一座正在死去的城市[怒] #昆明18度# @昆明发布 http://t.cn/abc //@张三:胡说[蜡烛]'), 1_000);
    expect(e.id).toBe('3900000000000001');
    expect(e.ownText).toBe('昆明是一座正在死去的城市[怒] #昆明18度# @昆明发布 http://t.cn/abc');
    expect(e.tokens).toEqual(expect.arrayContaining(['昆明', '死去的城市', '昆明18度']));
    expect(e.tokens).not.toContain('胡说');
    expect(e.keywords.length).toBeGreaterThan(0);
    expect(e.keywords.length).toBeLessThanOrEqual(8);
    expect(e.keywords.every((k) => e.tokens.includes(k))).toBe(true);
    expect(e.emoticons).toEqual(['怒']);
    expect(e.mentions).toEqual(['昆明发布']);
    expect(e.topics).toEqual(['昆明18度']);
    expect(e.urls).toEqual(['http://t.cn/abc']);
    expect(e.repostChain).toEqual([{ user: '张三', text: '胡说[蜡烛]' }]);
    expect(e.spam).toBe(false);
    expect(e.spamReason).toBeUndefined();
    expect(e.sentiment).toBeLessThan(0);
    expect(e.receivedAtMs).toBe(1_000);
  });
  it('scores sentiment in [-1, 1] with a confidence, from the words, negation and emoticons', () => {
    const s = (t: string) => analyzer.analyze(post(t)).sentiment;
    const c = (t: string) => analyzer.analyze(post(t)).sentimentConfidence!;
    expect(s('昆明的天气真好,很开心')).toBeGreaterThan(0.3);
    expect(s('开心')).toBeGreaterThan(0);
    expect(s('一点都不开心')).toBeLessThan(0);
    expect(s('非常失望')).toBeLessThan(-0.3);
    expect(s('太好了!!![哈哈][哈哈][爱你]')).toBeLessThanOrEqual(1);
    expect(s('太好了!!![哈哈][哈哈][爱你]')).toBeGreaterThan(0.99);
    expect(s('太糟糕了,气死了,垃圾[怒][怒]')).toBeGreaterThanOrEqual(-1);
    expect(s('太糟糕了,气死了,垃圾[怒][怒]')).toBeLessThan(-0.99);
    // The emoticon outweighs mild words: the labels the model was trained on were emoticons.
    expect(s('今天去了翠湖[泪]')).toBeLessThan(0);
    // A plain statement is read as unsure, not as negative or positive with confidence.
    expect(c('今天去了翠湖')).toBeLessThan(0.7);
    for (const t of ['开心', '非常失望', '今天去了翠湖', '[哈哈]']) {
      expect(c(t)).toBeGreaterThanOrEqual(0.5);
      expect(c(t)).toBeLessThanOrEqual(1);
      expect(c(t)).toBeCloseTo((1 + Math.abs(s(t))) / 2, 9);
    }
  });

  it('reads nothing into a post with nothing to read: exactly 0, a coin toss', () => {
    for (const t of ['', '转发微博', '轉發微博。', '  ', '//@张三:', '@昆明发布 http://t.cn/x']) {
      const e = analyzer.analyze(post(t));
      expect([t, e.sentiment, e.sentimentConfidence]).toEqual([t, 0, 0.5]);
    }
  });

  it('gives a repost with empty own words the polarity of the nearest quoted hop that says something', () => {
    const quoted = analyzer.analyze(post('太恶心了，气死我了'));
    for (const t of ['//@张三:太恶心了，气死我了', '转发微博//@张三:太恶心了，气死我了', '//@李四://@张三:太恶心了，气死我了', '//@李四: //@张三:太恶心了，气死我了']) {
      const e = analyzer.analyze(post(t));
      expect([t, e.sentiment]).toEqual([t, quoted.sentiment]);
      expect(e.tokens).toEqual([]);
    }
    // Only the nearest hop with words counts, not the ones it quotes in turn.
    expect(analyzer.analyze(post('//@李四:好开心啊//@张三:太恶心了，气死我了')).sentiment).toBe(analyzer.analyze(post('好开心啊')).sentiment);
    // An emoticon alone is a hop that says something.
    expect(analyzer.analyze(post('//@李四:[哈哈]//@张三:太恶心了')).sentiment).toBe(analyzer.analyze(post('[哈哈]')).sentiment);
  });

  it('adds half of the nearest hop\'s evidence to a repost\'s own words', () => {
    const logit = (t: string) => 2 * Math.atanh(analyzer.analyze(post(t)).sentiment);
    const own = logit('支持');
    const hop = logit('太恶心了，气死我了');
    const both = logit('支持//@张三:太恶心了，气死我了');
    // The verdict's logit is bias + own evidence + half the hop's evidence (its logit less the bias).
    const b = loadSentimentModel().bias;
    expect(both).toBeCloseTo(own + 0.5 * (hop - b), 6);
  });

  it('marks the seed advert as spam and explains why', () => {
    const e = analyzer.analyze(post('首付  首付【表情】【表情】万买地铁三室准现Zhifang.com'));
    expect(e.spam).toBe(true);
    expect(e.spamReason).toBeTruthy();
  });
  it('handles an empty text (a pure repost)', () => {
    const e = analyzer.analyze(post(''));
    expect(e).toMatchObject({ ownText: '', tokens: [], keywords: [], sentiment: 0, spam: false, repostChain: [] });
  });
  it('keeps the keyword order deterministic, most significant first', () => {
    const text = '滇池蓝藻又爆发了,滇池治理花了多少钱?蓝藻年年有';
    const a = analyzer.analyze(post(text)).keywords;
    expect(analyzer.analyze(post(text)).keywords).toEqual(a);
    expect(a.slice(0, 2).sort()).toEqual(['滇池', '蓝藻'].sort());
  });
});

describe('monitoring schemes', () => {
  it('tags posts with the schemes they match, and takes new schemes without a restart', () => {
    const own = createAnalyzer({ schemes: [{ name: '昆明衰落', rule: '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气' }] });
    try {
      expect(own.analyze(post('有人说昆明是一座正在死去的城市')).schemes).toEqual(['昆明衰落']);
      expect(own.analyze(post('昆明的天气真好')).schemes).toEqual([]);
      // Repost hops count, and traditional characters are normalised first.
      expect(own.analyze(post('转发//@张三:崑明?不,昆明越來越沒落了')).schemes).toEqual(['昆明衰落']);
      const compiled = own.setSchemes([
        { name: '滇池', rule: '滇池 蓝藻' },
        { name: '坏规则', rule: '滇池 AND' },
        { name: '某网友', rule: '', accounts: ['@某网友'] },
      ]);
      expect(compiled.invalid.map((i) => i.name)).toEqual(['坏规则']);
      expect(own.analyze(post('滇池的藍藻又爆发了')).schemes).toEqual(['滇池', '某网友']);
      expect(own.analyze(post('有人说昆明是一座正在死去的城市')).schemes).toEqual(['某网友']);
    } finally {
      own.close();
    }
  });
  it('gives an empty list when no scheme is loaded', () => {
    expect(analyzer.analyze(post('昆明')).schemes).toEqual([]);
  });
});
