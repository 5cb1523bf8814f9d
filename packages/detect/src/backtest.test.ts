import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { campaignScenario, demoPosts } from './scenarios/generate.js';
import { rebuttalCampaign } from './testing.js';

const root = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'backtest-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function backtest(input: string, ...args: string[]): { alerts: string; summary: Record<string, unknown> } {
  const out = join(dir, `out-${args.join('').replace(/[^a-z0-9]/gi, '')}.jsonl`);
  // `-` reads the file from a pipe (64 KiB at a time), as `xz -dc history.jsonl.xz | pnpm backtest --input -` does.
  const stdin = input.startsWith('-') ? readFileSync(input.slice(1)) : undefined;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/backtest.ts', '--input', stdin ? '-' : input, '--out', out, '--progress-every', '0', ...args], {
    cwd: root,
    encoding: 'utf8',
    ...(stdin && { input: stdin }),
  });
  expect(r.status, r.stderr).toBe(0);
  return { alerts: readFileSync(out, 'utf8'), summary: JSON.parse(r.stderr.trim().split('\n').at(-1)!.replace(/^backtest: /, '')) as Record<string, unknown> };
}

describe('pnpm backtest over a real history', () => {
  it('reads weeks of silence whole, and refuses lone far-future posts without letting them move event time', () => {
    // Enriched lines (validated, not analysed: quick): three bursts weeks apart, as a real history has them.
    const posts = campaignScenario().posts;
    const shiftMs = [0, 21 * 86_400_000, 70 * 86_400_000];
    const lines = posts.map((p, i) => {
      const createdAtMs = p.createdAtMs + shiftMs[Math.floor((i * 3) / posts.length)]!;
      return JSON.stringify({ ...p, createdAtMs, createdAt: new Date(createdAtMs).toISOString() });
    });
    const clean = join(dir, 'history.jsonl');
    writeFileSync(clean, `${lines.join('\n')}\n`);
    // A 2999 typo and a post a time-zone bug puts 8 hours ahead, each alone among honest posts.
    const poisoned = [...lines];
    const at = (i: number) => JSON.parse(lines[i]!) as { createdAtMs: number };
    poisoned.splice(2000, 0, JSON.stringify({ ...JSON.parse(lines[2000]!), id: 'typo', createdAt: '2999-10-20T08:00:00Z', createdAtMs: Date.parse('2999-10-20T08:00:00Z') }));
    // Inside the campaign: accepted, it would close the coordination window under it.
    poisoned.splice(1870, 0, JSON.stringify({ ...JSON.parse(lines[1870]!), id: 'tz', createdAtMs: at(1870).createdAtMs + 8 * 3600_000, createdAt: new Date(at(1870).createdAtMs + 8 * 3600_000).toISOString() }));
    const dirty = join(dir, 'history-poisoned.jsonl');
    writeFileSync(dirty, `${poisoned.join('\n')}\n`);

    const a = backtest(clean, '--threads', '0');
    expect(a.summary).toMatchObject({ lines: posts.length, posts: posts.length, rejected: 0 });
    const b = backtest(dirty, '--threads', '0');
    expect(b.summary).toMatchObject({ lines: posts.length + 2, posts: posts.length, rejectedByReason: { created_at_future: 2 }, late: a.summary.late });
    // Event time never moved for them: the same alerts, byte for byte.
    expect(b.alerts).toBe(a.alerts);
    expect(a.alerts).toContain('"type":"coordination"');
  }, 300_000);
});

describe('pnpm backtest on worker threads', () => {
  it('writes the same bytes and counts with --threads 0, 1 and 2, from a file or a pipe', () => {
    // The dying-city episode as raw posts, some enriched lines, CRLF, blank and refused lines (bad JSON,
    // a post two days ahead of the data's clock) spread over many batches.
    const lines = demoPosts().map((p) => JSON.stringify(p));
    const enriched = campaignScenario().posts.slice(0, 500).map((p) => JSON.stringify(p));
    lines.splice(3000, 0, ...enriched);
    lines.splice(100, 0, '', '{not json', JSON.stringify({ ...JSON.parse(lines[100]!), id: 'future', createdAt: '2015-10-25T00:00:00+08:00' }));
    // An id holding the wire's id separator (crosses threads unjoined), and two posts split by a lone CR.
    lines.splice(200, 0, JSON.stringify({ ...JSON.parse(lines[200]!), id: 'unit\u001fseparated' }));
    lines.splice(300, 2, `${lines[300]!}\r${lines[301]!}`);
    const input = join(dir, 'posts.jsonl');
    writeFileSync(input, `${lines.join('\r\n')}\r\n`);
    const single = backtest(input, '--threads', '0');
    expect(single.alerts.split('\n').length).toBeGreaterThan(5);
    // The blank line is skipped; the line with a lone CR is two.
    expect(single.summary).toMatchObject({ lines: lines.length, enrichedInput: 500, rejectedByReason: { not_json: 1, created_at_future: 1 } });
    const counts = ({ seconds, postsPerSecond, threads, batches, batchesOnMain, analysisMs, detectionMs, waitMs, ...rest }: Record<string, unknown>) => rest;
    expect(single.summary.batches).toBeGreaterThan(4);
    expect(single.summary.batchesOnMain).toBe(single.summary.batches);
    for (const [from, args] of [[input, ['--threads', '1']], [input, ['--threads', '2']], [`-${input}`, ['--threads', '1']]] as const) {
      const threaded = backtest(from, ...args);
      expect(threaded.alerts).toBe(single.alerts);
      expect(counts(threaded.summary)).toEqual(counts(single.summary));
    }
  }, 600_000);
});

describe('pnpm backtest with response campaigns', () => {
  it('--campaigns: the registered campaign that does not work gives the `response` alert the live detector raises', () => {
    const { posts, record } = rebuttalCampaign();
    const input = join(dir, 'rebuttal.jsonl');
    writeFileSync(input, `${posts.map((p) => JSON.stringify(p)).join('\n')}\n`);
    const campaigns = join(dir, 'campaigns.jsonl');
    writeFileSync(campaigns, `${JSON.stringify(record)}\n`);
    const lines = (r: { alerts: string }) => r.alerts.trim().split('\n').map((l) => JSON.parse(l) as { key: string; type: string });
    const with_ = lines(backtest(input, '--threads', '0', '--campaigns', campaigns));
    const without = lines(backtest(input, '--threads', '0'));
    expect(with_.filter((a) => a.key === 'campaign:inc-ghost').map((a) => a.type)).toEqual(['response']);
    expect(with_.filter((a) => a.key !== 'campaign:inc-ghost')).toEqual(without);
    // The engine's own response alerts (the official accounts answering an alerted story) are there either way.
    expect(without.some((a) => a.type === 'response' && a.key.startsWith('response:'))).toBe(true);
  }, 300_000);
});
