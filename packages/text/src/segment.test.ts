import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedFile } from '@tingfeng/testing/infra';
import { DICT_DIR } from './dict-files.js';
import { extractMarkup } from './markup.js';
import { normalizeText } from './normalize.js';
import { Segmenter } from './segment.js';

const seedPath = sharedFile('seed/000_87c48f555365bc04.txt');
const seed = seedPath ? readFileSync(seedPath, 'utf8') : '';
const seedSentence = (start: string): string => {
  const at = seed.indexOf(start);
  if (at < 0) throw new Error(`seed sentence not found: ${start}`);
  const end = seed.slice(at).search(/[。\n]/);
  return end < 0 ? seed.slice(at) : seed.slice(at, at + end + 1);
};

const tmp = mkdtempSync(join(tmpdir(), 'tingfeng-text-'));
const userDictPath = join(tmp, 'user.dict.utf8');
copyFileSync(join(DICT_DIR, 'user.dict.utf8'), userDictPath);
const segmenter = new Segmenter({ userDictPath });
afterAll(() => {
  segmenter.unwatchDictionary();
  rmSync(tmp, { recursive: true, force: true });
});
const tokensOf = (text: string) => segmenter.tokenize(extractMarkup(normalizeText(text)).bareText);

describe.skipIf(!seedPath)('segmentation of the seed article (golden)', () => {
  const cases: [string, string[]][] = [
    ['这条来自昆明市长的首条政务微博', ['昆明市长', '政务微博']],
    ['现在,从昆明市长,到市属各职能部门', ['昆明市长', '职能部门']],
    ['自2010年起,昆明市依托迅猛发展的互联网', ['昆明市', '互联网']],
    ['办结的22件已通过@昆明12345市长热线', ['办结']],
    ['妄称昆明是“一座正在死去的城市”', ['昆明', '死去的城市']],
    ['一时间“昆明18度”成为网络热词', ['昆明18度', '网络', '热词']],
    ['吸引众多网民晒昆明的蓝天', ['昆明', '蓝天', '滇池', '海鸥', '红土地']],
    ['一场“昆明保卫战”也在网上展开', ['昆明保卫战', '网上']],
  ];
  for (const [start, expected] of cases) {
    it(`keeps ${expected.join(', ')} whole in "${start}…"`, () => {
      const tokens = tokensOf(seedSentence(start));
      for (const word of expected) expect(tokens).toContain(word);
      expect(tokens).not.toContain('的');
      expect(tokens.some((t) => /^[\s\p{P}]+$/u.test(t))).toBe(false);
    });
  }
  it('keeps 12345市长热线 whole when it is plain text', () => {
    expect(tokensOf('办结的22件已通过昆明12345市长热线公开')).toContain('昆明12345市长热线');
    expect(tokensOf('打12345市长热线没人接')).toContain('12345市长热线');
  });
  it('lowercases latin so slang meets the dictionary', () => {
    expect(tokensOf('为昆明打CALL,点赞!')).toEqual(expect.arrayContaining(['打call', '点赞', '昆明']));
  });
});

describe('dictionary reload', () => {
  it('adds a new word without a restart, and removes one with a rebuild', () => {
    const text = '滇池边的听风观鸟台今天开放';
    expect(segmenter.tokenize(text)).not.toContain('听风观鸟台');
    appendFileSync(userDictPath, '\n# added by the test\n听风观鸟台 ns\n');
    const added = segmenter.reloadDictionary();
    expect(added.mode).toBe('insert');
    expect(added.added).toEqual(['听风观鸟台']);
    expect(segmenter.tokenize(text)).toContain('听风观鸟台');

    writeFileSync(userDictPath, readFileSync(userDictPath, 'utf8').replace('听风观鸟台 ns\n', '').replace(/^鬼城 n$/m, ''));
    const removed = segmenter.reloadDictionary();
    expect(removed.mode).toBe('full');
    expect(removed.removed.sort()).toEqual(['听风观鸟台', '鬼城'].sort());
    expect(segmenter.tokenize(text)).not.toContain('听风观鸟台');
    expect(segmenter.tokenize('昆明是死去的城市')).toContain('死去的城市');
  });

  it('reloads on its own when the watched file changes', async () => {
    const reloaded = new Promise<string[]>((resolveReload, rejectReload) => {
      segmenter.watchDictionary({ debounceMs: 50, onReload: (r) => resolveReload(r.added), onError: rejectReload });
    });
    appendFileSync(userDictPath, '翠湖观鸥节 n\n');
    expect(await reloaded).toEqual(['翠湖观鸥节']);
    expect(segmenter.tokenize('翠湖观鸥节开幕了')).toContain('翠湖观鸥节');
    segmenter.unwatchDictionary();
  });
});
