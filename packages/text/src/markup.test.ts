import { describe, expect, it } from 'vitest';
import { extractMarkup, splitRepostChain } from './markup.js';
import { normalizeText } from './normalize.js';

describe('extractMarkup', () => {
  it('extracts mentions, topics, emoticons and URLs, and strips them from the text to segment', () => {
    const m = extractMarkup('#昆明18度# 今天好凉快[哈哈] @昆明发布 @小明_2015-km 看 http://t.cn/RzAbc9x 吧');
    expect(m.topics).toEqual(['昆明18度']);
    expect(m.emoticons).toEqual(['哈哈']);
    expect(m.mentions).toEqual(['昆明发布', '小明_2015-km']);
    expect(m.urls).toEqual(['http://t.cn/RzAbc9x']);
    expect(m.bareText).not.toMatch(/[@[\]#]|http/);
    expect(m.bareText).toContain('昆明18度');
  });
  it('finds bare domains such as the seed advert', () => {
    expect(extractMarkup('万买地铁三室准现Zhifang.com').urls).toEqual(['Zhifang.com']);
  });
  it('does not take an e-mail address for a mention', () => {
    expect(extractMarkup('发邮件到 km12345@qq.com').mentions).toEqual([]);
  });
  it('keeps an emoticon name to 8 characters and a mention that ends at punctuation', () => {
    expect(extractMarkup('[蜡烛][蜡烛][这不是一个表情因为太长了]').emoticons).toEqual(['蜡烛']);
    expect(extractMarkup('谢谢@昆明12345市长热线,问题解决了').mentions).toEqual(['昆明12345市长热线']);
  });
  it('returns nothing for plain text', () => {
    const m = extractMarkup('昆明的房价太高了');
    expect(m).toEqual({ urls: [], mentions: [], topics: [], emoticons: [], bareText: '昆明的房价太高了' });
  });
});

describe('splitRepostChain', () => {
  it('splits own words from the chain, nearest hop first', () => {
    const s = splitRepostChain(normalizeText('说得对[赞]//@张三：昆明真的在死去吗？//@李四:昆明是一座正在死去的城市'));
    expect(s.ownText).toBe('说得对[赞]');
    expect(s.repostChain).toEqual([
      { user: '张三', text: '昆明真的在死去吗?' },
      { user: '李四', text: '昆明是一座正在死去的城市' },
    ]);
  });
  it('gives an empty own text to a pure repost', () => {
    expect(splitRepostChain('//@昆明发布:今天18度').ownText).toBe('');
  });
  it('does not split at a URL', () => {
    const s = splitRepostChain('看这里 http://t.cn/abc //@张三: 转');
    expect(s.ownText).toBe('看这里 http://t.cn/abc');
    expect(s.repostChain).toEqual([{ user: '张三', text: '转' }]);
  });
  it('splits hops that follow each other without a word (A reposted B reposting C)', () => {
    expect(splitRepostChain('//@李四://@张三:气死了').repostChain).toEqual([
      { user: '李四', text: '' },
      { user: '张三', text: '气死了' },
    ]);
    expect(splitRepostChain('看 http://@x //@km_2: //@B:好').repostChain.map((h) => h.user)).toEqual(['km_2', 'B']);
  });
  it('leaves text without hops alone', () => {
    expect(splitRepostChain('昆明今天下雨')).toEqual({ ownText: '昆明今天下雨', repostChain: [] });
  });
});
