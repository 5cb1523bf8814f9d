import type { Incident } from '@tingfeng/contracts';
import type { RoutesConfig, Silence } from '@tingfeng/contracts';
import { matchesIncident } from './matcher.js';

/** One escalation level: notify `channels` if the incident is still triggered `afterMs` after it opened. */
export interface EscalationLevel {
  afterMs: number;
  channels: string[];
}

export interface RouteDecision {
  /** Channel ids, de-duplicated, in rule order. */
  channels: string[];
  /** Ids of the rules that matched; empty when the default applied. */
  ruleIds: string[];
  /** The escalation chain: that of the first matching rule that has one, else the default chain. */
  escalation: EscalationLevel[];
}

/**
 * Routes an incident. Rules are tried in order; a match adds its channels and stops the walk unless it says
 * `continue`. No match sends to `defaultChannels`. With no routes configured at all, `fallbackChannels` apply
 * (the `default` webhook from the environment).
 */
export function routeIncident(
  routes: RoutesConfig | undefined,
  incident: Incident,
  fallback: { channels: string[]; escalation: EscalationLevel[] },
): RouteDecision {
  if (!routes) return { channels: [...fallback.channels], ruleIds: [], escalation: fallback.escalation };
  const channels = new Set<string>();
  const ruleIds: string[] = [];
  let escalation: EscalationLevel[] | undefined;
  for (const rule of routes.rules) {
    if (!matchesIncident(rule.match, incident)) continue;
    ruleIds.push(rule.id);
    for (const c of rule.channels) channels.add(c);
    if (!escalation && rule.escalation && rule.escalation.length > 0) escalation = rule.escalation.map((l) => ({ afterMs: l.afterMs, channels: [...l.channels] }));
    if (!rule.continue) break;
  }
  if (ruleIds.length === 0) for (const c of routes.defaultChannels ?? []) channels.add(c);
  // Levels fire in order of their delay, whatever order they were written in.
  const chain = (escalation ?? fallback.escalation).slice().sort((a, b) => a.afterMs - b.afterMs);
  return { channels: [...channels], ruleIds, escalation: chain };
}

/** The default chain from the environment: level n after n × `afterMs`. */
export function defaultEscalation(levels: string[][], afterMs: number): EscalationLevel[] {
  return levels.map((channels, i) => ({ afterMs: afterMs * (i + 1), channels }));
}

/** The first active silence matching the incident at wall time `nowMs`, if any. */
export function activeSilence(silences: readonly Silence[], incident: Incident, nowMs: number): Silence | undefined {
  return silences.find((s) => {
    const startsAtMs = s.startsAt ? Date.parse(s.startsAt) : Number.NEGATIVE_INFINITY;
    const endsAtMs = Date.parse(s.endsAt);
    return nowMs >= startsAtMs && nowMs < endsAtMs && matchesIncident(s.matcher, incident);
  });
}
