import { describe, expect, it } from 'vitest';
import { extractMarkup } from './markup.js';
import { normalizeText } from './normalize.js';
import { detectSpam } from './spam.js';

const check = (raw: string) => {
  const ownText = normalizeText(raw);
  return detectSpam({ ownText, ...extractMarkup(ownText) });
};

describe('detectSpam', () => {
  it("flags the seed page's own advert line, with a reason", () => {
    const v = check('首付  首付【表情】【表情】万买地铁三室准现Zhifang.com');
    expect(v.spam).toBe(true);
    expect(v.reason).toMatch(/首付…万/);
    expect(v.reason).toMatch(/zhifang\.com/);
  });
  it('flags contact and get-rich adverts', () => {
    expect(check('兼职刷单，日赚300，加V信 abc_12345').spam).toBe(true);
    expect(check('招商代理，详情请私信，扫码领取优惠').spam).toBe(true);
    expect(check('ＱＱ号：12345678 加我').spam).toBe(true);
    expect(check('楼盘特价，咨询13812345678').spam).toBe(true);
  });
  it('flags a handle written straight after the app name, and 代购 adverts', () => {
    const v = check('加微信dg938低价代购正品优惠，昆明同城当天送达');
    expect(v.spam).toBe(true);
    expect(v.reason).toMatch(/contact:加微信/);
    expect(check('朋友找代购买了假货，大家小心').spam).toBe(false);
  });
  it('flags posts that are mostly links and mentions', () => {
    expect(check('@a1 @b2 @c3 http://t.cn/x1 看').reason).toMatch(/markup_heavy/);
  });
  it('flags long runs of one character', () => {
    expect(check('顶顶顶顶顶顶顶顶顶顶顶顶顶顶 http://t.cn/abc').spam).toBe(true);
  });
  it('leaves ordinary citizen complaints alone', () => {
    for (const text of [
      '昆明的房价太高了，买不起房',
      '打了12345市长热线三次都没人管，小区停水一周了',
      '@昆明12345市长热线 盘龙区某小区物业乱收费，希望相关部门调查处理',
      '办结的22件已通过@昆明12345市长热线公开或私信回复反映人。',
      '今年3月20日晚，昆明市市长王喜良发出了这样一条市长微博',
      '哈哈哈哈哈哈哈哈，昆明今天18度[哈哈]',
      '地铁三号线什么时候通车？每天堵在路上',
    ]) {
      const v = check(text);
      expect({ text, spam: v.spam, reason: v.reason }).toEqual({ text, spam: false, reason: undefined });
    }
  });
});

describe('repeated characters', () => {
  it('flags a run of ten identical characters, not nine, nor ten line breaks', () => {
    const verdict = (bareText: string) => detectSpam({ ownText: bareText, bareText, urls: [], mentions: [], topics: [], emoticons: [] });
    const fired = (t: string) => (verdict(`加微信${t}`).reason ?? '').includes('repeated_chars');
    expect(fired('啊'.repeat(10))).toBe(true);
    expect(fired('啊'.repeat(9))).toBe(false);
    expect(fired('\n'.repeat(12))).toBe(false);
    expect(fired('😀'.repeat(10))).toBe(true);
    expect(fired('😀'.repeat(9))).toBe(false);
  });
});
