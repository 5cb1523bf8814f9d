import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { campaignScenario, demoPosts } from './scenarios/generate.js';

const root = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'backtest-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function backtest(input: string, ...args: string[]): { alerts: string; summary: Record<string, unknown> } {
  const out = join(dir, `out-${args.join('')}.jsonl`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/backtest.ts', '--input', input, '--out', out, '--progress-every', '0', ...args], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { alerts: readFileSync(out, 'utf8'), summary: JSON.parse(r.stderr.trim().split('\n').at(-1)!.replace(/^backtest: /, '')) as Record<string, unknown> };
}

describe('pnpm backtest on worker threads', () => {
  it('writes the same bytes and counts with --threads 0, 1 and 2 and every transfer (compact, json, clone)', () => {
    // The dying-city episode as raw posts, some enriched lines, CRLF, blank and refused lines (bad JSON,
    // a post two days ahead of the data's clock) spread over many batches.
    const lines = demoPosts().map((p) => JSON.stringify(p));
    const enriched = campaignScenario().posts.slice(0, 500).map((p) => JSON.stringify(p));
    lines.splice(3000, 0, ...enriched);
    lines.splice(100, 0, '', '{not json', JSON.stringify({ ...JSON.parse(lines[100]!), id: 'future', createdAt: '2015-10-25T00:00:00+08:00' }));
    const input = join(dir, 'posts.jsonl');
    writeFileSync(input, `${lines.join('\r\n')}\r\n`);
    const single = backtest(input, '--threads', '0');
    expect(single.alerts.split('\n').length).toBeGreaterThan(5);
    expect(single.summary).toMatchObject({ enrichedInput: 500, rejectedByReason: { not_json: 1, created_at_future: 1 } });
    const counts = ({ seconds, postsPerSecond, threads, analysisMs, detectionMs, waitMs, ...rest }: Record<string, unknown>) => rest;
    for (const args of [['--threads', '1'], ['--threads', '2'], ['--threads', '1', '--transfer', 'json'], ['--threads', '2', '--transfer', 'clone']]) {
      const threaded = backtest(input, ...args);
      expect(threaded.alerts).toBe(single.alerts);
      expect(counts(threaded.summary)).toEqual(counts(single.summary));
    }
  }, 120_000);
});
