import { describe, expect, it } from 'vitest';
import { normaliseForDuplicates } from './coordination.js';

/** The definition: the one regex pass, then lower case. The fast path must give exactly this. */
const byRegex = (text: string): string => text.replace(/https?:\/\/\S+|@[\p{L}\p{N}_-]+|\[[^\]]{1,8}\]|[^\p{L}\p{N}]/gu, '').toLowerCase();

describe('normaliseForDuplicates', () => {
  it('gives the regex result for every UTF-16 code unit, alone and between letters', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `ab${ch}中文`, `${ch}Ｘ${ch}`]) expect(normaliseForDuplicates(text)).toBe(byRegex(text));
    }
  });

  it('gives the regex result on markup and mixed text', () => {
    let seed = 11;
    const pick = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const pieces = ['昆明', '18度', '，', '。', '！', '…', '“', '”', ' ', 'A', 'b', '7', '@网友12', '[蜡烛]', 'http://t.cn/x1', '#话题#', '😀', 'Ｑ', '々', '〇', '・', '\u3012'];
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let j = pick(12); j > 0; j--) text += pieces[pick(pieces.length)]!;
      expect(normaliseForDuplicates(text)).toBe(byRegex(text));
    }
  });
});
