import { describe, expect, it } from 'vitest';
import { allScenarios, runScenario, type ScenarioScore } from '@tingfeng/detect';
import { analyzeScenarios } from '../../scripts/lib/scenario-analysis.js';

const generated = allScenarios();
const paths: [string, ScenarioScore[]][] = [
  // As in production: every post through the real analyzer (jieba, dictionary, spam rules, sentiment) first.
  ['through the analyzer', analyzeScenarios(generated).map((s) => runScenario(s))],
  // The detectors alone, on the generator's own tokens and flags.
  ['on generated tokens', generated.map((s) => runScenario(s))],
];

describe.each(paths)('eval targets on the labelled scenarios, %s', (_path, scores) => {
  it.each(scores.map((s) => [s.scenario, s] as const))('%s: every injected event is detected within 10 minutes of onset', (_name, s) => {
    expect(s.detected).toBe(s.required);
    for (const [event, delay] of Object.entries(s.delaysMin)) {
      expect(delay, event).not.toBeNull();
      expect(delay!, event).toBeLessThanOrEqual(10);
    }
  });

  it('raises no alert on spam', () => {
    const spam = scores.find((s) => s.scenario === 'spam-burst')!;
    expect(spam.quietViolations).toBe(0);
    expect(spam.alerts).toBe(0);
  });

  it('never alerts on a slow post that does not go viral', () => {
    expect(scores.find((s) => s.scenario === 'slow-post')!.quietViolations).toBe(0);
  });

  it.each(scores.map((s) => [s.scenario, s] as const))('%s: at most one false story alert per simulated day', (_name, s) => {
    expect(s.falseStoryAlertsPerDay).toBeLessThanOrEqual(1);
  });

  it('alerts on a daily recurring peak on its first day at most', () => {
    expect(scores.find((s) => s.scenario === 'daily-peak')!.dailyRepeatAlerts).toBe(0);
  });

  it('calls critical cascades that are really in the top tenth, before their peak', () => {
    const calls = scores.reduce((n, s) => n + s.criticalCalls, 0);
    const right = scores.reduce((n, s) => n + s.criticalCorrect, 0);
    expect(calls).toBeGreaterThan(0);
    expect(right / calls).toBeGreaterThanOrEqual(0.5);
    for (const s of scores) for (const lead of s.criticalLeadMin) expect(lead).toBeGreaterThan(0);
  });
});
