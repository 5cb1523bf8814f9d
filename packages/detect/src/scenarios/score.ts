import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import type { DetectorConfig } from '../config.js';
import { createDetectorEngine } from '../engine.js';
import type { LabelledEvent, Scenario } from './generate.js';

/** One scenario's scores. */
export interface ScenarioScore {
  scenario: string;
  days: number;
  posts: number;
  alerts: number;
  alertsByType: Record<string, number>;
  /** Labelled events that must alert, and how many did. */
  required: number;
  detected: number;
  recall: number;
  /** Alerts explained by some labelled event / all alerts (1 when there are none). */
  precision: number;
  /** Per required event: minutes from onset to the first alert of an accepted type (null: missed). */
  delaysMin: Record<string, number | null>;
  falseAlarms: number;
  falseAlarmsPerDay: number;
  falseStoryAlertsPerDay: number;
  /** Alerts on `quiet` events (spam, the slow post). */
  quietViolations: number;
  /** Alerts on a `daily` event after its first day. */
  dailyRepeatAlerts: number;
  /** Cascade `critical` calls, how many were right (top tenth by peak velocity), and the lead time before the peak. */
  criticalCalls: number;
  criticalCorrect: number;
  criticalLeadMin: number[];
  alertList: Alert[];
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** An alert is explained by an event when at least a fifth of its evidence belongs to it. */
function explains(event: LabelledEvent, alert: Alert): boolean {
  if (alert.postIds.length === 0) return false;
  let n = 0;
  for (const id of alert.postIds) if (event.postIds.has(id)) n++;
  return n >= Math.max(1, 0.2 * alert.postIds.length);
}

/** Runs a fresh engine over the scenario's posts (arrival order) and scores the alerts. */
export function runScenario(scenario: Scenario, config: Partial<DetectorConfig> = {}): ScenarioScore {
  const engine = createDetectorEngine(config);
  const alerts: Alert[] = [];
  for (const post of scenario.posts) alerts.push(...engine.process(post));
  alerts.push(...engine.flush());
  return scoreScenario(scenario, alerts);
}

export function scoreScenario(scenario: Scenario, alerts: Alert[]): ScenarioScore {
  const days = (scenario.endMs - scenario.startMs) / DAY;
  const delaysMin: Record<string, number | null> = {};
  let required = 0;
  let detected = 0;
  let quietViolations = 0;
  let dailyRepeatAlerts = 0;
  const explained = new Set<Alert>();
  for (const event of scenario.events) {
    const mine = alerts.filter((a) => explains(event, a));
    for (const a of mine) explained.add(a);
    if (event.expect === 'alert') {
      required++;
      const hits = mine.filter((a) => event.types.includes(a.type)).map((a) => Date.parse(a.at));
      const first = hits.length ? Math.min(...hits) : null;
      delaysMin[event.id] = first === null ? null : Math.round(((first - event.onsetMs[0]!) / MINUTE) * 10) / 10;
      if (first !== null) detected++;
    } else if (event.expect === 'quiet') {
      quietViolations += mine.length;
    } else if (event.expect === 'daily') {
      const firstDayEnd = event.onsetMs[0]! + DAY / 2;
      dailyRepeatAlerts += mine.filter((a) => Date.parse(a.at) > firstDayEnd).length;
    }
  }
  // Quiet and repeat-daily alerts are explained but wrong: they count against precision.
  const wrongButExplained = quietViolations + dailyRepeatAlerts;
  const falseAlerts = alerts.filter((a) => !explained.has(a));
  const truthTop = topTenthCascades(scenario.posts);
  const critical = new Map<string, Alert>();
  for (const a of alerts) if (a.type === 'cascade' && a.severity === 'critical' && a.rootId && !critical.has(a.rootId)) critical.set(a.rootId, a);
  const leads: number[] = [];
  let correct = 0;
  for (const [rootId, a] of critical) {
    const truth = truthTop.get(rootId);
    if (truth === undefined) continue;
    correct++;
    leads.push(Math.round(((truth - Date.parse(a.at)) / MINUTE) * 10) / 10);
  }
  const byType: Record<string, number> = {};
  for (const a of alerts) byType[a.type] = (byType[a.type] ?? 0) + 1;
  return {
    scenario: scenario.name,
    days,
    posts: scenario.posts.length,
    alerts: alerts.length,
    alertsByType: byType,
    required,
    detected,
    recall: required === 0 ? 1 : detected / required,
    precision: alerts.length === 0 ? 1 : (alerts.length - falseAlerts.length - wrongButExplained) / alerts.length,
    delaysMin,
    falseAlarms: falseAlerts.length + wrongButExplained,
    falseAlarmsPerDay: (falseAlerts.length + wrongButExplained) / days,
    falseStoryAlertsPerDay: falseAlerts.filter((a) => a.type === 'story').length / days,
    quietViolations,
    dailyRepeatAlerts,
    criticalCalls: critical.size,
    criticalCorrect: correct,
    criticalLeadMin: leads,
    alertList: alerts,
  };
}

/**
 * The truth for `critical`: cascades (≥ 5 children) in the top tenth by peak velocity, measured
 * as the most children in any 5-minute window. Returns root id → event time of its peak.
 */
export function topTenthCascades(posts: readonly EnrichedPost[]): Map<string, number> {
  const byRoot = new Map<string, number[]>();
  for (const p of posts) {
    if (p.spam || p.rootId === undefined) continue;
    let list = byRoot.get(p.rootId);
    if (!list) byRoot.set(p.rootId, (list = []));
    list.push(p.createdAtMs);
  }
  const peaks: { root: string; peak: number; at: number }[] = [];
  for (const [root, times] of byRoot) {
    if (times.length < 5) continue;
    times.sort((a, b) => a - b);
    let best = 0;
    let at = times[0]!;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 5 * MINUTE) j++;
      if (i - j + 1 > best) {
        best = i - j + 1;
        at = times[i]!;
      }
    }
    peaks.push({ root, peak: best, at });
  }
  peaks.sort((a, b) => b.peak - a.peak);
  const top = new Map<string, number>();
  for (const p of peaks.slice(0, Math.max(1, Math.ceil(peaks.length / 10)))) top.set(p.root, p.at);
  return top;
}
