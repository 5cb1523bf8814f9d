import * as OpenCC from 'opencc-js';
import { describe, expect, it } from 'vitest';
import { collapseWhitespace, mayNeedSimplification, normalizeText, toHalfWidth, toSimplifiedChinese } from './normalize.js';

describe('normalizeText', () => {
  it('turns full-width ASCII and the ideographic space half-width', () => {
    expect(toHalfWidth('ＡＢＣ１２３　＠昆明发布：＃话题＃')).toBe('ABC123 @昆明发布:#话题#');
  });
  it('converts traditional to simplified Chinese', () => {
    expect(normalizeText('昆明發佈：這個城市正在死去嗎？')).toBe('昆明发布:这个城市正在死去吗?');
    expect(normalizeText('我很喜歡雲南的藍天')).toBe('我很喜欢云南的蓝天');
  });
  it('collapses whitespace and drops zero-width characters', () => {
    expect(normalizeText('  昆明\u200b 的\n\n  天气\t很好  ')).toBe('昆明 的 天气 很好');
  });
  it('skips the converter on text that is already simplified, and only then', () => {
    expect(mayNeedSimplification('昆明是一座正在死去的城市')).toBe(false);
    expect(mayNeedSimplification('昆明是一座正在死去的城市嗎')).toBe(true);
    // 反覆 holds no traditional character yet converts (to 反复): the quick check must still catch it.
    expect(mayNeedSimplification('反覆')).toBe(true);
    expect(normalizeText('反覆无常')).toBe('反复无常');
  });
  it('normalises the seed sentences to themselves (they are simplified already)', () => {
    const s = '这条来自昆明市长的首条政务微博,迅即在网上引起热烈反响。';
    expect(normalizeText(s)).toBe(s);
  });
});

// The converter the module builds, applied to the whole text: what converting run by run must equal.
const wholeText = OpenCC.ConverterFactory(...(OpenCC.Locale.from.tw ?? []), ...(OpenCC.Locale.from.hk ?? []), ...(OpenCC.Locale.to.cn ?? []));

describe('normalizeText fast path', () => {
  it('converts run by run exactly as the whole text, on the bench sentences and phrase-sensitive ones', () => {
    const texts = ['這個城市真的很美，我很喜歡昆明 滇池的藍藻問題甚麼時候能解決', '反覆無常,著名的臺灣 乾隆 後來 頭髮 皇后 瞭解', '一個 ⿰氵青 測試 𠀀臺灣', 'ab臺c灣d'];
    for (const t of texts) expect(toSimplifiedChinese(t)).toBe(wholeText(t));
  });
  it('equals the three steps composed, on random mixes of the characters each step cares about', () => {
    const alphabet = [...'ab 昆明這個城市喜歡臺北反覆乾隆後髮著瞭解，：,.ＡＢ１　\t\n\u00a0\u200b\u2060\ufeff\u2028\u3000！'];
    alphabet.push('𠀀', '𡃁');
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 3000; n++) {
      let text = '';
      const length = Math.floor(rand() * 16);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const halfWidth = text.replace(/[\uff01-\uff5e\u3000]/g, (ch) => (ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));
      expect(toHalfWidth(text)).toBe(halfWidth);
      expect(normalizeText(text)).toBe(collapseWhitespace(toSimplifiedChinese(halfWidth)));
      expect(toSimplifiedChinese(halfWidth)).toBe(wholeText(halfWidth));
    }
  });
});
