import { describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { normaliseForDuplicates } from './coordination.js';
import { createDetectorEngine, type DetectorSnapshot } from './engine.js';
import { growingCampaignScenario } from './scenarios/generate.js';
import { runScenario } from './scenarios/score.js';

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

describe('a campaign is one alert that grows', () => {
  it('60 accounts posting paraphrases of one template over an hour: one campaign whose final alert names at least 55', () => {
    const s = growingCampaignScenario();
    const event = s.events[0]!;
    const campaignAccounts = new Set(s.posts.filter((p) => event.postIds.has(p.id)).map((p) => p.author.name ?? p.author.id));
    expect(campaignAccounts.size).toBe(60);
    const alerts = runScenario(s).alertList.filter((a) => a.type === 'coordination');
    const byKey = new Map<string, Alert[]>();
    for (const a of alerts) byKey.set(a.key, [...(byKey.get(a.key) ?? []), a]);
    // The campaign: the key with the most accounts in its last emission.
    const [key, emissions] = [...byKey].sort((a, b) => b[1].at(-1)!.accounts!.length - a[1].at(-1)!.accounts!.length)[0]!;
    const final = emissions.at(-1)!;
    expect(final.accounts!.filter((name) => campaignAccounts.has(name)).length).toBeGreaterThanOrEqual(55);
    expect(final.accountCount).toBe(final.accounts!.length);
    expect((final.variants as string[]).length).toBeGreaterThan(5);
    // It grew under one key: each emission names at least as many accounts as the one before.
    for (let i = 1; i < emissions.length; i++) expect(emissions[i]!.accounts!.length).toBeGreaterThanOrEqual(emissions[i - 1]!.accounts!.length);
    expect(new Set(emissions.map((a) => a.id)).size).toBe(emissions.length);
    expect([...byKey.keys()].filter((k) => k !== key).length).toBeLessThanOrEqual(2);
  });

  it('resumes a growing campaign from a snapshot with the same alerts', () => {
    const s = growingCampaignScenario();
    const straight = createDetectorEngine();
    const resumed = createDetectorEngine();
    const a: Alert[] = [];
    const b: Alert[] = [];
    let current = resumed;
    s.posts.forEach((p, i) => {
      a.push(...straight.process(p));
      b.push(...current.process(p));
      if (i % 250 === 0) current = createDetectorEngine({}, JSON.parse(JSON.stringify(current.snapshot())) as DetectorSnapshot);
    });
    a.push(...straight.flush());
    b.push(...current.flush());
    expect(a.filter((x) => x.type === 'coordination').length).toBeGreaterThan(1);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});
