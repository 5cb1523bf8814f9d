import { describe, expect, it } from 'vitest';
import type { RoutesConfig, Silence } from '@tingfeng/contracts';
import { sampleIncident } from '@tingfeng/channels/testing';
import { matchesIncident } from './matcher.js';
import { quietUntilMs } from './quiet-hours.js';
import { activeSilence, defaultEscalation, routeIncident } from './routes.js';

const incident = sampleIncident(); // story, critical, terms 昆明 城市 死去 没落
const fallback = { channels: ['default'], escalation: defaultEscalation([['lead'], ['director']], 1000) };

describe('matchesIncident', () => {
  it('every given field must match; terms need one in common', () => {
    expect(matchesIncident({}, incident)).toBe(true);
    expect(matchesIncident({ types: ['story'], minSeverity: 'warning', terms: ['鬼城', '昆明'] }, incident)).toBe(true);
    expect(matchesIncident({ types: ['cascade'] }, incident)).toBe(false);
    expect(matchesIncident({ terms: ['天气'] }, incident)).toBe(false);
    expect(matchesIncident({ minSeverity: 'critical' }, sampleIncident({ severity: 'warning' }))).toBe(false);
    expect(matchesIncident({ severities: ['info', 'warning'] }, incident)).toBe(false);
  });
  it('regions come from the alerts; schemes from incident and alerts', () => {
    const withRegion = sampleIncident({ alerts: [{ ...incident.alerts[0]!, region: '云南', schemes: ['昆明城市形象'] } as never] });
    expect(matchesIncident({ regions: ['云南'] }, withRegion)).toBe(true);
    expect(matchesIncident({ regions: ['四川'] }, withRegion)).toBe(false);
    expect(matchesIncident({ schemes: ['昆明城市形象'] }, withRegion)).toBe(true);
    expect(matchesIncident({ schemes: ['滇池', '昆明城市形象'] }, withRegion)).toBe(true);
    expect(matchesIncident({ schemes: ['滇池'] }, withRegion)).toBe(false);
    expect(matchesIncident({ schemes: ['滇池'] }, incident)).toBe(false);
    expect(matchesIncident({ schemes: ['滇池'] }, sampleIncident({ schemes: ['滇池'] }))).toBe(true);
  });
});

describe('routeIncident', () => {
  const routes: RoutesConfig = {
    rules: [
      { id: 'critical', match: { minSeverity: 'critical' }, channels: ['wecom-duty', 'hook'], continue: true, escalation: [{ afterMs: 600_000, channels: ['director'] }, { afterMs: 300_000, channels: ['lead'] }] },
      { id: 'kunming', match: { terms: ['昆明'] }, channels: ['dingtalk-city', 'hook'] },
      { id: 'never', match: {}, channels: ['unreached'] },
    ],
    defaultChannels: ['catch-all'],
  };
  it('walks rules in order, continues only when told, de-duplicates channels', () => {
    const d = routeIncident(routes, incident, fallback);
    expect(d.channels).toEqual(['wecom-duty', 'hook', 'dingtalk-city']);
    expect(d.ruleIds).toEqual(['critical', 'kunming']);
    expect(d.escalation).toEqual([
      { afterMs: 300_000, channels: ['lead'] },
      { afterMs: 600_000, channels: ['director'] },
    ]);
  });
  it('no match goes to defaultChannels with the default escalation', () => {
    const d = routeIncident({ rules: [routes.rules[0]!], defaultChannels: ['catch-all'] }, sampleIncident({ severity: 'info' }), fallback);
    expect(d.channels).toEqual(['catch-all']);
    expect(d.escalation).toEqual(fallback.escalation);
  });
  it('no routes at all: the environment default', () => {
    expect(routeIncident(undefined, incident, fallback).channels).toEqual(['default']);
  });
});

describe('activeSilence', () => {
  const nowMs = Date.parse('2015-10-20T02:00:00Z');
  const silence = (s: Partial<Silence>): Silence => ({ id: 's', matcher: { keys: [incident.key] }, endsAt: '2015-10-20T03:00:00Z', ...s });
  it('matches within its window only', () => {
    expect(activeSilence([silence({})], incident, nowMs)?.id).toBe('s');
    expect(activeSilence([silence({ endsAt: '2015-10-20T01:59:59Z' })], incident, nowMs)).toBeUndefined();
    expect(activeSilence([silence({ startsAt: '2015-10-20T02:30:00Z' })], incident, nowMs)).toBeUndefined();
    expect(activeSilence([silence({ matcher: { types: ['cascade'] } })], incident, nowMs)).toBeUndefined();
  });
});

describe('quietUntilMs', () => {
  const at = (iso: string) => Date.parse(iso);
  const quiet = { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' };
  it('spans midnight in the given zone and says when it ends', () => {
    expect(quietUntilMs(quiet, at('2015-10-20T15:30:00Z'))).toBe(at('2015-10-20T23:00:00Z')); // 23:30 Beijing
    expect(quietUntilMs(quiet, at('2015-10-20T20:00:00Z'))).toBe(at('2015-10-20T23:00:00Z')); // 04:00
    expect(quietUntilMs(quiet, at('2015-10-20T02:00:00Z'))).toBeUndefined(); // 10:00
    expect(quietUntilMs(quiet, at('2015-10-20T23:00:00Z'))).toBeUndefined(); // 07:00 sharp: over
  });
  it('a same-day window', () => {
    expect(quietUntilMs({ start: '12:00', end: '13:30' }, at('2015-10-20T04:10:20Z'))).toBe(at('2015-10-20T05:30:00Z'));
  });
});
