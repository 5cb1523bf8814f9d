import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'eval-ced-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2013, 4, 1, 2);

/** Raw posts: a root by an account of `followers` and `n` reposts, `gapS` seconds apart. */
function cascadeLines(rootId: string, followers: number, n: number, gapS: number, startMs: number): string[] {
  const lines = [JSON.stringify({ id: rootId, text: `原帖${rootId} 城市新闻`, createdAt: new Date(startMs).toISOString(), author: { id: `u${rootId}`, followers }, platform: 'weibo' })];
  for (let i = 1; i <= n; i++) {
    lines.push(JSON.stringify({ id: `${rootId}r${i}`, text: i % 3 === 0 ? '转发微博' : '', createdAt: new Date(startMs + i * gapS * 1000).toISOString(), author: { id: `${rootId}a${i}` }, rootId, parentId: rootId, platform: 'weibo' }));
  }
  return lines;
}

describe('pnpm eval:ced', () => {
  it('runs the backtest over a file and scores its alerts beside the fixed baselines, on all cascades and on each half', () => {
    // One explosive cascade (a repost every 6 s: 600 an hour), one that stays quiet (a repost every 10 min).
    const lines = [...cascadeLines('boom', 50_000, 400, 6, T0), ...cascadeLines('calm', 300, 12, 600, T0 + 3 * 3600_000)];
    const input = join(dir, 'posts.jsonl');
    writeFileSync(input, `${lines.sort((a, b) => (JSON.parse(a).createdAt < JSON.parse(b).createdAt ? -1 : 1)).join('\n')}\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/eval-ced.ts', '--input', input, '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: { rule: string; split: string; score: Record<string, number | null> }[] };
    const row = (rule: string, split = 'all') => out.rows.find((x) => x.rule.startsWith(rule) && x.split === split)!.score;
    expect(row('detector')).toMatchObject({ cascades: 2, viral: 1, explosive: 1, quiet: 1, anyRecall100: 1, quietAlerted: 0 });
    expect(row('any alert at 50/h')).toMatchObject({ anyRecall100: 1, quietAlerted: 0 });
    // 250 in the trailing hour comes at the 250th repost, 300 at the 300th: 50 reposts × 6 s = 5 min of lead.
    expect(row('critical at 250/h')).toMatchObject({ criticalRecall300: 1, criticalPrecision300: 1, medianLeadMin: 5 });
    const halves = ['fit', 'held'].map((split) => row('detector', split).cascades);
    expect(halves[0]! + halves[1]!).toBe(2);
  }, 120_000);
});
