import { describe, expect, it } from 'vitest';
import type { Alert, IncidentEvent } from '@tingfeng/contracts';
import { AUTO_RESOLVE_ACTOR, CommandRejectedError, decideAutoResolve, decideCommand } from './commands.js';
import { incidentDetail, seriesOf } from './detail.js';
import { decide, incidentIdFor } from './grouping.js';
import { applyEvent, type IncidentView } from './incident-view.js';

const alert = (id: string, severity: Alert['severity'], extra: Partial<Alert> = {}): Alert => ({
  id,
  key: 'cascade:3900000000000001',
  type: 'cascade',
  at: '2015-10-20T02:00:00.000Z',
  severity,
  title: '「昆明是一座正在死去的城市」正在扩散',
  terms: ['昆明', '死去'],
  postIds: ['3900000000000001'],
  ...extra,
});

/** Feeds alerts through decide → applyEvent the way the service does, keeping the open incident per key. */
function run(alerts: Alert[], startMs = Date.parse('2024-05-01T00:00:00Z')) {
  const views = new Map<string, IncidentView>();
  const openByKey = new Map<string, string>();
  const log: IncidentEvent[] = [];
  let nowMs = startMs;
  const apply = (events: IncidentEvent[]) => {
    for (const e of events) {
      log.push(e);
      const { view } = applyEvent(views.get(e.incidentId), e);
      if (!view) continue;
      views.set(view.id, view);
      if (view.status === 'resolved') openByKey.delete(view.key);
      else openByKey.set(view.key, view.id);
    }
  };
  const feed = (a: Alert) => {
    nowMs += 60_000;
    const openId = openByKey.get(a.key);
    const d = decide(openId ? views.get(openId) : undefined, a, new Date(nowMs).toISOString());
    apply(d.events);
    return d;
  };
  for (const a of alerts) feed(a);
  return { views, openByKey, log, feed, apply, now: () => nowMs };
}

describe('grouping alerts into incidents', () => {
  it('opens one incident per key and appends later alerts to it', () => {
    const { views, log } = run([alert('a1', 'info'), alert('a2', 'info'), alert('a3', 'warning')]);
    expect(views.size).toBe(1);
    const [incident] = [...views.values()];
    expect(incident?.id).toBe(incidentIdFor('cascade:3900000000000001', 'a1'));
    expect(incident?.alerts.map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
    expect(incident?.status).toBe('triggered');
    expect(log.map((e) => e.kind)).toEqual(['opened', 'alert_appended', 'alert_appended']);
  });

  it('raises the severity and never lowers it', () => {
    const { views, log } = run([alert('a1', 'warning'), alert('a2', 'critical'), alert('a3', 'info')]);
    const [incident] = [...views.values()];
    expect(incident?.severity).toBe('critical');
    expect(log[1]?.data).toMatchObject({ severity: 'critical', previousSeverity: 'warning' });
    expect(log[2]?.data).toMatchObject({ severity: 'critical' });
    expect(log[2]?.data).not.toHaveProperty('previousSeverity');
  });

  it('ignores an alert the incident already holds', () => {
    const r = run([alert('a1', 'info')]);
    const d = r.feed(alert('a1', 'critical'));
    expect(d.outcome).toBe('duplicate');
    expect(d.events).toEqual([]);
  });

  it('different keys make different incidents', () => {
    const { views } = run([alert('a1', 'info'), alert('b1', 'info', { key: 'story:昆明|死去', type: 'story' })]);
    expect(views.size).toBe(2);
  });

  it('goes triggered → acknowledged → resolved; the same key then opens a new incident', () => {
    const r = run([alert('a1', 'warning')]);
    const first = [...r.views.values()][0]!;
    const ctx = { actor: 'oncall#5f2c0a1e', nowIso: '2024-05-01T01:00:00.000Z', newId: () => 'x' };
    r.apply(decideCommand(first, { kind: 'acknowledge' }, ctx));
    expect(r.views.get(first.id)?.status).toBe('acknowledged');
    expect(r.views.get(first.id)?.acknowledgedBy).toBe('oncall#5f2c0a1e');
    expect(decideCommand(r.views.get(first.id)!, { kind: 'acknowledge' }, ctx)).toEqual([]);
    r.apply(decideCommand(r.views.get(first.id)!, { kind: 'resolve' }, { ...ctx, newId: () => 'y' }));
    expect(r.views.get(first.id)?.status).toBe('resolved');
    expect(() => decideCommand(r.views.get(first.id)!, { kind: 'acknowledge' }, ctx)).toThrow(CommandRejectedError);

    const d = r.feed(alert('a2', 'info'));
    expect(d.outcome).toBe('opened');
    expect(d.incidentId).not.toBe(first.id);
    expect(r.views.size).toBe(2);
    expect(r.views.get(first.id)?.alerts).toHaveLength(1);
  });

  it('applying an event twice changes nothing (replay safety)', () => {
    const r = run([alert('a1', 'info'), alert('a2', 'critical')]);
    const before = structuredClone([...r.views.values()][0]);
    const again = applyEvent(before, r.log[1]!);
    expect(again.outcome).toBe('duplicate');
    expect(again.view).toEqual(before);
    // A second `opened` for an existing incident (a retried job) is a duplicate too.
    expect(applyEvent(before, { ...r.log[0]!, eventId: 'other' }).outcome).toBe('duplicate');
  });

  it('rebuilding from the log gives the same view', () => {
    const r = run([alert('a1', 'info'), alert('a2', 'critical'), alert('a3', 'warning')]);
    const id = [...r.views.keys()][0]!;
    r.apply(decideCommand(r.views.get(id)!, { kind: 'note', text: '已通知宣传部' }, { actor: 'analyst#0b7d3c29', nowIso: '2024-05-01T02:00:00.000Z', newId: () => 'n' }));
    let rebuilt: IncidentView | undefined;
    for (const e of r.log) rebuilt = applyEvent(rebuilt, e).view;
    expect(rebuilt).toEqual(r.views.get(id));
    expect(rebuilt?.timeline.map((e) => e.kind)).toEqual(['opened', 'alert_appended', 'alert_appended', 'note_added']);
    // The timeline references alerts by id rather than copying them.
    expect(rebuilt?.timeline[0]?.data).toEqual({ alertId: 'a1', severity: 'info' });
  });

  it('resolves itself after the quiet period of wall time since the last alert, and says so', () => {
    const r = run([alert('a1', 'warning')]);
    const view = [...r.views.values()][0]!;
    const lastMs = Date.parse(view.lastAlertAt);
    expect(decideAutoResolve(view, lastMs + 59_999, 60_000)).toEqual([]);
    const events = decideAutoResolve(view, lastMs + 60_000, 60_000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'resolved', actor: AUTO_RESOLVE_ACTOR, data: { auto: true } });
    r.apply(events);
    expect(r.views.get(view.id)).toMatchObject({ status: 'resolved', resolvedBy: AUTO_RESOLVE_ACTOR });
    expect(decideAutoResolve(r.views.get(view.id)!, lastMs + 120_000, 60_000)).toEqual([]);
  });

  it('a new alert restarts the quiet period', () => {
    const r = run([alert('a1', 'warning')]);
    const id = [...r.views.keys()][0]!;
    const firstMs = Date.parse(r.views.get(id)!.lastAlertAt);
    r.feed(alert('a2', 'warning'));
    expect(decideAutoResolve(r.views.get(id)!, firstMs + 60_000, 60_000)).toEqual([]);
  });
});

describe('incident detail', () => {
  it('collects evidence, volume and the growth curve from the alerts', () => {
    const r = run([
      alert('a1', 'info', { observed: 12, expected: 2, postIds: ['p1', 'p2'], samples: [{ id: 'p1', text: '昆明是一座正在死去的城市' }] }),
      alert('a2', 'warning', {
        at: '2015-10-20T02:10:00.000Z',
        observed: 40,
        expected: 2,
        postIds: ['p2', 'p3'],
        curve: { bucketMs: 60_000, start: '2015-10-20T01:50:00.000Z', counts: [1, 3, 9, 27] },
      }),
    ]);
    const d = incidentDetail([...r.views.values()][0]!);
    expect(d.postIds).toEqual(['p1', 'p2', 'p3']);
    expect(d.samples).toEqual([{ id: 'p1', text: '昆明是一座正在死去的城市' }]);
    expect(d.volume.map((v) => [v.observed, v.expected])).toEqual([
      [12, 2],
      [40, 2],
    ]);
    expect(d.series).toHaveLength(1);
    expect(d.series[0]).toMatchObject({ field: 'curve', alertId: 'a2', xIsTime: true });
    expect(d.series[0]?.points.map((p) => p.y)).toEqual([1, 3, 9, 27]);
    expect(d.terms).toEqual(['昆明', '死去']);
  });

  it('reads the other series shapes', () => {
    expect(seriesOf([1, 2, 3])?.points).toEqual([
      { x: 0, y: 1 },
      { x: 1, y: 2 },
      { x: 2, y: 3 },
    ]);
    expect(seriesOf([{ at: '2015-10-20T02:00:00Z', count: 4 }, { at: '2015-10-20T02:01:00Z', count: 5 }])?.xIsTime).toBe(true);
    expect(seriesOf([[0, 1], [1, 2]])?.points).toHaveLength(2);
    expect(seriesOf(['a', 'b'])).toBeUndefined();
    expect(seriesOf(3)).toBeUndefined();
  });
});
