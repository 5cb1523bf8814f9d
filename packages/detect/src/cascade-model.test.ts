import type { Alert } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROWTH_MODEL, fitLinear, forecastPeak, growthFeatures, normalCdf } from './cascade-model.js';
import { resolveConfig, type DetectorConfig } from './config.js';
import { createDetectorEngine } from './engine.js';
import { enrichedPost } from './testing.js';

const T0 = Date.parse('2013-03-01T08:00:00Z');
const MIN = 60_000;

describe('cascade growth model', () => {
  it('fitLinear recovers the weights and the residual spread of a linear model', () => {
    const xs: number[][] = [];
    const ys: number[] = [];
    for (let i = 0; i < 400; i++) {
      const a = (i % 20) / 5;
      const b = Math.floor(i / 20) / 7;
      xs.push([1, a, b]);
      ys.push(0.5 + 2 * a - b + (i % 2 === 0 ? 0.1 : -0.1));
    }
    const m = fitLinear(xs, ys, new Array<number>(xs.length).fill(1), 0);
    expect(m.weights[0]).toBeCloseTo(0.5, 1);
    expect(m.weights[1]).toBeCloseTo(2, 1);
    expect(m.weights[2]).toBeCloseTo(-1, 1);
    expect(m.sigma).toBeCloseTo(0.1, 1);
  });

  it('forecasts a median inside its 80 % interval, and a probability of the level that grows with the rate', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.2815515655446004)).toBeCloseTo(0.9, 5);
    const at = (perMin: number) => {
      const curve: [number, number][] = [];
      for (let m = 0; m < 60; m++) curve.push([Math.floor(T0 / MIN) + m, perMin]);
      const { x, hour } = growthFeatures({ curve, bucketMs: MIN, nowMs: T0 + 59 * MIN, startMs: T0, followers: 100_000 });
      return { hour, f: forecastPeak(DEFAULT_GROWTH_MODEL, x, 300) };
    };
    const slow = at(1);
    const fast = at(4);
    expect(slow.hour).toBe(60);
    expect(fast.hour).toBe(240);
    for (const { f } of [slow, fast]) {
      expect(f.low).toBeLessThan(f.median);
      expect(f.median).toBeLessThan(f.high);
    }
    expect(slow.f.pLevel).toBeLessThan(0.01);
    expect(fast.f.pLevel).toBeGreaterThan(slow.f.pLevel);
  });
});

describe('cascade detector with the growth model', () => {
  /** A root, then `perMin(m)` reposts a minute for `minutes`. */
  const run = (perMin: (m: number) => number, minutes: number): Alert[] => {
    const engine = createDetectorEngine();
    const out: Alert[] = [];
    out.push(...engine.process(enrichedPost({ id: 'root', createdAtMs: T0, author: { id: 'big', name: '大V', followers: 5_000_000 }, ownText: '一条会被转发很多的帖子' })));
    let n = 0;
    for (let m = 0; m < minutes; m++) {
      const k = perMin(m);
      for (let i = 0; i < k; i++) out.push(...engine.process(enrichedPost({ id: `r${n++}`, createdAtMs: T0 + m * MIN + Math.floor((i * MIN) / k), rootId: 'root', parentId: 'root', ownText: '' })));
    }
    return out.filter((a) => a.type === 'cascade');
  };

  it('calls critical before the trailing hour reaches the level, stating the forecast it made', () => {
    // Accelerating: 1 a minute, one more every 6 minutes, up to 15 a minute.
    const alerts = run((m) => Math.min(15, 1 + Math.floor(m / 6)), 120);
    const critical = alerts.find((a) => a.severity === 'critical');
    expect(critical).toBeDefined();
    expect(critical!.observed).toBeLessThan(300);
    const f = critical!.forecast as { peakPerHour: number; low: number; high: number; pLevel: number; level: number; interval: number };
    expect(f.level).toBe(300);
    expect(f.pLevel).toBeGreaterThanOrEqual(0.75);
    expect(f.low).toBeLessThan(f.peakPerHour);
    expect(f.high).toBeGreaterThan(f.peakPerHour);
    expect(f.interval).toBe(0.8);
    expect(critical!.expected).toBe(f.peakPerHour);
    expect(new Set(alerts.map((a) => a.key))).toEqual(new Set(['cascade:root']));
  });

  it('never alerts a cascade whose trailing hour stays under 30, whatever the root’s reach', () => {
    expect(run((m) => (m % 3 === 0 ? 1 : 0), 600)).toEqual([]);
  });

});

describe('cascade settings', () => {
  it('loads a config written for the detector before the growth model (its settings ignored), and checks the probabilities', () => {
    const old = { cascadeMinChildren: 20, cascadeReachRate: 1e-5, cascadeCriticalVelocity: 20 } as unknown as Partial<DetectorConfig>;
    expect(resolveConfig(old).cascadeCriticalPerHour).toBe(300);
    expect(() => resolveConfig({ cascadeForecastProbability: 1 })).toThrow(/cascadeForecastProbability/);
    expect(() => resolveConfig({ cascadeWarningProbability: 0 })).toThrow(/cascadeWarningProbability/);
    expect(resolveConfig({ sensitivity: 2 }).cascadeCriticalPerHour).toBe(150);
  });
});
