import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tingfeng/testing';
import { EventClock, type EventClockOptions, settleByVotes } from './event-clock.js';

const MIN = 60_000;
const DAY = 86_400_000;
const OPTIONS: EventClockOptions = { maxJumpMs: 10 * MIN, confirmPosts: 4 };

/** Runs the clock over event times and settles the end as the backtest does: what was accepted, refused, the clock. */
function run(times: number[], options = OPTIONS) {
  const accepted: string[] = [];
  const refused: string[] = [];
  const order: string[] = [];
  const clocks: (number | null)[] = [];
  const clock = new EventClock<string>(options, (value, _t, ok, clockMs) => {
    order.push(value);
    (ok ? accepted : refused).push(value);
    if (ok) clocks.push(clockMs);
  });
  times.forEach((t, i) => clock.push(`p${i}`, t));
  clock.settle(settleByVotes);
  return { accepted, refused, order, clocks, clockMs: clock.clockMs, held: clock.held };
}

describe('EventClock', () => {
  it('reads a sparse history whole: weeks of silence between posts are jumps that the next posts confirm', () => {
    const t0 = Date.parse('2012-01-01T00:00:00Z');
    const times = [t0, t0 + MIN, t0 + 21 * DAY, t0 + 21 * DAY + 5_000, t0 + 60 * DAY, t0 + 200 * DAY, t0 + 200 * DAY + MIN, t0 + 300 * DAY];
    const r = run(times);
    expect(r.refused).toEqual([]);
    expect(r.order).toEqual(times.map((_, i) => `p${i}`));
    expect(r.clockMs).toBe(t0 + 300 * DAY);
  });

  it('refuses a lone far-future post (a 2999 typo) and it moves nothing', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    const times = [t0, t0 + 1_000, Date.parse('2999-10-20T08:00:00Z'), ...Array.from({ length: 10 }, (_, i) => t0 + 2_000 + i * 1_000)];
    const r = run(times);
    expect(r.refused).toEqual(['p2']);
    expect(r.accepted).toHaveLength(times.length - 1);
    // Every verdict in input order, the refused one in its place.
    expect(r.order).toEqual(times.map((_, i) => `p${i}`));
    // The clock never saw it: each accepted post's merge time is the running maximum without it.
    expect(Math.max(...(r.clocks as number[]))).toBe(t0 + 11_000);
  });

  it('refuses a post a time-zone bug puts 8 hours ahead, and still accepts a real jump right after it', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    const times = [t0, t0 + 8 * 3600_000, t0 + 1_000, t0 + 2_000, t0 + 3_000, t0 + 4_000, t0 + 3 * DAY, t0 + 3 * DAY + 1_000, t0 + 3 * DAY + 2_000];
    const r = run(times);
    expect(r.refused).toEqual(['p1']);
    expect(r.clockMs).toBe(t0 + 3 * DAY + 2_000);
  });

  it('the first post of all is voted on too, so a bogus first line cannot set the clock', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    const r = run([Date.parse('2999-01-01T00:00:00Z'), t0, t0 + 1, t0 + 2, t0 + 3]);
    expect(r.refused).toEqual(['p0']);
    expect(r.clockMs).toBe(t0 + 3);
  });

  it('lateness is not a jump: posts behind the clock, however far, are accepted and do not move it', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    const r = run([t0, t0 + MIN, t0 + 2 * MIN, t0 - 3 * DAY, t0 + 3 * MIN]);
    expect(r.refused).toEqual([]);
    expect(r.clocks).toEqual([t0, t0 + MIN, t0 + 2 * MIN, t0 + 2 * MIN, t0 + 3 * MIN]);
  });

  it('at the end of the input the votes so far decide: a lone last post stays, one its followers contradicted goes', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    expect(run([t0]).accepted).toEqual(['p0']);
    expect(run([t0, t0 + 1, t0 + 7 * DAY]).refused).toEqual([]);
    expect(run([t0, t0 + 1, t0 + 7 * DAY, t0 + 8 * DAY]).refused).toEqual([]);
    expect(run([t0, t0 + 1, t0 + 7 * DAY, t0 + 2]).refused).toEqual(['p2']);
  });

  it('two bogus posts close together cannot vouch for each other: the posts around them outvote both', () => {
    const t0 = Date.parse('2013-10-08T01:30:00Z');
    const times = [t0, t0 + 1_000, Date.parse('2016-12-23T01:31:18Z'), t0 + 2_000, Date.parse('2017-02-22T01:31:42Z'), ...Array.from({ length: 8 }, (_, i) => t0 + 3_000 + i)];
    expect(run(times).refused).toEqual(['p2', 'p4']);
  });

  it('a jump is decided as soon as the vote is won: half the voters consistent accept it, more than half earlier refuse it', () => {
    const t0 = Date.parse('2015-10-20T08:00:00Z');
    const verdicts: [number, boolean][] = [];
    const clock = new EventClock<number>(OPTIONS, (v, _t, ok) => verdicts.push([v, ok]), t0);
    clock.push(0, t0 + DAY);
    clock.push(1, t0 + DAY + 1);
    expect(clock.held).toBe(2);
    expect(clock.heldJump()).toEqual({ eventTimeMs: t0 + DAY, consistent: 1, contradicting: 0 });
    clock.push(2, t0 + DAY + 2);
    // Two of the four voters consistent: accepted, and the posts after it read again.
    expect(clock.held).toBe(0);
    expect(verdicts).toEqual([[0, true], [1, true], [2, true]]);
    clock.push(3, t0 + 9 * DAY);
    for (const v of [4, 5]) clock.push(v, t0 + DAY + v);
    expect(clock.held).toBe(3);
    clock.push(6, t0 + DAY + 6);
    // Three of four earlier: refused.
    expect(clock.held).toBe(0);
    expect(verdicts.slice(3)).toEqual([[3, false], [4, true], [5, true], [6, true]]);
    expect(clock.clockMs).toBe(t0 + DAY + 6);
  });

  it('live, a jump within the jump of its own receipt time is current and accepted at once; a future one is voted on', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    const clock = new EventClock<string>(OPTIONS, () => undefined, now - 3600_000);
    // The partition's clock is an hour old (it was quiet); the post is current.
    clock.push('current', now, now + 2_000);
    expect(clock.held).toBe(0);
    expect(clock.clockMs).toBe(now);
    clock.push('a day ahead', now + DAY - MIN, now + 3_000);
    expect(clock.held).toBe(1);
  });

  it('on random streams with outliers: every post gets one verdict in input order, outliers are refused, honest posts never', () => {
    const random = seededRandom(5);
    for (let round = 0; round < 50; round++) {
      const honest: boolean[] = [];
      const times: number[] = [];
      let t = Date.parse('2013-01-01T00:00:00Z');
      for (let i = 0; i < 400; i++) {
        const r = random();
        // Mostly seconds apart, sometimes a quiet day or month, a few posts late by minutes, rare outliers years ahead.
        // An outlier is never last: nothing would follow to contradict it.
        if (r < 0.03 && i > 0 && i < 399) {
          times.push(t + (1000 + Math.floor(random() * 500)) * DAY);
          honest.push(false);
          continue;
        }
        t += r < 0.06 ? Math.floor(random() * 40) * DAY : Math.floor(random() * 30_000);
        times.push(random() < 0.1 ? t - Math.floor(random() * 20 * MIN) : t);
        honest.push(true);
      }
      const r = run(times);
      expect(r.order).toEqual(times.map((_, i) => `p${i}`));
      const refused = new Set(r.refused);
      for (let i = 0; i < times.length; i++) expect(refused.has(`p${i}`), `p${i}`).toBe(!honest[i]);
    }
  });
});
