/**
 * pnpm bench:analyze [--posts 50000] [--seed 42] [--real <posts.jsonl[.xz]>] [--real-posts 100000]
 *
 * Times, on the same texts, (a) bare `nodejieba.cut(text, true)` (the segmentation the analyzer itself uses: precise
 * mode with HMM) and (b) the whole `analyze()` path, sentiment model included, on two corpora:
 * - real posts: every k-th post of `../shared/data/ced_weibo_dev.jsonl.xz` (624,780 real Weibo posts; 40 % are pure
 *   reposts with empty text, the median text is short), `--real-posts` of them; target analyze/raw >= 0.5;
 * - a deterministic generated corpus of Weibo-like posts about Kunming (seeded PRNG), and (c) `analyze()` again
 *   with 100 monitoring schemes loaded; target analyze/raw >= 0.7.
 * Prints posts/s and MB/s of each, the ratios and what the schemes cost. Figures, not assertions.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Post } from '@tingfeng/contracts';
import { seededRandom } from '@tingfeng/testing/infra';
import { createAnalyzer, type Scheme } from '@tingfeng/text';
import nodejieba from 'nodejieba';
import { readJsonlLines } from './lib/jsonl.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '50000' },
    seed: { type: 'string', default: '42' },
    real: { type: 'string', default: join(repo, '..', 'shared', 'data', 'ced_weibo_dev.jsonl.xz') },
    'real-posts': { type: 'string', default: '100000' },
  },
});
const postCount = Number(values.posts);
const seed = Number(values.seed);

const SENTENCES = [
  '今天昆明的天气真好，蓝天白云，温度刚好十八度',
  '滇池边的红嘴鸥又回来了，翠湖公园里全是喂海鸥的人',
  '地铁三号线早高峰太挤了，每天都要排队二十分钟',
  '呈贡新区的房价又涨了，年轻人真的买不起房',
  '有人说昆明是一座正在死去的城市，我觉得这是胡说八道',
  '打了12345市长热线反映小区停水的问题，三天了还没人管',
  '官渡古镇的小吃很好吃，过桥米线和鲜花饼都推荐',
  '长水机场的航班又延误了，等了四个小时，太让人失望了',
  '五华区的老街改造得不错，晚上散步很舒服',
  '盘龙江的水比以前干净多了，政府治理还是有效果的',
  '西山区修路修了一年还没完工，出门到处堵车',
  '昆明发布说明天有雨，大家出门记得带伞',
  '斗南花市的鲜花便宜又漂亮，周末去逛了一圈',
  '这个城市越来越没落了，年轻人都去外地打工了',
  '网上那些带节奏的水军能不能消停一点，别再洗地了',
  '辟谣：网传昆明地铁停运的消息是假的',
  '感谢环卫工人的辛苦付出，春城因为你们更美丽',
  '学校门口的路灯坏了好几天，晚上孩子放学很危险',
  '物业费年年涨，服务却越来越差，业主们很愤怒',
  '菌子季节到了，大家吃菌子一定要注意安全',
];
const TRAD = ['這個城市真的很美，我很喜歡昆明', '滇池的藍藻問題甚麼時候能解決'];
const EMOTICONS = ['[哈哈]', '[泪]', '[怒]', '[赞]', '[蜡烛]', '[爱你]', '[抓狂]', '[心]'];
const USERS = ['昆明发布', '昆明12345市长热线', '春城晚报', '滇池卫士', 'km_小王', '翠湖-老李'];
const TOPICS = ['#昆明18度#', '#发现昆明之美#', '#昆明保卫战#', '#滇池治理#'];

function buildCorpus(n: number, rand: () => number): string[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    if (rand() < 0.2) parts.push(pick(TOPICS));
    const sentences = 1 + Math.floor(rand() * 4);
    for (let s = 0; s < sentences; s++) parts.push(rand() < 0.03 ? pick(TRAD) : pick(SENTENCES));
    if (rand() < 0.4) parts.push(pick(EMOTICONS));
    if (rand() < 0.25) parts.push(`@${pick(USERS)} `);
    if (rand() < 0.1) parts.push(`http://t.cn/R${Math.floor(rand() * 1e6).toString(36)}`);
    let text = parts.join(rand() < 0.5 ? '，' : ' ');
    if (rand() < 0.3) text += `//@${pick(USERS)}:${pick(SENTENCES)}${rand() < 0.5 ? pick(EMOTICONS) : ''}`;
    if (rand() < 0.01) text = '首付五万买地铁三室准现房，加微信km12345看房，Zhifang.com';
    texts.push(text);
  }
  return texts;
}

const texts = buildCorpus(postCount, seededRandom(seed));
const totalBytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);
const posts: Post[] = texts.map((text, i) => ({
  id: String(i),
  platform: 'weibo',
  text,
  createdAt: '2015-10-20T01:30:00.000Z',
  createdAtMs: 1445304600000 + i * 1000,
  author: { id: `u${i % 997}` },
}));
const analyzer = createAnalyzer();

function timeRaw(list: readonly string[] = texts): number {
  const start = performance.now();
  let pieces = 0;
  for (const text of list) pieces += nodejieba.cut(text, true).length;
  if (pieces < 0) throw new Error('unreachable');
  return (performance.now() - start) / 1000;
}
function timeAnalyze(list: readonly Post[] = posts): number {
  const start = performance.now();
  let tokens = 0;
  for (const post of list) tokens += analyzer.analyze(post).tokens.length;
  if (tokens < 0) throw new Error('unreachable');
  return (performance.now() - start) / 1000;
}

/** Every k-th post of a real file, `wanted` of them, as the analyzer receives them (texts as published). */
async function readRealPosts(path: string, wanted: number): Promise<Post[]> {
  const all: Post[] = [];
  for await (const { line } of readJsonlLines(path)) {
    const p = JSON.parse(line) as { id: string; text: string; createdAt: string; author: { id: string }; parentId?: string; rootId?: string };
    all.push({ ...p, platform: 'weibo', createdAtMs: Date.parse(p.createdAt) } as Post);
  }
  const stride = Math.max(1, Math.floor(all.length / wanted));
  const out: Post[] = [];
  for (let i = 0; i < all.length && out.length < wanted; i += stride) out.push(all[i]!);
  return out;
}

/** 100 schemes of the usual shapes: place AND (event OR event) NOT exclusion, phrases, a few account lists. */
function buildSchemes(rand: () => number): Scheme[] {
  const places = ['昆明', '滇池', '翠湖', '呈贡', '官渡', '五华区', '盘龙江', '西山区', '长水机场', '斗南', '春城', '地铁'];
  const events = ['死去', '没落', '鬼城', '停水', '堵车', '延误', '房价', '失望', '愤怒', '危险', '辟谣', '水军', '物业费', '菌子', '红嘴鸥'];
  const excluded = ['天气', '小吃', '鲜花', '散步', '感谢'];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const schemes: Scheme[] = [];
  for (let i = 0; i < 100; i++) {
    const kind = i % 5;
    const rule =
      kind === 0 ? `${pick(places)} AND (${pick(events)} OR ${pick(events)} OR ${pick(events)}) NOT ${pick(excluded)}`
      : kind === 1 ? `"${pick(places)}${pick(['的', ''])}${pick(events)}" OR (${pick(places)} ${pick(events)})`
      : kind === 2 ? `(${pick(places)} OR ${pick(places)}) (${pick(events)} OR ${pick(events)}) NOT (${pick(excluded)} OR ${pick(excluded)})`
      : kind === 3 ? `${pick(events)} ${pick(events)} OR 第${i}号关键词`
      : `${pick(places)} ${pick(events)}`;
    schemes.push({ name: `方案${i}`, rule, ...(i % 10 === 9 ? { accounts: [pick(['u1', 'u2', 'u3', '昆明发布'])] } : {}) });
  }
  return schemes;
}
const benchSchemes = buildSchemes(seededRandom(seed + 1));

// Real posts first: the figure the analyzer is held to.
let realLine = `real posts: ${values.real} not found, skipped\n`;
if (existsSync(values.real)) {
  const realPosts = await readRealPosts(values.real, Number(values['real-posts']));
  const realTexts = realPosts.map((p) => p.text);
  const realMb = realTexts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0) / 1e6;
  const empty = realTexts.filter((t) => t.length === 0).length;
  for (const text of realTexts.slice(0, 10000)) nodejieba.cut(text, true);
  for (const post of realPosts.slice(0, 10000)) analyzer.analyze(post);
  let realRawS = Infinity;
  let realAnalyzeS = Infinity;
  // CPU time of this process too, in chunks of 2,000 posts alternating raw and analyze: on a machine shared with
  // other work, wall time counts the waits for a core, CPU time only the work done.
  let rawCpuS = 0;
  let analyzeCpuS = 0;
  const cpuS = (run: () => void) => {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1e6;
  };
  for (let round = 0; round < 3; round++) {
    realRawS = Math.min(realRawS, timeRaw(realTexts));
    realAnalyzeS = Math.min(realAnalyzeS, timeAnalyze(realPosts));
    for (let at = 0; at < realPosts.length; at += 2000) {
      const texts = realTexts.slice(at, at + 2000);
      const chunk = realPosts.slice(at, at + 2000);
      rawCpuS += cpuS(() => timeRaw(texts));
      analyzeCpuS += cpuS(() => timeAnalyze(chunk));
    }
  }
  const realRate = (name: string, s: number) =>
    `${name.padEnd(24)} ${Math.round(realPosts.length / s).toString().padStart(8)} posts/s ${(realMb / s).toFixed(2).padStart(7)} MB/s`;
  realLine =
    `real posts: ${realPosts.length} of ${values.real} (every k-th), ${realMb.toFixed(2)} MB UTF-8, ${empty} with empty text; best of 3 after warm-up\n` +
    `${realRate('raw nodejieba.cut(hmm)', realRawS)}\n${realRate('analyze()', realAnalyzeS)}\n` +
    `ratio analyze/raw on real posts: ${(realRawS / realAnalyzeS).toFixed(2)} (target >= 0.5)\n` +
    `by CPU time (3 rounds, alternating chunks): raw ${Math.round((3 * realPosts.length) / rawCpuS)} posts/s, ` +
    `analyze() ${Math.round((3 * realPosts.length) / analyzeCpuS)} posts/s, ratio ${(rawCpuS / analyzeCpuS).toFixed(2)}\n\n`;
}

// Warm-up: let V8 optimise every path on a slice before the timed runs; then best of three, interleaved (raw,
// analyze, analyze with schemes in each round), so a change in the machine's load touches all three alike.
const warm = texts.slice(0, 5000);
for (const text of warm) nodejieba.cut(text, true);
for (const post of posts.slice(0, 5000)) analyzer.analyze(post);
const matcher = analyzer.setSchemes(benchSchemes);
if (matcher.invalid.length > 0) throw new Error(`bench schemes invalid: ${JSON.stringify(matcher.invalid)}`);
let tagged = 0;
for (const post of posts) if ((analyzer.analyze(post).schemes ?? []).length > 0) tagged++;
let rawS = Infinity;
let analyzeS = Infinity;
let schemesS = Infinity;
for (let round = 0; round < 3; round++) {
  rawS = Math.min(rawS, timeRaw());
  analyzer.setSchemes([]);
  analyzeS = Math.min(analyzeS, timeAnalyze());
  analyzer.setSchemes(benchSchemes);
  schemesS = Math.min(schemesS, timeAnalyze());
}
analyzer.close();

const mb = totalBytes / 1e6;
const line = (name: string, s: number) =>
  `${name.padEnd(24)} ${Math.round(postCount / s).toString().padStart(8)} posts/s ${(mb / s).toFixed(2).padStart(7)} MB/s`;
process.stdout.write(
  realLine +
  `generated corpus: ${postCount} posts, ${mb.toFixed(2)} MB UTF-8, seed ${seed}; best of 3 after warm-up\n` +
    `${line('raw nodejieba.cut(hmm)', rawS)}\n${line('analyze()', analyzeS)}\n` +
    `ratio analyze/raw: ${(rawS / analyzeS).toFixed(2)} (target >= 0.7)\n` +
    `${line('analyze() + 100 schemes', schemesS)}\n` +
    `schemes: ${matcher.keywordCount} keywords, ${((100 * tagged) / postCount).toFixed(1)}% of posts tagged, ` +
    `${(((schemesS - analyzeS) / postCount) * 1e6).toFixed(2)} µs a post (ratio with schemes ${(rawS / schemesS).toFixed(2)})\n`,
);
